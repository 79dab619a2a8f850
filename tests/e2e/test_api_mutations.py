"""Mutations, the live subscriptions beyond graphChanged, and the safety rails: annotate,
feedback, ingest jobs with ingestProgress, insights, bearer-token auth, the complexity limit
and a slow subscriber that must not hold anyone up. Both stores; real servers for WebSockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import websockets
from api_support import (
    SETTINGS,
    data_of,
    delta_event,
    gql_post,
    http_client,
    publish_until,
    running_server,
)
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from graphql import ExecutionResult

from api.app import create_app
from api.context import make_context
from api.schema import build_schema
from extractors.registry import ExtractorRegistry
from kg.events.base import Event, EventBus
from kg.events.memory import InProcessBus
from kg.events.schema import Evidence, Insight
from kg.feedback import FeedbackLog
from kg.insights.engine import InsightEngine
from kg.insights.rules import Change, Finding, InsightConfig
from kg.model import GraphDelta
from kg.pipeline import Indexer, IndexReport, Progress
from kg.service import GraphService
from kg.settings import Settings
from kg.stores.base import GraphStore

if TYPE_CHECKING:
    from conftest import Demo

TOKEN = "s3cret-token"


async def test_annotate_stores_a_note_linked_to_the_node(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    m = """mutation($node: ID!, $text: String!) { annotate(node: $node, text: $text) {
        id text createdAt target { id } } }"""
    note = (await data_of(client, m, node=demo.url.id, text="  Cache this url \n"))["annotate"]
    assert note["id"].startswith("Annotation:")
    assert note["text"] == "Cache this url"
    assert note["target"] == {"id": demo.url.id}
    q = """query($id: ID!) { node(id: $id) { ... on Function {
        annotations { totalCount edges { node { id text } } } } } }"""
    found = (await data_of(client, q, id=demo.url.id))["node"]["annotations"]
    assert found == {"totalCount": 1, "edges": [{"node": {"id": note["id"], "text": note["text"]}}]}
    empty = await gql_post(client, m, node=demo.url.id, text="   ")
    assert "text must have 1 to" in empty["errors"][0]["message"]
    gone = await gql_post(client, m, node="Function:000000000000000000000000", text="x")
    assert "does not exist" in gone["errors"][0]["message"]


async def test_feedback_records_a_vote_for_the_search_that_found_the_hit(
    search_client: httpx.AsyncClient, demo_store: GraphStore, demo: Demo
) -> None:
    q = """query($q: String!, $repo: String) { search(query: $q, first: 3, filter: {repo: $repo}) {
        searchId edges { node { id } } } }"""
    page = (await data_of(search_client, q, q="url slug of a title", repo=demo.name))["search"]
    again = (await data_of(search_client, q, q="url slug of a title", repo=demo.name))["search"]
    assert page["searchId"] == again["searchId"]  # the same search has the same id
    hit = page["edges"][0]["node"]["id"]
    m = """mutation($s: String!, $n: ID!, $u: Boolean!) {
        feedback(searchId: $s, nodeId: $n, useful: $u) { searchId useful node { id } } }"""
    done = await data_of(search_client, m, s=page["searchId"], n=hit, u=True)
    assert done["feedback"] == {"searchId": page["searchId"], "useful": True, "node": {"id": hit}}
    assert await FeedbackLog(demo_store).boosts(demo.name, "url slug of a title") == {hit: 1.0}
    bad = await gql_post(search_client, m, s="s_nope", n=hit, u=False)
    assert "searchId='s_nope' is unknown" in bad["errors"][0]["message"]


def _git_project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "money.py").write_text(
        "def cents(x: float) -> int:\n    return round(x * 100)\n"
    )
    env = {
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
        "HOME": str(root),
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "money"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env, capture_output=True)
    return root


JOB = "id state stage progress repo message"


async def test_ingest_job_reports_progress_over_a_subscription(
    graph_store: GraphStore, bus: EventBus, repo_name: str, tmp_path: Path
) -> None:
    project = _git_project(tmp_path / "project")
    indexer_bus = bus

    async def ingest(root: Path, progress: Progress) -> IndexReport:
        registry = ExtractorRegistry.from_entry_points(strict=False)
        indexer = Indexer(graph_store, registry, bus=indexer_bus, progress=progress)
        return await indexer.index(root, repo=repo_name)

    service = GraphService(graph_store, None, bus, ingest=ingest)
    app = create_app(SETTINGS, service, keep_alive_interval=0.5)
    async with running_server(app) as port:
        transport = WebsocketsTransport(
            url=f"ws://127.0.0.1:{port}/graphql", subprotocols=["graphql-transport-ws"]
        )
        async with Client(transport=transport) as session:
            bad = gql("mutation($s: String!) { ingest(source: $s) { id } }")
            with pytest.raises(Exception, match="is not a directory"):
                await session.execute(bad, variable_values={"s": str(tmp_path / "nowhere")})
            start = gql(f"mutation($s: String!) {{ ingest(source: $s) {{ {JOB} }} }}")
            job = (await session.execute(start, variable_values={"s": str(project)}))["ingest"]
            assert job["state"] in ("QUEUED", "RUNNING", "SUCCEEDED")
            states: list[dict[str, Any]] = []
            follow = gql(f"subscription($j: ID!) {{ ingestProgress(job: $j) {{ {JOB} }} }}")
            async with asyncio.timeout(60):
                async for update in session.subscribe(follow, variable_values={"j": job["id"]}):
                    states.append(update["ingestProgress"])
            final = await session.execute(gql(f'{{ job(id: "{job["id"]}") {{ {JOB} }} }}'))
    assert states[-1]["state"] == "SUCCEEDED", states
    assert states[-1]["progress"] == 1.0
    assert final["job"] == states[-1] == {**states[-1], "repo": repo_name}
    async with http_client(service) as c:
        q = """query($r: String!) { repository(name: $r) { symbols(name: "cents") {
            edges { node { name } } } } }"""
        found = await data_of(c, q, r=repo_name)
    assert found["repository"]["symbols"]["edges"] == [{"node": {"name": "cents"}}]


def _insight(repo: str, severity: str, path: str, title: str) -> Event:
    payload = Insight(
        id=f"Insight:{title}",
        repo=repo,
        rule="hotspot",
        severity=severity,  # type: ignore[arg-type]
        title=title,
        explanation="why",
        evidence=Evidence(entity_ids=["File:1"], numbers={"churn": 3.0}),
        paths=[path],
    )
    return Event.of("insight", repo=repo, payload=payload.model_dump(mode="json"))


async def test_insights_subscription_filters_by_repo_severity_and_path(
    demo_store: GraphStore, bus: EventBus, demo: Demo
) -> None:
    app = create_app(SETTINGS, GraphService(demo_store, None, bus))
    sub = gql("""subscription($r: String, $s: Severity!, $p: [String!]) {
      insights(repo: $r, minSeverity: $s, paths: $p) {
        id title severity paths evidence { numbers { name value } } } }""")
    noise = [
        _insight("other", "critical", "pkg/app.py", "other repo"),
        _insight(demo.name, "info", "pkg/app.py", "too mild"),
        _insight(demo.name, "critical", "docs/readme.md", "elsewhere"),
    ]
    wanted = _insight(demo.name, "warning", "pkg/app.py", "hot")
    async with running_server(app) as port:
        transport = WebsocketsTransport(url=f"ws://127.0.0.1:{port}/graphql")
        async with Client(transport=transport) as session:
            got: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

            async def consume() -> None:
                variables = {"r": demo.name, "s": "WARNING", "p": ["pkg/"]}
                async for result in session.subscribe(sub, variable_values=variables):
                    got.set_result(result["insights"])
                    return

            consumer = asyncio.create_task(consume())
            await asyncio.wait_for(publish_until(bus, got, [*noise, wanted]), 30)
            await consumer
    assert got.result() == {
        "id": "Insight:hot",
        "title": "hot",
        "severity": "WARNING",
        "paths": ["pkg/app.py"],
        "evidence": {"numbers": [{"name": "churn", "value": 3.0}]},
    }


INSIGHT_FIELDS = """id repo name rule severity title explanation paths time
  evidence { entityIds numbers { name value } entities { id } }"""


async def test_engine_insights_read_the_same_live_and_stored(
    demo_store: GraphStore, bus: EventBus, demo: Demo
) -> None:
    """The insights engine's real output, over the subscription (its bus event) and over
    ``node`` (its stored entity): every field the engine produces comes through, the same."""

    async def finds_one(store: GraphStore, change: Change, cfg: InsightConfig) -> list[Finding]:
        return [
            Finding(
                rule="hotspot",
                subject=demo.main.id,
                severity="critical",  # published at once, not batched
                title="main is hot",
                explanation="changed in every commit",
                evidence=Evidence(entity_ids=[demo.main.id], numbers={"churn": 3.0}),
                paths=["pkg/app.py"],
            )
        ]

    config = InsightConfig(dedup_window=0.0)  # every observe publishes again
    engine = InsightEngine(demo_store, bus, config, rules=[finds_one])
    sub = gql(f"subscription($r: String) {{ insights(repo: $r) {{ {INSIGHT_FIELDS} }} }}")
    app = create_app(SETTINGS, GraphService(demo_store, None, bus))
    async with running_server(app) as port:
        transport = WebsocketsTransport(url=f"ws://127.0.0.1:{port}/graphql")
        async with Client(transport=transport) as session:
            got: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

            async def consume() -> None:
                async for result in session.subscribe(sub, variable_values={"r": demo.name}):
                    got.set_result(result["insights"])
                    return

            consumer = asyncio.create_task(consume())
            delta = GraphDelta(repo=demo.name, updated=[demo.main.id], paths=["pkg/app.py"])
            while not got.done():
                await engine.observe(delta)
                await asyncio.sleep(0.05)
            await consumer
        live = got.result()
        async with http_client(GraphService(demo_store, None, bus)) as c:
            q = f"query($id: ID!) {{ node(id: $id) {{ ... on Insight {{ {INSIGHT_FIELDS} }} }} }}"
            stored = (await data_of(c, q, id=live["id"]))["node"]
    assert live["evidence"] == {
        "entityIds": [demo.main.id],
        "numbers": [{"name": "churn", "value": 3.0}],
        "entities": [{"id": demo.main.id}],
    }
    assert (live["rule"], live["severity"], live["paths"]) == (
        "hotspot",
        "CRITICAL",
        ["pkg/app.py"],
    )
    assert live["time"] is not None
    assert stored == live


@pytest.fixture
async def guarded(demo_store: GraphStore, bus: EventBus) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(_env_file=None, api_token=TOKEN)
    async with http_client(GraphService(demo_store, None, bus), settings) as c:
        yield c


async def test_bearer_token_guards_every_operation_but_not_graphiql(
    guarded: httpx.AsyncClient, demo: Demo
) -> None:
    q = "query($r: String!) { repository(name: $r) { name } }"
    denied = await gql_post(guarded, q, r=demo.name)
    assert denied["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert denied.get("data") is None
    wrong = await guarded.post(
        "/graphql",
        json={"query": q, "variables": {"r": demo.name}},
        headers={"Authorization": "Bearer nope"},
    )
    assert wrong.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    ok = await guarded.post(
        "/graphql",
        json={"query": q, "variables": {"r": demo.name}},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert ok.json() == {"data": {"repository": {"name": demo.name}}}
    m = 'mutation($n: ID!) { annotate(node: $n, text: "x") { id } }'
    assert "UNAUTHENTICATED" in json.dumps(await gql_post(guarded, m, n=demo.url.id))
    strict = await guarded.post(
        "/graphql",
        json={"query": q, "variables": {"r": demo.name}},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert strict.status_code == 401
    assert strict.headers["content-type"].startswith("application/graphql-response+json")
    page = await guarded.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "codekg GraphiQL" in page.text


async def test_bearer_token_over_websockets(
    demo_store: GraphStore, bus: EventBus, demo: Demo
) -> None:
    settings = Settings(_env_file=None, api_token=TOKEN)
    app = create_app(settings, GraphService(demo_store, None, bus))
    init = {"type": "connection_init", "payload": {}}
    async with running_server(app) as port:
        url = f"ws://127.0.0.1:{port}/graphql"
        proto = [websockets.Subprotocol("graphql-transport-ws")]
        async with websockets.connect(url, subprotocols=proto) as ws:
            await ws.send(json.dumps(init))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
        transport = WebsocketsTransport(
            url=url,
            init_payload={"Authorization": f"Bearer {TOKEN}"},
            subprotocols=["graphql-transport-ws"],
        )
        async with Client(transport=transport) as session:
            q = gql("query($r: String!) { repository(name: $r) { name } }")
            result = await session.execute(q, variable_values={"r": demo.name})
    assert result == {"repository": {"name": demo.name}}


async def test_complexity_limit_counts_pages_and_depth(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    q = """query($r: String!, $n: Int!) { repository(name: $r) {
      symbols(first: $n) { edges { node { ... on Function {
        callers(depth: 3, first: $n) { edges { node { id } } } } } } } } }"""
    big = await gql_post(client, q, r=demo.name, n=200)
    error = big["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["cost"] > SETTINGS.max_complexity
    assert big.get("data") is None
    small = await data_of(client, q, r=demo.name, n=5)
    assert len(small["repository"]["symbols"]["edges"]) == 5
    # introspection is free: GraphiQL's schema fetch must never be refused
    schema = await data_of(client, "{ __schema { types { name fields { name } } } }")
    assert len(schema["__schema"]["types"]) > 20


async def test_limits_hold_for_a_document_seen_before(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    """The guard remembers documents that validated; the cost (which depends on variables)
    and the rejection of invalid documents are still decided on every request."""
    q = """query($r: String!, $n: Int!) { repository(name: $r) {
      symbols(first: $n) { edges { node { ... on Function {
        callers(depth: 3, first: $n) { edges { node { id } } } } } } } } }"""
    for _ in range(2):
        small = await data_of(client, q, r=demo.name, n=5)
        assert len(small["repository"]["symbols"]["edges"]) == 5
    big = await gql_post(client, q, r=demo.name, n=200)
    assert big["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    inner = "id"
    for _ in range(SETTINGS.max_query_depth):
        inner = f"... on Function {{ callers {{ edges {{ node {{ {inner} }} }} }} }}"
    for _ in range(2):
        deep = await gql_post(client, f'{{ node(id: "Function:x") {{ {inner} }} }}')
        assert "exceeds maximum operation depth" in deep["errors"][0]["message"]


async def test_a_slow_subscriber_does_not_hold_up_a_fast_one(
    demo_store: GraphStore, bus: InProcessBus, demo: Demo
) -> None:
    """Two graphChanged subscriptions through the real schema: one reads every event as it
    comes, the other reads nothing until the end. The fast one sees all events; the slow one
    then finds only its bounded queue's newest events (drop-oldest), never a backlog. (Over a
    WebSocket the same holds: strawberry awaits each send and uvicorn applies TCP flow
    control, so a client that stops reading stalls only its own subscription.)"""
    settings = Settings(_env_file=None, subscriber_queue=8)
    schema = build_schema(settings)
    service = GraphService(demo_store, None, bus)
    query = "subscription($r: String) { graphChanged(repo: $r) { added } }"
    streams = []
    for _ in range(2):
        stream = await schema.subscribe(
            query,
            variable_values={"r": demo.name},
            context_value=make_context(settings, service, cache=False),
        )
        assert not isinstance(stream, ExecutionResult), stream
        streams.append(stream)
    fast, slow = streams
    events = 400

    async def read_fast() -> list[str]:
        seen: list[str] = []
        async for result in fast:
            assert result.data is not None, result.errors
            seen.append(result.data["graphChanged"]["added"][0])
            if len(seen) == events:
                return seen
        return seen

    reader = asyncio.create_task(read_fast())
    slow_first = asyncio.create_task(anext(slow))  # subscribed, then never read again
    for _ in range(1000):  # both subscriptions have reached the bus
        if bus.subscriber_count >= 2:
            break
        await asyncio.sleep(0.01)
    assert bus.subscriber_count == 2
    for i in range(events):
        await bus.publish(delta_event(demo.name, f"Function:{i:06d}"))
        await asyncio.sleep(0)  # the fast reader's turn
    seen = await asyncio.wait_for(reader, 10)
    assert seen == [f"Function:{i:06d}" for i in range(events)]
    late = [await slow_first]
    with contextlib.suppress(TimeoutError):
        while True:
            late.append(await asyncio.wait_for(anext(slow), 0.5))
    added = [r.data["graphChanged"]["added"][0] for r in late if r.data is not None]
    assert added[0] == "Function:000000"  # it was already waiting for this one
    assert len(added) <= 1 + settings.subscriber_queue  # the rest was dropped, oldest first
    assert added[-1] == f"Function:{events - 1:06d}"
    for stream in streams:
        await stream.aclose()
