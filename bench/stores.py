"""GraphStore benchmark: bulk load and traversal latency, SQLite and Neo4j side by side.

A synthetic but code-shaped graph: files that CONTAIN functions, functions that CALL others with
power-law fan-in (a few helpers are called from everywhere, most functions from nowhere or from
one place), and files that IMPORT other files, also skewed. Loaded the way the pipeline loads a
repository: one ``apply`` per group of files for what extraction produces (entities and
CONTAINS, per-file replace scopes), then one per group for the resolved CALLS/IMPORTS, each
stage through ``kg.stores.inflight.apply_in_order`` with the store's ``concurrent_applies``.

Then, from 200 random start entities: a 2-hop neighbourhood (``traverse`` depth 2 along every
kind, out then in) and callers with depth 3 (``traverse(..., [CALLS], "in", 3)``).

Every store is timed warm, as a long-running service runs. Before the timed load each store
loads a smaller throwaway graph of another repository (``--warmup-files``, then wiped; the
embedded store gets a throwaway database), and each query runs ``--warmup-passes`` untimed
passes over the same starts first. A JVM server compiles its hot paths during the first few
hundred thousand rows, which on a fresh process costs about as much CPU as the load itself:
the warm-up load's own rate is printed as the cold-process figure.

    python -m bench stores                           # both stores, Neo4j from .services/env
    python -m bench stores --files 5000 --neo4j-url bolt://127.0.0.1:7687
    python -m bench stores --stores sqlite           # only the embedded store

By default the Neo4j side runs on a private server started from the test services' cached jars
but configured like a deployment (``scripts/services.sh server-neo4j``: the server entry point,
``services/neo4j/server.conf.in`` with docker-compose's memory, full JIT and ParallelGC; the test
services' C1-only serial-GC JVM would measure start-up tuning, not throughput) and stopped
afterwards. CPU time (client, and the server's when it runs here) and the load average are
printed next to wall time because this machine is shared. ``--neo4j-url URL`` (e.g. a
docker-compose Neo4j) benchmarks an existing server instead; its database is wiped before and
after.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kg.model import Batch, Entity, EntityKind, Relation, RelationKind, file_scope, resolve_scope
from kg.stores.base import GraphStore
from kg.stores.inflight import apply_in_order
from kg.stores.neo4j import Neo4jGraphStore
from kg.stores.sqlite import SqliteGraphStore

REPO = "bench-stores"
WARM_REPO = "bench-stores-warmup"
ROOT = Path(__file__).resolve().parents[1]
ALL_KINDS = [RelationKind.CONTAINS, RelationKind.CALLS, RelationKind.IMPORTS]


@dataclass(slots=True)
class Graph:
    """The synthetic graph as batches ready to apply, in load order."""

    extract: list[Batch]
    resolve: list[Batch]
    ids: list[str]
    relations: int


def _skewed(rng: random.Random, n: int, exponent: float) -> Callable[[], int]:
    """A sampler of 0..n-1 with P(i) proportional to 1/(i+1)^exponent (Zipf-like)."""
    cum: list[float] = []
    total = 0.0
    for i in range(n):
        total += 1.0 / (i + 1) ** exponent
        cum.append(total)
    order = list(range(n))
    rng.shuffle(order)  # popular targets are spread over the files, not the first ones

    def pick() -> int:
        return order[rng.choices(range(n), cum_weights=cum)[0]]

    return pick


def build_graph(
    files: int, per_file: int, calls: int, imports: int, seed: int, repo: str = REPO
) -> Graph:
    """``files`` files of ``per_file`` functions each; every function calls ``calls`` others,
    every file imports ``imports`` others."""
    rng = random.Random(seed)
    paths = [f"pkg{i // 100}/mod{i}.py" for i in range(files)]
    file_ents = [
        Entity.make(EntityKind.FILE, repo, p, name=p.rsplit("/", 1)[1], path=p, language="python")
        for p in paths
    ]
    funcs = [
        [
            Entity.make(
                EntityKind.FUNCTION, repo, f"{p}::f{j}", name=f"f{j}", path=p, language="python"
            )
            for j in range(per_file)
        ]
        for p in paths
    ]
    flat = [f for group in funcs for f in group]
    callee = _skewed(rng, len(flat), 1.0)
    imported = _skewed(rng, files, 0.8)
    extract: list[Batch] = []
    resolve: list[Batch] = []
    n_rel = 0
    for i, p in enumerate(paths):
        owner = file_scope(repo, p)
        ents = [file_ents[i].with_owner(owner), *(f.with_owner(owner) for f in funcs[i])]
        contains = [
            Relation(RelationKind.CONTAINS, file_ents[i].id, f.id, owner=owner) for f in funcs[i]
        ]
        extract.append(Batch(repo, ents, contains, replace_scopes={owner}))
        r_owner = resolve_scope(repo, p)
        edges: dict[tuple[RelationKind, str, str], Relation] = {}
        for f in funcs[i]:
            for _ in range(calls):
                dst = flat[callee()].id
                conf = round(rng.uniform(0.5, 1.0), 3)
                edges[(RelationKind.CALLS, f.id, dst)] = Relation(
                    RelationKind.CALLS, f.id, dst, conf, "bench:synthetic", r_owner
                )
        for _ in range(imports):
            dst = file_ents[imported()].id
            edges[(RelationKind.IMPORTS, file_ents[i].id, dst)] = Relation(
                RelationKind.IMPORTS, file_ents[i].id, dst, 1.0, "bench:synthetic", r_owner
            )
        resolve.append(Batch(repo, [], list(edges.values()), replace_scopes={r_owner}))
        n_rel += len(contains) + len(edges)
    ids = [e.id for e in file_ents] + [f.id for f in flat]
    return Graph(extract, resolve, ids, n_rel)


def merged(batches: list[Batch], group: int) -> Iterator[Batch]:
    """Several files' batches as one unit of work (what a bulk import applies at once)."""
    for i in range(0, len(batches), group):
        part = batches[i : i + group]
        yield Batch(
            part[0].repo,
            [e for b in part for e in b.entities],
            [r for b in part for r in b.relations],
            replace_scopes={s for b in part for s in b.replace_scopes},
        )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(slots=True)
