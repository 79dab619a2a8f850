"""Shared subscription execution (``api.fanout``) over a real server and both protocols.

Identical subscriptions run once per event whatever the number of clients: counted as store
calls made by the execution (``evidence { entities }`` loads its nodes once per execution) and
as bus subscriptions. Different variables or auth scopes run apart; a client that stops reading
loses its own oldest results and never delays the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import websockets
from api_support import SETTINGS, InstrumentedStore, publish_until, running_server
from starlette.applications import Starlette

from api.app import create_app
from api.context import make_context
from api.fanout import FanoutHub, Payload, Rejected
from kg.events.base import Event
from kg.events.memory import InProcessBus
from kg.events.schema import Evidence
from kg.events.schema import Insight as InsightPayload
from kg.model import GraphDelta
from kg.service import GraphService
from kg.stores.factory import open_graph_store

if TYPE_CHECKING:
    from conftest import Demo

INSIGHTS = """subscription($r: String, $s: Severity!) {
  insights(repo: $r, minSeverity: $s) { title severity evidence { entities { id } } } }"""
CHANGES = "subscription($r: String) { graphChanged(repo: $r) { added } }"


@pytest.fixture
async def sqlite_store(tmp_path: Path, demo: Demo) -> AsyncIterator[InstrumentedStore]:
    """Fan-out does not depend on the store: one real SQLite store is enough."""
    store = open_graph_store(f"sqlite:///{tmp_path}/graph.db")
    await store.start()
    await store.apply(demo.batch())
    try:
        yield InstrumentedStore(store)
    finally:
        await store.close()


class Client:
    """A raw WebSocket subscriber speaking ``graphql-transport-ws`` or legacy ``graphql-ws``;
    a background reader collects each result's ``payload``."""

    def __init__(self, ws: websockets.ClientConnection, legacy: bool) -> None:
        self.ws = ws
        self.legacy = legacy
        self.results: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.errors: asyncio.Queue[Any] = asyncio.Queue()
        self.reader: asyncio.Task[None] | None = None

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls, port: int, query: str, variables: dict[str, Any], *, legacy: bool, read: bool = True
    ) -> AsyncIterator[Client]:
        proto = websockets.Subprotocol("graphql-ws" if legacy else "graphql-transport-ws")
        url = f"ws://127.0.0.1:{port}/graphql"
        # a small fixed receive buffer, max_queue=1 and no compression: a client that does not
        # read backs up to the server after a few events (autotuned buffers would hold tens of
        # megabytes, and deflate would shrink the test's repetitive events to nothing)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.connect(("127.0.0.1", port))
        async with websockets.connect(
            url, sock=sock, subprotocols=[proto], max_queue=1, compression=None
        ) as ws:
            client = cls(ws, legacy)
            await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            start = "start" if legacy else "subscribe"
            payload = {"query": query, "variables": variables}
            await ws.send(json.dumps({"type": start, "id": "op", "payload": payload}))
            if read:
                client.start_reading()
            try:
                yield client
            finally:
                if client.reader is not None:
                    client.reader.cancel()

    def start_reading(self) -> None:
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        data = "data" if self.legacy else "next"
        async for raw in self.ws:
            msg = json.loads(raw)
            if msg["type"] == data:
                assert msg["id"] == "op"
                await self.results.put(msg["payload"])
            elif msg["type"] == "error":
                await self.errors.put(msg["payload"])

    async def take(self, n: int) -> list[dict[str, Any]]:
        return [await asyncio.wait_for(self.results.get(), 20) for _ in range(n)]


def insight(demo: Demo, severity: str, title: str) -> Event:
    found = InsightPayload(
        id=f"Insight:{title}",
        repo=demo.name,
        rule="hotspot",
        severity=severity,
        title=title,
        explanation="why",
        evidence=Evidence(entity_ids=[demo.main.id, demo.url.id]),
    )
    return Event.of("insight", repo=demo.name, payload=found.model_dump(mode="json"))


