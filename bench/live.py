"""Live-pipeline bench: the editor loop and Kafka event routing.

1. Editor loop: a 1-file save -> ``file.changed`` -> worker -> ``graph.delta`` (and any
   insight) received by a subscriber; p50/p95 over many saves on a ~1,000-file repository,
   embedded (in-process bus) and with Kafka in the path (worker group + fan-out consumer).
2. Routing: small events published to Kafka, consumed and dispatched to a subscriber by the
   fan-out consumer; events/s.

    .venv/bin/python bench/live.py --repo /tmp/networkx [--kafka 127.0.0.1:9092]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from kg.events.base import Event
from kg.events.kafka import KafkaBus
from kg.model import EntityKind
from kg.runtime import open_runtime, open_source
from kg.settings import Settings
from kg.stores.base import EntityQuery
from kg.worker import assemble

REPO = "benchrepo"
LEAF = 5  # a save whose dependents re-resolve at most this many files


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def editor_loop(
    root: Path, work: Path, kafka: str, saves: int, embed: bool, leaf_only: bool
) -> None:
    settings = Settings(
        graph_url=f"sqlite:///{work}/graph.db",
        vector_url=f"edge:///{work}/vectors",
        embed=embed,
        history=False,
        kafka_bootstrap=kafka,
        kafka_topic_prefix=f"bench{uuid.uuid4().hex[:6]}.",
    )
    async with open_runtime(settings) as rt:
        t0 = time.perf_counter()
        report = await rt.indexer().index(root, REPO)
        print(f"  initial index: {report.files_seen} files in {time.perf_counter() - t0:.1f}s")
        query = EntityQuery(repo=REPO, kinds=[EntityKind.FUNCTION], limit=5000)
        funcs = await rt.store.find(query)
        targets = [f for f in funcs if f.path and f.span and f.span.end_line > f.span.start_line]
        if leaf_only:  # files nothing imports (tests): the cost of the event path itself
            targets = [f for f in targets if "/tests/" in (f.path or "")]
        targets = random.Random(7).sample(targets, min(saves, len(targets)))
        source = open_source(rt, f"bench-{uuid.uuid4().hex[:6]}")
        await source.start()
        worker = assemble(rt, source, fetch_wait=0.05)
        # steady state: the first update loads the indexer's per-repo cache (all symbol tables)
        t0 = time.perf_counter()
        await worker.prepare(REPO)
        print(f"  cache warm-up (once per process): {time.perf_counter() - t0:.1f}s")
        task = asyncio.create_task(worker.run())
        deltas = rt.bus.subscribe(["graph.delta"])
        insights = rt.bus.subscribe(["insight"], queue_size=10_000)
        delta_ms: list[float] = []
        insight_ms: list[float] = []
        it = aiter(deltas)
        missed = 0
        resolved: list[int] = []
        for i, fn in enumerate(targets):
            path = root / (fn.path or "")
            text = path.read_text()
            # a real edit at the end of the function body: one more branch (complexity + 1)
            lines = text.splitlines(keepends=True)
            span = fn.span
            assert span is not None
            head = lines[span.start_line - 1]
            indent = " " * (len(head) - len(head.lstrip()) + 4)
            edit = f"{indent}if _bench_{i} := None:\n{indent}    pass\n"
            lines.insert(span.end_line, edit)
            new = "".join(lines)
            path.write_text(new)
            start = time.perf_counter()
            await rt.bus.publish(
                Event.of("file.changed", repo=REPO, payload={"path": fn.path, "content": new})
            )
            try:
                async with asyncio.timeout(120):
                    while True:
                        d = await anext(it)
                        if fn.path in d.payload["paths"]:
                            break
            except TimeoutError:
                if task.done():
                    task.result()  # the worker died: show why
                missed += 1
                continue
            delta_ms.append((time.perf_counter() - start) * 1000)
            resolved.append(worker.stats.last_resolved)
            try:
                async with asyncio.timeout(0.5):
                    await anext(aiter(insights))
                insight_ms.append((time.perf_counter() - start) * 1000)
            except TimeoutError:
                pass
        worker.stop()
        await task
        await source.close()
    mode = "kafka" if kafka else "embedded"
    leaf = [ms for ms, n in zip(delta_ms, resolved, strict=True) if n <= LEAF]
    print(
        f"  {mode}: save -> graphChanged p50 {pct(delta_ms, 0.5):.0f} ms, "
        f"p95 {pct(delta_ms, 0.95):.0f} ms, max {max(delta_ms):.0f} ms over {len(delta_ms)} saves"
        f" ({missed} without a delta); files re-resolved per save: {sorted(resolved)}"
    )
    if leaf:
        print(
            f"  {mode}: saves re-resolving <= {LEAF} files ({len(leaf)}): "
            f"p50 {pct(leaf, 0.5):.0f} ms, p95 {pct(leaf, 0.95):.0f} ms"
        )
    if insight_ms:
        print(
            f"  {mode}: save -> first insight p50 {pct(insight_ms, 0.5):.0f} ms, "
            f"p95 {pct(insight_ms, 0.95):.0f} ms ({len(insight_ms)} saves produced insights)"
        )


async def dispatch_only(kafka: str, count: int) -> None:
    """Consume-and-dispatch rate alone: events already in Kafka, a fresh wildcard reader."""
    prefix = f"disp{uuid.uuid4().hex[:6]}."
    writer = KafkaBus(kafka, topic_prefix=prefix, partitions=4)
    await writer.start()
    since = time.time() - 1
    events = [Event.of("tick", repo=f"r{i % 8}", payload={"n": i}) for i in range(count)]
    t = time.perf_counter()
    for event in events:
        await writer.publish(event)
    await writer.flush()
    took = time.perf_counter() - t
    print(f"  routing: published {count} events in {took:.2f}s = {count / took:,.0f}/s")
    await writer.close()
    reader = KafkaBus(kafka, topic_prefix=prefix, partitions=4)
    await reader.start()
    sub = reader.subscribe(["*"], queue_size=count + 10)
    reader._wildcard_since = since  # read what was written just before
    got = 0
    t0: float | None = None
    async with asyncio.timeout(120):
        async for _ in sub:
            if t0 is None:
                t0 = time.perf_counter()
            got += 1
            if got == count:
                break
    assert t0 is not None
    seconds = time.perf_counter() - t0
    print(
        f"  routing: consume + dispatch {count} events in {seconds:.2f}s = {count / seconds:,.0f}/s"
    )
    await reader.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", type=Path, default=Path("/tmp/networkx"))
    parser.add_argument("--kafka", default="")
    parser.add_argument("--saves", type=int, default=40)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--embed", action="store_true")
    parser.add_argument("--leaf-only", action="store_true", help="edit only test files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / REPO
        shutil.copytree(args.repo, root, ignore=shutil.ignore_patterns(".git"), symlinks=True)
        files = sum(1 for p in root.rglob("*") if p.is_file())
        print(f"editor loop on {files} files ({args.repo}), embed={args.embed}")
        asyncio.run(
            editor_loop(root, Path(tmp) / "kg1", "", args.saves, args.embed, args.leaf_only)
        )
        if args.kafka:
            shutil.rmtree(root)
            shutil.copytree(args.repo, root, ignore=shutil.ignore_patterns(".git"), symlinks=True)
            asyncio.run(
                editor_loop(root, Path(tmp) / "kg2", args.kafka, args.saves, args.embed, True)
            )
            print("event routing through Kafka")
            asyncio.run(dispatch_only(args.kafka, args.events))


if __name__ == "__main__":
    main()