class Timed:
    """One timed pass: milliseconds per call, entities reached, CPU seconds (client, server)."""

    ms: list[float]
    reached: int
    client_cpu: float
    server_cpu: float


async def latencies(
    fn: Callable[[str], Awaitable[int]], starts: list[str], pid: int | None = None, warmup: int = 1
) -> Timed:
    """Each call over ``starts``, after ``warmup`` untimed passes over the same starts: every
    store is timed warm (caches, query plans, a JIT's compiled code)."""
    for _ in range(warmup):
        for s in starts:
            await fn(s)
    out: list[float] = []
    reached = 0
    c0, s0 = time.process_time(), cpu_seconds(pid)
    for s in starts:
        t0 = time.perf_counter()
        reached += await fn(s)
        out.append((time.perf_counter() - t0) * 1000)
    return Timed(out, reached, time.process_time() - c0, cpu_seconds(pid) - s0)


def cpu_seconds(pid: int | None) -> float:
    """CPU time of a local process (utime + stime), 0 when unknown."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(store: GraphStore, batches: list[Batch], args: argparse.Namespace) -> None:
    """Apply one stage's batches as the pipeline does: ``store.concurrent_applies`` in flight
    (unless ``--concurrent-applies`` overrides it)."""
    window = args.concurrent_applies or store.concurrent_applies
    await apply_in_order(store.apply, window, merged(batches, args.group))


async def warm_up(
    name: str, store: GraphStore, warm: Graph, args: argparse.Namespace, pid: int | None
) -> None:
    """Load the throwaway graph (the caller discards it): the cold-process figure."""
    c0, t0 = cpu_seconds(pid), time.perf_counter()
    await load(store, warm.extract, args)
    await load(store, warm.resolve, args)
    took = time.perf_counter() - t0
    server = f", server CPU {cpu_seconds(pid) - c0:.1f} s" if pid is not None else ""
    print(
        f"[{name}] warm-up load (cold process, discarded): {warm.relations} relationships in "
        f"{took:.1f} s = {warm.relations / took:,.0f} relationships/s{server}"
    )


async def bench_store(
    name: str, store: GraphStore, graph: Graph, args: argparse.Namespace, pid: int | None = None
) -> None:
    print(f"[{name}] load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    window = args.concurrent_applies or store.concurrent_applies
    print(f"[{name}] applies in flight: {window}")
    c0, s0 = time.process_time(), cpu_seconds(pid)
    t0 = time.perf_counter()
    await load(store, graph.extract, args)
    t1 = time.perf_counter()
    await load(store, graph.resolve, args)
    t2 = time.perf_counter()
    resolved = sum(len(b.relations) for b in graph.resolve)
    stats = await store.stats(REPO)
    nodes = sum(v for k, v in stats.items() if k in EntityKind.__members__.values())
    rels = sum(v for k, v in stats.items() if k in RelationKind.__members__.values())
    print(
        f"[{name}] bulk load: {nodes} nodes, {rels} relationships in {t2 - t0:.1f} s "
        f"= {rels / (t2 - t0):,.0f} relationships/s overall "
        f"(extract batches {t1 - t0:.1f} s, resolved CALLS/IMPORTS {t2 - t1:.1f} s "
        f"= {resolved / (t2 - t1):,.0f}/s)"
    )
    client, server = time.process_time() - c0, cpu_seconds(pid) - s0
    if pid is not None:
        print(
            f"[{name}] CPU during the load: client {client:.1f} s, server {server:.1f} s "
            f"= {rels / server:,.0f} relationships per server CPU second"
        )

    async def two_hop(s: str) -> int:
        out = await store.traverse([s], ALL_KINDS, "out", 2)
        inn = await store.traverse([s], ALL_KINDS, "in", 2)
        return len(out) + len(inn)

    async def callers3(s: str) -> int:
        return len(await store.traverse([s], [RelationKind.CALLS], "in", 3))

    starts = random.Random(args.seed + 1).sample(graph.ids, args.starts)
    for label, fn in (("2-hop neighbourhood (out+in)", two_hop), ("callers depth 3", callers3)):
        t = await latencies(fn, starts, pid, args.warmup_passes)
        n = len(starts)
        cpu = f"client {t.client_cpu / n * 1000:.2f} ms" + (
            f", server {t.server_cpu / n * 1000:.2f} ms" if pid is not None else ""
        )
        print(
            f"[{name}] {label}: p50 {pct(t.ms, 0.5):.2f} ms, p95 {pct(t.ms, 0.95):.2f} ms, "
            f"max {max(t.ms):.1f} ms over {n} starts "
            f"({t.reached / n:.0f} entities reached on average); CPU per call {cpu}"
        )
    print(f"[{name}] load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def private_neo4j(home: Path) -> tuple[int, str]:
    """Start a Neo4j server from the test services' cached jars; (pid, bolt URL)."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "services.sh"), "server-neo4j", str(home)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": sys.executable},
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"could not start a private Neo4j:\n{done.stderr[-2000:]}")
    pid, url = done.stdout.split()
    return int(pid), url