def hub_of(app: Starlette) -> FanoutHub:
    hub = app.state.kg_fanout
    assert isinstance(hub, FanoutHub)
    return hub


async def warm_up(
    bus: InProcessBus,
    clients: list[Client],
    event: Event,
    barrier: Event | None = None,
    marker: str = "",
) -> None:
    """Publish until every client got one result: subscriptions reach the bus only once the
    server has read them, and events from before that are (by design) not replayed. Then one
    ``barrier`` event (its results contain ``marker``): a stream delivers in order, so once
    every client has seen it, no warm-up event is still in flight."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    async def all_got_one() -> None:
        for c in clients:
            await c.take(1)
        done.set_result(None)

    waiter = asyncio.create_task(all_got_one())
    await asyncio.wait_for(publish_until(bus, done, [event]), 30)
    await waiter
    if barrier is None:  # results that cannot carry a marker (errors): let stragglers land
        await asyncio.sleep(0.2)
        for c in clients:
            while not c.results.empty():
                c.results.get_nowait()
        return
    await bus.publish(barrier)
    for c in clients:
        while marker not in json.dumps((await c.take(1))[0]):
            pass  # a warm-up event that was still in flight: discarded


async def test_identical_subscriptions_share_one_execution_per_event(
    sqlite_store: InstrumentedStore, demo: Demo
) -> None:
    bus = InProcessBus()
    await bus.start()
    app = create_app(SETTINGS, GraphService(sqlite_store, None, bus))
    variables = {"r": demo.name, "s": "WARNING"}
    async with running_server(app) as port, contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                Client.open(port, INSIGHTS, variables, legacy=i % 2 == 1)
            )
            for i in range(10)
        ]
        await warm_up(
            bus,
            clients,
            insight(demo, "critical", "warm"),
            insight(demo, "critical", "sync"),
            "sync",
        )
        assert bus.subscriber_count == 1  # one execution subscribes to the bus, not ten
        hub = hub_of(app)
        assert hub.stream_count == 1
        gets, executions = sqlite_store.calls["get"], hub.executions
        for n in range(5):
            await bus.publish(insight(demo, "warning", f"hot-{n}"))
            for c in clients:
                (got,) = await c.take(1)
                assert got == {
                    "data": {
                        "insights": {
                            "title": f"hot-{n}",
                            "severity": "WARNING",
                            "evidence": {"entities": [{"id": demo.main.id}, {"id": demo.url.id}]},
                        }
                    }
                }
        # one execution per event: one batched node lookup each, not one per client
        assert sqlite_store.calls["get"] - gets == 5
        assert hub.executions - executions == 5
    await bus.close()


async def test_different_variables_get_separate_executions(
    sqlite_store: InstrumentedStore, demo: Demo
) -> None:
    bus = InProcessBus()
    await bus.start()
    app = create_app(SETTINGS, GraphService(sqlite_store, None, bus))
    strict = {"r": demo.name, "s": "CRITICAL"}
    lenient = {"r": demo.name, "s": "INFO"}
    async with (
        running_server(app) as port,
        Client.open(port, INSIGHTS, strict, legacy=False) as a1,
        Client.open(port, INSIGHTS, strict, legacy=True) as a2,
        Client.open(port, INSIGHTS, lenient, legacy=False) as b1,
        Client.open(port, INSIGHTS, lenient, legacy=True) as b2,
    ):
        await warm_up(
            bus,
            [a1, a2, b1, b2],
            insight(demo, "critical", "warm"),
            insight(demo, "critical", "sync"),
            "sync",
        )
        assert bus.subscriber_count == 2
        assert hub_of(app).stream_count == 2
        gets = sqlite_store.calls["get"]
        await bus.publish(insight(demo, "info", "mild"))
        await bus.publish(insight(demo, "critical", "fire"))
        titles = {
            name: [r["data"]["insights"]["title"] for r in await c.take(n)]
            for name, c, n in [("a1", a1, 1), ("a2", a2, 1), ("b1", b1, 2), ("b2", b2, 2)]
        }
        assert titles == {
            "a1": ["fire"],
            "a2": ["fire"],
            "b1": ["mild", "fire"],
            "b2": ["mild", "fire"],
        }
        # the lenient stream executed twice, the strict one once (it skipped "mild")
        assert sqlite_store.calls["get"] - gets == 3
    await bus.close()


def big_delta(repo: str, n: int) -> Event:
    added = [f"Function:{n:04d}-{i:05d}-" + "x" * 40 for i in range(1500)]
    delta = GraphDelta(repo=repo, added=added, kinds=["Function"])
    return Event.of("graph.delta", repo=repo, payload=delta.model_dump())


async def test_a_client_that_stops_reading_drops_its_oldest_and_delays_no_one(
    sqlite_store: InstrumentedStore, demo: Demo
) -> None:
    """Each event is ~100 kB, so a client that does not read fills the socket buffers after
    some tens of events; from then on its server-side queue (8) drops its oldest results,
    while the reading clients get every event."""
    bus = InProcessBus()
    await bus.start()
    settings = SETTINGS.model_copy(update={"subscriber_queue": 8})
    app = create_app(settings, GraphService(sqlite_store, None, bus))
    variables = {"r": demo.name}
    events = 250
    async with (
        running_server(app) as port,
        Client.open(port, CHANGES, variables, legacy=False) as fast,
        Client.open(port, CHANGES, variables, legacy=True) as fast_legacy,
        Client.open(port, CHANGES, variables, legacy=False, read=False) as slow,
    ):
        hub = hub_of(app)
        for _ in range(500):  # the slow client's subscription has joined too
            if hub.member_count == 3:
                break
            await asyncio.sleep(0.01)
        await warm_up(
            bus,
            [fast, fast_legacy],
            big_delta(demo.name, 9999),
            big_delta(demo.name, 9998),
            "Function:9998-",
        )
        assert (hub.stream_count, hub.member_count) == (1, 3)
        for n in range(events):
            await bus.publish(big_delta(demo.name, n))
            for c in (fast, fast_legacy):
                (got,) = await c.take(1)
                assert got["data"]["graphChanged"]["added"][0].startswith(f"Function:{n:04d}-")
        assert hub.dropped > 0  # the slow client's queue overflowed: the others did not wait
        slow.start_reading()
        late: list[str] = []
        with contextlib.suppress(TimeoutError):
            while True:
                r = await asyncio.wait_for(slow.results.get(), 3)
                late.append(r["data"]["graphChanged"]["added"][0][:13])
        seen = [x for x in late if not x.startswith(("Function:9999", "Function:9998"))]
        assert seen[-1] == f"Function:{events - 1:04d}"  # it ends with the newest ...
        assert len(seen) < events  # ... having lost some older ones
        assert seen == sorted(seen)  # in order, never a stale one after a fresh one
        assert hub.dropped >= events - len(seen)
    await bus.close()


async def test_a_rejected_subscription_errors_on_both_protocols_and_others_carry_on(
    sqlite_store: InstrumentedStore, demo: Demo
) -> None:
    """Validation runs in the shared execution: each member of a rejected operation gets its
    protocol's `error` message; a valid subscription on the same server is unaffected."""
    bus = InProcessBus()
    await bus.start()
    app = create_app(SETTINGS, GraphService(sqlite_store, None, bus))
    bad = "subscription($r: String) { graphChanged(repo: $r) { added noSuchField } }"
    variables = {"r": demo.name}
    async with (
        running_server(app) as port,
        Client.open(port, bad, variables, legacy=False) as modern,
        Client.open(port, bad, variables, legacy=True) as legacy,
        Client.open(port, CHANGES, variables, legacy=False) as good,
    ):
        modern_error = await asyncio.wait_for(modern.errors.get(), 20)
        legacy_error = await asyncio.wait_for(legacy.errors.get(), 20)
        await warm_up(
            bus, [good], big_delta(demo.name, 1), big_delta(demo.name, 2), "Function:0002-"
        )
    assert "noSuchField" in modern_error[0]["message"]  # graphql-transport-ws: a list
    assert "noSuchField" in legacy_error["message"]  # graphql-ws: the first error
    await bus.close()


