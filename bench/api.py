"""API benchmark: GraphQL query latency over HTTP and subscription fan-out over WebSockets.

Indexes a real project (by default a copy of parts of the installed networkx package in a
temporary git repository; ``--repo PATH`` for any other working tree), serves it with uvicorn on
127.0.0.1, and measures from a client in the same process (so figures include the client's own
work on this shared machine):

- p50/p95 of ``node``, ``callers(depth: 2)`` and ``search`` queries (HTTP POST, sequential);
- fan-out: ``--subscribers`` (default 1000) concurrent graphql-transport-ws subscribers to
  ``graphChanged``, in ``--client-procs`` child processes; each published event's delivery
  latency (publish -> received) per subscriber, p50/p95/max over all deliveries.

    python -m bench.api                 # default corpus, 1000 subscribers
    python -m bench.api --repo ~/src/x --subscribers 200

``run(args) -> dict`` is what ``bench/__main__.py`` can call; figures are printed as well.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import websockets

from api.app import create_app
from kg.events.base import Event
from kg.model import EntityKind, GraphDelta
from kg.runtime import open_runtime
from kg.settings import Settings
from kg.stores.base import EntityQuery

SEARCHES = [
    "shortest path between two nodes",
    "add an edge with weight",
    "remove a node and its edges",
    "breadth first search",
    "graph is directed",
    "copy a graph",
    "dijkstra",
    "number of nodes",
]
PARTS = ("classes", "algorithms/shortest_paths", "algorithms/traversal", "utils")


def default_corpus(workdir: Path) -> Path:
    """Parts of the installed networkx (real code, a few hundred functions) in a git repo."""
    import networkx

    src = Path(networkx.__file__).parent
    root = workdir / "nx"
    for part in PARTS:
        shutil.copytree(
            src / part,
            root / "networkx" / part,
            ignore=shutil.ignore_patterns("__pycache__", "tests"),
        )
    env = {
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
        "HOME": str(workdir),
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "corpus"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True)
    return root


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(_pct(ms, 0.95), 2),
        "max_ms": round(max(ms), 2),
    }


async def _timed(n: int, call: Callable[[int], Awaitable[None]]) -> dict[str, float]:
    ms: list[float] = []
    for i in range(n):
        t = time.perf_counter()
        await call(i)
        ms.append((time.perf_counter() - t) * 1000)
    return _summary(ms)


async def _query(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    r = await client.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = r.json()
    if "errors" in body:
        raise RuntimeError(f"query failed: {body['errors']}")
    return body


async def bench_queries(base: str, fids: list[str], repeat: int) -> dict[str, dict[str, float]]:
    rng = random.Random(7)
    node_q = "query($id: ID!) { node(id: $id) { id name ... on Function { qualname signature } } }"
    callers_q = """query($id: ID!) { node(id: $id) { ... on Function {
        callers(depth: 2, first: 50) { totalCount edges { node { id name } depth } } } } }"""
    search_q = """query($q: String!) { search(query: $q, first: 10) {
        searchId edges { score node { id name } explanation { signal contribution } } } }"""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await _query(client, search_q, q="warm up the model")
        return {
            "node": await _timed(repeat, lambda i: _run(client, node_q, id=rng.choice(fids))),
            "callers(depth:2)": await _timed(
                repeat, lambda i: _run(client, callers_q, id=rng.choice(fids))
            ),
            "search": await _timed(
                max(20, repeat // 4),
                lambda i: _run(client, search_q, q=SEARCHES[i % len(SEARCHES)]),
            ),
        }


async def _run(client: httpx.AsyncClient, query: str, **variables: Any) -> None:
    await _query(client, query, **variables)


async def _subscriber(
    url: str, repo: str, ready: asyncio.Semaphore, latencies: list[float], events: int
) -> None:
    proto = [websockets.Subprotocol("graphql-transport-ws")]
    async with websockets.connect(url, subprotocols=proto, open_timeout=60) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        await ws.recv()
        query = "subscription($r: String) { graphChanged(repo: $r) { commit } }"
        payload = {"query": query, "variables": {"r": repo}}
        await ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": payload}))
        ready.release()
        got = 0
        while got < events:
            msg = json.loads(await ws.recv())
            if msg["type"] != "next":
                continue
            sent = float(msg["payload"]["data"]["graphChanged"]["commit"])
            latencies.append((time.time() - sent) * 1000)
            got += 1


async def _client_process(url: str, count: int, events: int) -> None:
    """Child-process mode: ``count`` subscribers; prints ``ready``, then the latencies (JSON)."""
    ready = asyncio.Semaphore(0)
    latencies: list[float] = []
    tasks = [
        asyncio.create_task(_subscriber(url, "fanout", ready, latencies, events))
        for _ in range(count)
    ]
    for _ in range(count):
        await asyncio.wait_for(ready.acquire(), 120)
    print("ready", flush=True)
    await asyncio.wait_for(asyncio.gather(*tasks), 300)
    print(json.dumps(latencies), flush=True)


async def bench_fanout(
    url: str, publish: Callable[[Event], Awaitable[None]], count: int, events: int, procs: int
) -> dict[str, float]:
    """``count`` subscribers in ``procs`` child processes (so the clients' own work does not
    run on the server's event loop); ``events`` events one second apart; the latency of
    every delivery, publish to receipt, on this machine's clock."""
    children = []
    for i in range(procs):
        share = count // procs + (1 if i < count % procs else 0)
        children.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.api",
                "--client",
                url,
                "--subscribers",
                str(share),
                "--events",
                str(events),
                stdout=asyncio.subprocess.PIPE,
            )
        )
    for child in children:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 180)
        if line.strip() != b"ready":
            raise RuntimeError(f"a client process failed to subscribe: {line!r}")
    await asyncio.sleep(1.0)  # every subscription has reached the bus
    for _ in range(events):
        delta = GraphDelta(repo="fanout", commit=repr(time.time()))
        await publish(Event.of("graph.delta", repo="fanout", payload=delta.model_dump()))
        await asyncio.sleep(1.0)
    latencies: list[float] = []
    for child in children:
        out, _ = await asyncio.wait_for(child.communicate(), 300)
        latencies += json.loads(out.decode().strip().splitlines()[-1])
    summary = _summary(latencies)
    summary["subscribers"] = count
    summary["delivered"] = len(latencies)
    return summary


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kg-bench-api-") as tmp:
        work = Path(tmp)
        root = Path(args.repo).resolve() if args.repo else default_corpus(work)
        settings = Settings(
            _env_file=None,
            graph_url=f"sqlite:///{work}/graph.db",
            vector_url=f"edge:///{work}/vectors",
            subscriber_queue=64,
        )
        async with open_runtime(settings) as rt:
            started = time.perf_counter()
            report = await rt.indexer().index(root, repo="bench")
            indexed = time.perf_counter() - started
            fns = await rt.store.find(
                EntityQuery(repo="bench", kinds=[EntityKind.FUNCTION], limit=5000)
            )
            app = create_app(settings, rt.service())
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
            config = uvicorn.Config(app, log_level="warning", ws_max_queue=32, backlog=4096)
            server = uvicorn.Server(config)
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            for _ in range(600):
                if server.started:
                    break
                await asyncio.sleep(0.05)
            try:
                queries = await bench_queries(
                    f"http://127.0.0.1:{port}", [f.id for f in fns], args.repeat
                )
                fanout = await bench_fanout(
                    f"ws://127.0.0.1:{port}/graphql",
                    rt.bus.publish,
                    args.subscribers,
                    args.events,
                    args.client_procs,
                )
            finally:
                server.should_exit = True
                await serving
                sock.close()
    results: dict[str, Any] = {
        "corpus": {
            "root": str(root),
            "files": report.files_seen,
            "functions": len(fns),
            "index_seconds": round(indexed, 1),
        },
        "queries": queries,
        "fanout": fanout,
    }
    _print(results)
    return results


def _print(results: dict[str, Any]) -> None:
    c = results["corpus"]
    print(
        f"corpus: {c['files']} files, {c['functions']} functions, indexed in {c['index_seconds']} s"
    )
    for name, s in results["queries"].items():
        print(
            f"query {name:18s} n={s['n']:4d}  p50 {s['p50_ms']:8.2f} ms  p95 {s['p95_ms']:8.2f} ms"
        )
    f = results["fanout"]
    print(
        f"fan-out: {f['subscribers']} subscribers, {f['delivered']} deliveries: "
        f"p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms, max {f['max_ms']} ms "
        f"({'meets' if f['p95_ms'] < 100 else 'MISSES'} the 100 ms p95 target)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", help="working tree to index (default: networkx parts)")
    parser.add_argument("--repeat", type=int, default=200, help="queries per kind")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=5, help="events published to subscribers")
    parser.add_argument("--client-procs", type=int, default=2, help="subscriber processes")
    parser.add_argument("--client", help=argparse.SUPPRESS)  # child mode: the server's ws URL
    args = parser.parse_args()
    if args.client:
        asyncio.run(_client_process(args.client, args.subscribers, args.events))
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
