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
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.util._decorator import _agnosticcontextmanager
from opentelemetry.util.types import Attributes

from kg.events.base import Event
from kg.events.kafka import KafkaBus
from kg.model import Entity, EntityKind
from kg.runtime import Runtime, open_runtime, open_source
from kg.settings import Settings
from kg.stores.base import EntityQuery
from kg.worker import Worker, assemble

REPO = "benchrepo"
LEAF = 5  # a save whose dependents re-resolve at most this many files


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class SpanTimes(trace.NoOpTracerProvider):
    """A minimal OpenTelemetry provider that sums span durations by name (ms): where a save's
    time goes inside the worker (pipeline.update/extract/apply, insights.observe...)."""

    def __init__(self) -> None:
        self.ms: defaultdict[str, float] = defaultdict(float)

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return _TimingTracer(self.ms)


class _TimingTracer(trace.NoOpTracer):
    def __init__(self, ms: defaultdict[str, float]) -> None:
        self._ms = ms

    @_agnosticcontextmanager
    def start_as_current_span(
        self,
        name: str,
        context: Context | None = None,
        kind: trace.SpanKind = trace.SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[trace.Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[trace.Span]:
        started = time.perf_counter()
        try:
            yield trace.INVALID_SPAN
        finally:
            self._ms[name] += (time.perf_counter() - started) * 1000


SPANS = SpanTimes()
trace.set_tracer_provider(SPANS)


@dataclass
class Save:
    delta_ms: float
    resolved: int
    stages: dict[str, float]  # worker stages of the save's batch (WorkerStats.stages)
    spans: dict[str, float]  # span totals during the save
    insight_ms: float | None = None


def edit_of(root: Path, fn: Entity, i: int) -> str:
    """A real edit at the end of the function body: one more branch (complexity + 1)."""
    path = root / (fn.path or "")
    lines = path.read_text().splitlines(keepends=True)
    span = fn.span
    assert span is not None
    head = lines[span.start_line - 1]
    indent = " " * (len(head) - len(head.lstrip()) + 4)
    lines.insert(span.end_line, f"{indent}if _bench_{i} := None:\n{indent}    pass\n")
    new = "".join(lines)
    path.write_text(new)
    return new


async def one_save(
    rt: Runtime,
    worker: Worker,
    it: AsyncIterator[Event],
    insights: AsyncIterator[Event],
    root: Path,
    fn: Entity,
    i: int,
) -> Save | None:
    new = edit_of(root, fn, i)
    SPANS.ms.clear()
    start = time.perf_counter()
    await rt.bus.publish(
        Event.of("file.changed", repo=REPO, payload={"path": fn.path, "content": new})
    )
    try:
        async with asyncio.timeout(120):
            while fn.path not in (await anext(it)).payload["paths"]:
                pass
    except TimeoutError:
        return None
    save = Save((time.perf_counter() - start) * 1000, worker.stats.last_resolved, {}, {})
    try:
        async with asyncio.timeout(0.5):
            await anext(insights)
        save.insight_ms = (time.perf_counter() - start) * 1000
    except TimeoutError:
        pass
    save.stages, save.spans = dict(worker.stats.stages), dict(SPANS.ms)
    return save


async def editor_loop(
    root: Path,
    work: Path,
    kafka: str,
    saves: int,
    embed: bool,
    leaf_only: bool,
    verbose: bool = False,
    background: bool = True,
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
        worker = assemble(rt, source, fetch_wait=0.05, background_embedding=background)
        # steady state: the first update loads the indexer's per-repo cache (all symbol tables)
        t0 = time.perf_counter()
        await worker.prepare(REPO)
        print(f"  cache warm-up (once per process): {time.perf_counter() - t0:.1f}s")
        task = asyncio.create_task(worker.run())
        it = aiter(rt.bus.subscribe(["graph.delta"]))
        insights = aiter(rt.bus.subscribe(["insight"], queue_size=10_000))
        done: list[Save] = []
        for i, fn in enumerate(targets):
            save = await one_save(rt, worker, it, insights, root, fn, i)
            if save is None and task.done():
                task.result()  # the worker died: show why
            if save is not None:
                done.append(save)
            if verbose:
                got = f"{save.delta_ms:.0f} ms, {save.resolved} resolved" if save else "no delta"
                print(f"    save {i}: {fn.path}::{fn.name}: {got}", flush=True)
        worker.stop()
        await task
        await source.close()
    report_saves("kafka" if kafka else "embedded", done, len(targets) - len(done))


def report_saves(mode: str, saves: list[Save], missed: int) -> None:
    delta_ms = [s.delta_ms for s in saves]
    print(
        f"  {mode}: save -> graphChanged p50 {pct(delta_ms, 0.5):.0f} ms, "
        f"p95 {pct(delta_ms, 0.95):.0f} ms, max {max(delta_ms):.0f} ms over {len(saves)} saves"
        f" ({missed} without a delta); files re-resolved per save: "
        f"{sorted(s.resolved for s in saves)}"
    )
    leaf = [s.delta_ms for s in saves if s.resolved <= LEAF]
    if leaf:
        print(
            f"  {mode}: saves re-resolving <= {LEAF} files ({len(leaf)}): "
            f"p50 {pct(leaf, 0.5):.0f} ms, p95 {pct(leaf, 0.95):.0f} ms"
        )
    firsts = [s.insight_ms for s in saves if s.insight_ms is not None]
    if firsts:
        gaps = [s.insight_ms - s.delta_ms for s in saves if s.insight_ms is not None]
        print(
            f"  {mode}: save -> first insight p50 {pct(firsts, 0.5):.0f} ms, "
            f"p95 {pct(firsts, 0.95):.0f} ms ({len(firsts)} saves produced insights); "
            f"graphChanged -> insight p50 {pct(gaps, 0.5):.0f} ms, p95 {pct(gaps, 0.95):.0f} ms"
        )
    breakdown(mode, saves)


def breakdown(mode: str, saves: list[Save]) -> None:
    """Where a save's time goes, p50/p95 per part (ms). transport = delta latency minus the
    worker's snapshot and update: bus in, fetch, planning, bus out."""
    parts: defaultdict[str, list[float]] = defaultdict(list)
    for s in saves:
        for name, ms in {**s.stages, **s.spans}.items():
            parts[name].append(ms)
        inside = s.stages.get("snapshot", 0.0) + s.stages.get("update", 0.0)
        parts["transport"].append(s.delta_ms - inside)
        update = s.spans.get("pipeline.update", 0.0)
        known = s.spans.get("pipeline.extract", 0.0) + s.spans.get("pipeline.apply", 0.0)
        parts["update: resolve+other"].append(update - known)
    print(f"  {mode}: breakdown (ms, p50 / p95 over saves):")
    for name in sorted(parts):
        values = parts[name]
        print(f"    {name:<28} {pct(values, 0.5):7.1f} / {pct(values, 0.95):7.1f}")


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
    # Timed from before the reader starts until the last event is dispatched: fetching,
    # decoding and routing all count (the clock must not start at the first delivery, by
    # which time the reader may already have fetched everything into its queue).
    t0 = time.perf_counter()
    reader = KafkaBus(kafka, topic_prefix=prefix, partitions=4)
    await reader.start()
    sub = reader.subscribe(["*"], queue_size=count + 10)
    reader._wildcard_since = since  # read what was written just before
    got = 0
    first: float | None = None
    async with asyncio.timeout(120):
        async for _ in sub:
            first = first or time.perf_counter()
            got += 1
            if got == count:
                break
    seconds = time.perf_counter() - t0
    assert first is not None
    print(
        f"  routing: consume + dispatch {count} events in {seconds:.2f}s = {count / seconds:,.0f}/s"
        f" (reader start to last event; first event after {first - t0:.2f}s)"
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
    parser.add_argument("--verbose", action="store_true", help="print every save")
    parser.add_argument(
        "--foreground-embed", action="store_true", help="embed before graphChanged (the old way)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / REPO
        shutil.copytree(args.repo, root, ignore=shutil.ignore_patterns(".git"), symlinks=True)
        files = sum(1 for p in root.rglob("*") if p.is_file())
        print(f"editor loop on {files} files ({args.repo}), embed={args.embed}")
        loop = (args.saves, args.embed, args.leaf_only, args.verbose, not args.foreground_embed)
        asyncio.run(editor_loop(root, Path(tmp) / "kg1", "", *loop))
        if args.kafka:
            shutil.rmtree(root)
            shutil.copytree(args.repo, root, ignore=shutil.ignore_patterns(".git"), symlinks=True)
            asyncio.run(editor_loop(root, Path(tmp) / "kg2", args.kafka, *loop))
            if args.events:
                print("event routing through Kafka")
                asyncio.run(dispatch_only(args.kafka, args.events))


if __name__ == "__main__":
    main()
