"""Real clients against a real server: npm ``graphql-ws`` and ``subscriptions-transport-ws``
receive subscription events, npm ``graphql-http``'s ``auditServer`` finds nothing to complain
about, and GraphiQL (vendored assets) runs a query in headless Chromium with every
non-loopback host blocked.

The server is uvicorn on 127.0.0.1 in this test's event loop; the clients are Node 20 scripts in
``tests/clients`` (installed by ``npm ci`` from the committed lockfile, cached in ``~/.npm``).
Chromium comes from ``scripts/ensure-chromium.sh`` (``/usr/bin/chromium``).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from api_support import SETTINGS, delta_event, publish_until, running_server

from api.app import create_app
from kg.events.base import EventBus
from kg.service import GraphService
from kg.stores.base import GraphStore

if TYPE_CHECKING:
    from conftest import Demo

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
NODE_TIMEOUT = 90.0
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SUBSCRIPTION = """subscription($repo: String) {
  graphChanged(repo: $repo) { repo added kinds } }"""


@pytest.fixture(scope="session")
def node_clients() -> Path:
    """``tests/clients`` with its node_modules installed exactly as the lockfile says."""
    assert shutil.which("node") and shutil.which("npm"), "Node 20 and npm are needed"
    stamp = CLIENTS / "node_modules" / ".package-lock.json"
    lock = CLIENTS / "package-lock.json"
    if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            ["npm", "ci", "--prefer-offline", "--no-audit", "--no-fund"],
            cwd=CLIENTS,
            check=True,
            capture_output=True,
            timeout=600,
        )
    return CLIENTS


async def run_node(script: str, *args: str) -> dict[str, Any]:
    """Run a client script; its last stdout line is its JSON report."""
    proc = await asyncio.create_subprocess_exec(
        "node",
        str(CLIENTS / script),
        *args,
        cwd=CLIENTS,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), NODE_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, f"{script} exited {proc.returncode}: {err.decode()[-3000:]}"
    report: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    report["stderr"] = err.decode()
    return report


async def _subscribe_with(
    script: str, demo_store: GraphStore, bus: EventBus, demo: Demo
) -> dict[str, Any]:
    app = create_app(SETTINGS, GraphService(demo_store, None, bus), keep_alive_interval=0.3)
    async with running_server(app) as port:
        variables = json.dumps({"repo": demo.name})
        url = f"ws://127.0.0.1:{port}/graphql"
        client = asyncio.create_task(run_node(script, url, SUBSCRIPTION, variables))
        await asyncio.wait_for(
            publish_until(bus, client, [delta_event(demo.name, demo.main.id)]), 60
        )
        return await client


async def test_npm_graphql_ws_client_receives_events_with_keep_alive(
    node_clients: Path, demo_store: GraphStore, bus: EventBus, demo: Demo
) -> None:
    report = await _subscribe_with("graphql-ws-client.mjs", demo_store, bus, demo)
    change = report["result"]["data"]["graphChanged"]
    assert change == {"repo": demo.name, "added": [demo.main.id], "kinds": ["Function"]}
    assert report["pongs"] >= 1  # the client's keep-alive pings were answered
    assert report["serverPings"] >= 1  # and the server pinged on its own


async def test_npm_subscriptions_transport_ws_client_receives_events(
    node_clients: Path, demo_store: GraphStore, bus: EventBus, demo: Demo
) -> None:
    report = await _subscribe_with("subscriptions-transport-ws-client.mjs", demo_store, bus, demo)
    change = report["result"]["data"]["graphChanged"]
    assert change == {"repo": demo.name, "added": [demo.main.id], "kinds": ["Function"]}


async def test_graphql_http_audit_has_no_errors_or_warnings(
    node_clients: Path, demo_store: GraphStore, bus: EventBus
) -> None:
    app = create_app(SETTINGS, GraphService(demo_store, None, bus))
    async with running_server(app) as port:
        report = await run_node("audit.mjs", f"http://127.0.0.1:{port}/graphql")
    print(report["stderr"])  # every audit line: visible with -s or on failure
    print({k: report[k] for k in ("total", "ok", "warn", "error")})
    assert report["total"] > 0
    assert (report["error"], report["warn"]) == (0, 0), report["problems"]


async def test_graphiql_renders_and_runs_a_query_offline_in_chromium(
    node_clients: Path, demo_store: GraphStore, bus: EventBus, demo: Demo
) -> None:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run scripts/ensure-chromium.sh"
    app = create_app(SETTINGS, GraphService(demo_store, None, bus))
    query = f'{{ repository(name: "{demo.name}") {{ name files {{ totalCount }} }} }}'
    async with running_server(app) as port:
        report = await run_node(
            "graphiql.mjs", f"http://127.0.0.1:{port}/graphql", query, demo.name, CHROMIUM
        )
    assert report["title"] == "codekg GraphiQL"
    response = json.loads(report["response"].replace("\xa0", " "))
    assert response == {"data": {"repository": {"name": demo.name, "files": {"totalCount": 4}}}}
    assert report["errors"] == []
    # nothing left loopback: the page loads no CDN asset and no telemetry
    assert report["blocked"] == [], report["blocked"]