async def test_an_internal_error_is_masked_once_for_every_member(
    tmp_path: Path, demo: Demo, caplog: pytest.LogCaptureFixture
) -> None:
    """A failing store under a shared execution: every client gets the same masked error with
    the same correlation id, logged once on the server (one execution, one failure)."""
    inner = open_graph_store(f"sqlite:///{tmp_path}/graph.db")
    await inner.start()
    await inner.apply(demo.batch())
    failing = InstrumentedStore(inner, fail=["get"])
    bus = InProcessBus()
    await bus.start()
    app = create_app(SETTINGS, GraphService(failing, None, bus))
    variables = {"r": demo.name, "s": "INFO"}
    async with running_server(app) as port, contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(Client.open(port, INSIGHTS, variables, legacy=i == 1))
            for i in range(3)
        ]
        await warm_up(bus, clients, insight(demo, "critical", "warm"))  # every result an error
        caplog.clear()
        await bus.publish(insight(demo, "warning", "broken"))
        got = [(await c.take(1))[0] for c in clients]
    await inner.close()
    await bus.close()
    refs = {json.dumps(r["errors"][0]["extensions"]) for r in got}
    assert len(refs) == 1, got  # the same correlation id for all three
    (error,) = got[0]["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "/secret/" not in json.dumps(got)
    assert got[0]["data"] is None  # non-null `entities` failed: null up to the root
    ref = error["extensions"]["correlationId"]
    logged = [r for r in caplog.records if r.name == "api.errors"]
    assert [ref in r.getMessage() for r in logged] == [True]


async def test_auth_scope_and_variables_key_separate_streams(demo: Demo, tmp_path: Path) -> None:
    """At the hub: the same document under another auth scope is another stream, and the
    guard runs inside it (an unauthorized scope is rejected when a token is configured)."""
    store = open_graph_store(f"sqlite:///{tmp_path}/graph.db")
    await store.start()
    bus = InProcessBus()
    await bus.start()
    settings = SETTINGS.model_copy(update={"api_token": "t0ken"})
    app = create_app(settings, GraphService(store, None, bus))
    hub = hub_of(app)
    service = GraphService(store, None, bus)
    members = {}
    for scope, authorized in [("authorized", True), ("anonymous", False)]:
        key = hub.key(CHANGES, None, {"r": demo.name}, scope=scope)
        assert key is not None

        def context(authorized: bool = authorized) -> object:
            return make_context(settings, service, cache=False, authorized=authorized)

        members[scope] = hub.join(key, context)
    other = hub.key(CHANGES, None, {"r": "elsewhere"}, scope="authorized")
    assert other is not None and other != members["authorized"].key
    assert hub.stream_count == 2
    rejected = await asyncio.wait_for(anext(members["anonymous"]), 10)
    assert isinstance(rejected, Rejected)
    assert rejected.errors[0]["extensions"] == {"code": "UNAUTHENTICATED"}
    for _ in range(500):
        if bus.subscriber_count == 1:
            break
        await asyncio.sleep(0.01)
    await bus.publish(big_delta(demo.name, 7))
    result = await asyncio.wait_for(anext(members["authorized"]), 10)
    assert isinstance(result, Payload)
    assert json.loads(result.text)["data"]["graphChanged"]["added"][0].startswith("Function:0007-")
    # ingestProgress yields per-subscriber state first: never shared
    assert (
        hub.key('subscription { ingestProgress(job: "j") { id } }', None, None, scope="x") is None
    )
    for member in members.values():
        hub.leave(member)
    assert hub.stream_count == 0
    await bus.close()
    await store.close()