async def bench_neo4j(
    graph: Graph, warm: Graph | None, args: argparse.Namespace, tmp: Path
) -> None:
    pid: int | None = None
    url = args.neo4j_url
    if not url:
        pid, url = private_neo4j(tmp / "neo4j")
    try:
        store = Neo4jGraphStore(url)
        await store.start()
        try:
            await store.wipe()
            if warm is not None:
                await warm_up(f"neo4j {url}", store, warm, args, pid)
                await store.wipe()
            await bench_store(f"neo4j {url}", store, graph, args, pid)
            if args.neo4j_url:
                await store.wipe()
        finally:
            await store.close()
    finally:
        if pid is not None:
            os.kill(pid, signal.SIGKILL)  # throwaway data: no clean shutdown needed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--files", type=int, default=5000, help="files (default 5000)")
    parser.add_argument("--functions", type=int, default=20, help="functions per file")
    parser.add_argument("--calls", type=int, default=3, help="calls per function")
    parser.add_argument("--imports", type=int, default=5, help="imports per file")
    parser.add_argument("--group", type=int, default=250, help="files per apply")
    parser.add_argument("--starts", type=int, default=200, help="random start entities")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--warmup-files",
        type=int,
        default=-1,
        help="files of the throwaway warm-up load (default: half of --files; 0: none)",
    )
    parser.add_argument(
        "--warmup-passes", type=int, default=5, help="untimed query passes before timing"
    )
    parser.add_argument("--stores", default="sqlite,neo4j", help="comma separated")
    parser.add_argument(
        "--concurrent-applies",
        type=int,
        default=0,
        help="applies in flight (default: what the store asks for, as the pipeline does)",
    )
    parser.add_argument(
        "--neo4j-url", help="an existing server to use (wiped!); default: start a private one"
    )


async def run(args: argparse.Namespace) -> None:
    """Build the graph once, then load and query it on each asked store."""
    t0 = time.perf_counter()
    graph = build_graph(args.files, args.functions, args.calls, args.imports, args.seed)
    warm_files = args.files // 2 if args.warmup_files < 0 else args.warmup_files
    warm = (
        build_graph(warm_files, args.functions, args.calls, args.imports, args.seed + 1, WARM_REPO)
        if warm_files
        else None
    )
    # The synthetic graph is half a million long-lived objects no server process would hold:
    # out of the collector's reach, they cannot add full-collection pauses to the timings.
    gc.collect()
    gc.freeze()
    print(
        f"synthetic graph: {len(graph.ids)} nodes, {graph.relations} relationships "
        f"(built in {time.perf_counter() - t0:.1f} s)"
    )
    wanted = [s.strip() for s in args.stores.split(",") if s.strip()]
    with tempfile.TemporaryDirectory(prefix="kg-bench-stores-") as tmp:
        if "sqlite" in wanted:
            if warm is not None:
                throwaway = SqliteGraphStore(Path(tmp) / "warm.db")
                await throwaway.start()
                try:
                    await warm_up("sqlite", throwaway, warm, args, None)
                finally:
                    await throwaway.close()
            store = SqliteGraphStore(Path(tmp) / "graph.db")
            await store.start()
            try:
                await bench_store("sqlite", store, graph, args)
            finally:
                await store.close()
        if "neo4j" in wanted:
            await bench_neo4j(graph, warm, args, Path(tmp))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stores", description=__doc__)
    add_arguments(parser)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
