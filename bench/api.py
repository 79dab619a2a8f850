"""API benchmark: GraphQL query latency over HTTP and subscription fan-out over WebSockets.

Indexes a real project (by default a copy of parts of the installed networkx package in a
temporary git repository; ``--repo PATH`` for any other working tree), serves it with uvicorn on
127.0.0.1, and measures:

- p50/p95 of ``node``, ``callers(depth: 2)`` and ``search`` queries (HTTP POST, sequential, from
  a client in this process, so figures include the client's own work);
- fan-out: ``--subscribers`` (default 1000) graphql-transport-ws subscribers to the same
  ``graphChanged`` subscription, in ``--client-procs`` child processes using the minimal client
  of ``bench.wsclient`` (arrival time read as the bytes come in, JSON parsed after the run);
  ``--events`` events published one second apart once the server counts every subscriber;
  p50/p95/max of publish -> arrival over all deliveries, and how many executions ran.

    python -m bench.api                        # default corpus, 1000 subscribers
    python -m bench.api --only fanout          # fan-out alone (no corpus, no model)
    python -m bench.api --only fanout --no-share    # every subscriber executes alone
    python -m bench.api --repo ~/src/x --subscribers 200

``run(args) -> dict`` is what ``bench/__main__.py`` can call; figures are printed as well.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from api.app import create_app, settle_heap
from bench.wsclient import Subscriber
from kg.events.base import Event
from kg.model import EntityKind, GraphDelta
from kg.runtime import Runtime, open_runtime
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


async def _client_process(url: str, count: int, events: int, deflate: bool) -> None:
    """Child-process mode: ``count`` subscribers; prints ``ready``, then the latencies (JSON):
    arrival (read as the bytes come in) minus the publish time the event carries."""
    host, port = url.removeprefix("ws://").split("/")[0].split(":")
    query = "subscription($r: String) { graphChanged(repo: $r) { commit } }"
    payload = {"query": query, "variables": {"r": "fanout"}}
    gate = asyncio.Semaphore(64)  # connect in waves: the accept backlog is not infinite

    async def one() -> Subscriber:
        async with gate:
            return await Subscriber.connect(
                host, int(port), payload, events=events, deflate=deflate
            )

    subs = await asyncio.wait_for(asyncio.gather(*(one() for _ in range(count))), 180)
    print("ready", flush=True)
    await asyncio.wait_for(asyncio.gather(*(s.done for s in subs)), 300)
    latencies: list[tuple[float, float]] = []
    for sub in subs:
        for arrived, text in sub.messages:
            sent = float(json.loads(text)["payload"]["data"]["graphChanged"]["commit"])
            latencies.append((sent, (arrived - sent) * 1000))
        sub.close()
    print(json.dumps(latencies), flush=True)


async def bench_fanout(
    url: str,
    publish: Callable[[Event], Awaitable[None]],
    subscribed: Callable[[], int],
    args: argparse.Namespace,
) -> dict[str, float]:
    """``args.subscribers`` subscribers in ``args.client_procs`` child processes (so the
    clients' own work does not run on the server's event loop); ``args.events`` events one
    second apart once ``subscribed()`` counts every subscriber on the server; the latency of
    every delivery, publish to receipt (the client's clock read as the frame arrives, before
    it is parsed), on this machine's one clock."""
    count, procs, events = args.subscribers, args.client_procs, args.events
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
                "--deflate" if args.deflate else "--no-deflate",
                stdout=asyncio.subprocess.PIPE,
            )
        )
    for child in children:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 180)
        if line.strip() != b"ready":
            raise RuntimeError(f"a client process failed to subscribe: {line!r}")
    for _ in range(1200):  # every subscription has reached the server (and the bus)
        if subscribed() >= count:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    cpu = time.process_time()  # the server's CPU (this process), robust to the machine's load
    for _ in range(events):
        delta = GraphDelta(repo="fanout", commit=repr(time.time()))
        await publish(Event.of("graph.delta", repo="fanout", payload=delta.model_dump()))
        await asyncio.sleep(1.0)
    cpu_per_event = (time.process_time() - cpu) / events * 1000
    deliveries: list[tuple[float, float]] = []  # (event's publish time, latency)
    for child in children:
        out, _ = await asyncio.wait_for(child.communicate(), 300)
        deliveries += [tuple(d) for d in json.loads(out.decode().strip().splitlines()[-1])]
    latencies = [lat for _, lat in deliveries]
    summary = _summary(latencies)
    # The first event after start-up runs cold code paths once; report it apart so a short
    # run's p95 is not just the warm-up, and print both.
    first = min(sent for sent, _ in deliveries) if deliveries else 0.0
    summary["first_event_p95_ms"] = _summary([lat for s, lat in deliveries if s == first])["p95_ms"]
    later = [lat for s, lat in deliveries if s != first]
    summary["later_events_p95_ms"] = _summary(later)["p95_ms"] if later else 0.0
    per_event = sorted({sent for sent, _ in deliveries})
    summary["per_event_p95_ms"] = [  # type: ignore[assignment]
        _summary([lat for s, lat in deliveries if s == sent])["p95_ms"] for sent in per_event
    ]
    summary["subscribers"] = count
    summary["delivered"] = len(latencies)
    summary["server_cpu_ms_per_event"] = round(cpu_per_event, 1)
    return summary


