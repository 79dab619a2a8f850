"""GraphStore benchmark: bulk load and traversal latency, SQLite and Neo4j side by side.

A synthetic but code-shaped graph: files that CONTAIN functions, functions that CALL others with
power-law fan-in (a few helpers are called from everywhere, most functions from nowhere or from
one place), and files that IMPORT other files, also skewed. Loaded the way the pipeline loads a
repository: one ``apply`` per group of files for what extraction produces (entities and
CONTAINS, per-file replace scopes), then one per group for the resolved CALLS/IMPORTS.

Then, from 200 random start entities: a 2-hop neighbourhood (``traverse`` depth 2 along every
kind, out then in) and callers with depth 3 (``traverse(..., [CALLS], "in", 3)``).

    python -m bench stores                           # both stores, Neo4j from .services/env
    python -m bench stores --files 5000 --neo4j-url bolt://127.0.0.1:7687
    python -m bench stores --stores sqlite           # only the embedded store

Neo4j's URL is ``--neo4j-url``, else ``KG_TEST_NEO4J_URL``, else the one in ``.services/env``
(``scripts/services.sh up``). The Neo4j database is wiped before and after (so point it at a
throwaway server: ``scripts/services.sh private-neo4j DIR`` starts one from the same build).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kg.model import Batch, Entity, EntityKind, Relation, RelationKind, file_scope, resolve_scope
from kg.stores.base import GraphStore
from kg.stores.neo4j import Neo4jGraphStore
from kg.stores.sqlite import SqliteGraphStore

REPO = "bench-stores"
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


def build_graph(files: int, per_file: int, calls: int, imports: int, seed: int) -> Graph:
    """``files`` files of ``per_file`` functions each; every function calls ``calls`` others,
    every file imports ``imports`` others; ``group`` files per batch."""
    rng = random.Random(seed)
    paths = [f"pkg{i // 100}/mod{i}.py" for i in range(files)]
    file_ents = [
        Entity.make(EntityKind.FILE, REPO, p, name=p.rsplit("/", 1)[1], path=p, language="python")
        for p in paths
    ]
    funcs = [
        [
            Entity.make(
                EntityKind.FUNCTION, REPO, f"{p}::f{j}", name=f"f{j}", path=p, language="python"
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
        owner = file_scope(REPO, p)
        ents = [file_ents[i].with_owner(owner), *(f.with_owner(owner) for f in funcs[i])]
        contains = [
            Relation(RelationKind.CONTAINS, file_ents[i].id, f.id, owner=owner) for f in funcs[i]
        ]
        extract.append(Batch(REPO, ents, contains, replace_scopes={owner}))
        r_owner = resolve_scope(REPO, p)
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
        resolve.append(Batch(REPO, [], list(edges.values()), replace_scopes={r_owner}))
        n_rel += len(contains) + len(edges)
    ids = [e.id for e in file_ents] + [f.id for f in flat]
    return Graph(extract, resolve, ids, n_rel)


def merged(batches: list[Batch], group: int) -> Iterator[Batch]:
    """Several files' batches as one unit of work (what a bulk import applies at once)."""
    for i in range(0, len(batches), group):
        part = batches[i : i + group]
        yield Batch(
            REPO,
            [e for b in part for e in b.entities],
            [r for b in part for r in b.relations],
            replace_scopes={s for b in part for s in b.replace_scopes},
        )


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def latencies(
    fn: Callable[[str], Awaitable[int]], starts: list[str]
) -> tuple[list[float], int]:
    """Milliseconds per call over ``starts`` (after a short warm-up) and entities reached."""
    for s in starts[:20]:
        await fn(s)
    out: list[float] = []
    reached = 0
    for s in starts:
        t0 = time.perf_counter()
        reached += await fn(s)
        out.append((time.perf_counter() - t0) * 1000)
    return out, reached


async def bench_store(name: str, store: GraphStore, graph: Graph, args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    for batch in merged(graph.extract, args.group):
        await store.apply(batch)
    t1 = time.perf_counter()
    for batch in merged(graph.resolve, args.group):
        await store.apply(batch)
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

    async def two_hop(s: str) -> int:
        out = await store.traverse([s], ALL_KINDS, "out", 2)
        inn = await store.traverse([s], ALL_KINDS, "in", 2)
        return len(out) + len(inn)

    async def callers3(s: str) -> int:
        return len(await store.traverse([s], [RelationKind.CALLS], "in", 3))

    starts = random.Random(args.seed + 1).sample(graph.ids, args.starts)
    for label, fn in (("2-hop neighbourhood (out+in)", two_hop), ("callers depth 3", callers3)):
        lat, reached = await latencies(fn, starts)
        print(
            f"[{name}] {label}: p50 {pct(lat, 0.5):.2f} ms, p95 {pct(lat, 0.95):.2f} ms, "
            f"max {max(lat):.1f} ms over {len(starts)} starts "
            f"({reached / len(starts):.0f} entities reached on average)"
        )


def neo4j_url(given: str | None) -> str | None:
    if given:
        return given
    if os.environ.get("KG_TEST_NEO4J_URL"):
        return os.environ["KG_TEST_NEO4J_URL"]
    env = ROOT / ".services" / "env"
    if env.exists():
        m = re.search(r"KG_TEST_NEO4J_URL=(\S+)", env.read_text())
        if m:
            return m.group(1)
    return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--files", type=int, default=5000, help="files (default 5000)")
    parser.add_argument("--functions", type=int, default=20, help="functions per file")
    parser.add_argument("--calls", type=int, default=3, help="calls per function")
    parser.add_argument("--imports", type=int, default=5, help="imports per file")
    parser.add_argument("--group", type=int, default=250, help="files per apply")
    parser.add_argument("--starts", type=int, default=200, help="random start entities")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stores", default="sqlite,neo4j", help="comma separated")
    parser.add_argument("--neo4j-url", help="default: KG_TEST_NEO4J_URL or .services/env")


async def run(args: argparse.Namespace) -> None:
    """Build the graph once, then load and query it on each asked store."""
    t0 = time.perf_counter()
    graph = build_graph(args.files, args.functions, args.calls, args.imports, args.seed)
    print(
        f"synthetic graph: {len(graph.ids)} nodes, {graph.relations} relationships "
        f"(built in {time.perf_counter() - t0:.1f} s)"
    )
    wanted = [s.strip() for s in args.stores.split(",") if s.strip()]
    if "sqlite" in wanted:
        with tempfile.TemporaryDirectory(prefix="kg-bench-stores-") as tmp:
            store = SqliteGraphStore(Path(tmp) / "graph.db")
            await store.start()
            try:
                await bench_store("sqlite", store, graph, args)
            finally:
                await store.close()
    if "neo4j" in wanted:
        url = neo4j_url(args.neo4j_url)
        if url is None:
            print("[neo4j] skipped: no --neo4j-url, KG_TEST_NEO4J_URL or .services/env")
            return
        neo = Neo4jGraphStore(url)
        await neo.start()
        try:
            await neo.wipe()
            await bench_store(f"neo4j {url}", neo, graph, args)
        finally:
            await neo.wipe()
            await neo.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stores", description=__doc__)
    add_arguments(parser)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