@contextlib.asynccontextmanager
async def _serving(app: Starlette, deflate: bool) -> AsyncIterator[int]:
    # proto must say TCP: asyncio sets TCP_NODELAY only on sockets that do, and without it
    # every response (headers, then body) waited ~40 ms for the client's delayed ACK
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app, log_level="warning", ws_max_queue=32, backlog=4096, ws_per_message_deflate=deflate
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(600):
        if server.started:
            break
        await asyncio.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        await serving
        sock.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kg-bench-api-") as tmp:
        work = Path(tmp)
        settings = Settings(
            _env_file=None,
            graph_url=f"sqlite:///{work}/graph.db",
            vector_url=f"edge:///{work}/vectors",
            subscriber_queue=64,
            embed=args.only != "fanout",  # fan-out alone needs no corpus and no model
        )
        async with open_runtime(settings) as rt:
            app = create_app(settings, rt.service())
            if args.only != "fanout":
                results.update(await _corpus_and_queries(args, work, rt, app))
            if args.only != "queries":
                hub = app.state.kg_fanout
                if not args.share:  # every subscriber executes alone (the strawberry path)
                    hub.shareable = frozenset()
                settle_heap()  # as `kg serve` does before it serves
                async with _serving(app, args.deflate) as port:
                    results["fanout"] = await bench_fanout(
                        f"ws://127.0.0.1:{port}/graphql",
                        rt.bus.publish,
                        lambda: int(hub.member_count),
                        args,
                    )
                results["fanout"]["executions"] = hub.executions
    _print(results)
    return results


async def _corpus_and_queries(
    args: argparse.Namespace, work: Path, rt: Runtime, app: Starlette
) -> dict[str, Any]:
    root = Path(args.repo).resolve() if args.repo else default_corpus(work)
    started = time.perf_counter()
    report = await rt.indexer().index(root, repo="bench")
    indexed = time.perf_counter() - started
    fns = await rt.store.find(EntityQuery(repo="bench", kinds=[EntityKind.FUNCTION], limit=5000))
    async with _serving(app, args.deflate) as port:
        queries = await bench_queries(f"http://127.0.0.1:{port}", [f.id for f in fns], args.repeat)
    corpus = {
        "root": str(root),
        "files": report.files_seen,
        "functions": len(fns),
        "index_seconds": round(indexed, 1),
    }
    return {"corpus": corpus, "queries": queries}


def _print(results: dict[str, Any]) -> None:
    if "corpus" in results:
        c = results["corpus"]
        print(
            f"corpus: {c['files']} files, {c['functions']} functions, "
            f"indexed in {c['index_seconds']} s"
        )
        for name, s in results["queries"].items():
            print(
                f"query {name:18s} n={s['n']:4d}  p50 {s['p50_ms']:8.2f} ms  "
                f"p95 {s['p95_ms']:8.2f} ms"
            )
    if "fanout" in results:
        f = results["fanout"]
        print(
            f"fan-out: {f['subscribers']} subscribers, {f['delivered']} deliveries, "
            f"{f['executions']} executions: p50 {f['p50_ms']} ms, p95 {f['p95_ms']} ms, "
            f"max {f['max_ms']} ms ({'meets' if f['p95_ms'] < 100 else 'MISSES'} the 100 ms "
            f"p95 target); server CPU {f['server_cpu_ms_per_event']} ms per event; first event "
            f"p95 {f['first_event_p95_ms']} ms, later events p95 {f['later_events_p95_ms']} ms"
        )
        print(f"fan-out: p95 per event (ms): {f['per_event_p95_ms']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", help="working tree to index (default: networkx parts)")
    parser.add_argument("--repeat", type=int, default=200, help="queries per kind")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=10, help="events published to subscribers")
    parser.add_argument("--client-procs", type=int, default=2, help="subscriber processes")
    parser.add_argument("--only", choices=["queries", "fanout"], help="run one scenario only")
    parser.add_argument(
        "--share",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="identical subscriptions share one execution (api.fanout); --no-share to compare",
    )
    parser.add_argument(
        "--deflate",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="offer permessage-deflate (`kg serve --ws-deflate`; off by default as in kg serve)",
    )
    parser.add_argument(
        "--uvloop",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="serve on uvloop's event loop, as `kg serve` does when uvloop is installed",
    )
    parser.add_argument("--client", help=argparse.SUPPRESS)  # child mode: the server's ws URL
    args = parser.parse_args()
    if args.client:
        asyncio.run(_client_process(args.client, args.subscribers, args.events, args.deflate))
    elif args.uvloop:
        import uvloop  # uvicorn[standard] ships it; `kg serve` uses it the same way

        uvloop.run(run(args))
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
