"""Indexing bench: graph-only and embedded throughput, incremental edits, search latency.

The default corpus is a real project's source tree (networkx, as installed with codekg's
dependencies) copied into a temporary git repository; ``--repo PATH`` indexes a copy of any
other working tree (the edit benchmark rewrites a file, so never the original).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from kg import bulk, parallel
from kg.pipeline import FileChange
from kg.runtime import Runtime, open_runtime
from kg.settings import Settings

QUERIES = [
    "shortest path between two nodes",
    "read a graph from a file",
    "compute pagerank",
    "check whether a graph is connected",
    "minimum spanning tree",
    "convert graph to numpy matrix",
    "add an edge with weight",
    "topological sort of a directed acyclic graph",
    "maximum flow",
    "detect cycles",
    "graph isomorphism",
    "random graph generator",
    "betweenness centrality",
    "write graph to json",
    "remove a node and its edges",
    "depth first search",
    "bipartite matching",
    "clustering coefficient",
    "relabel nodes",
    "draw the graph with matplotlib",
]


def default_corpus(workdir: Path) -> Path:
    import networkx

    src = Path(networkx.__file__).parent
    dest = workdir / "networkx"
    shutil.copytree(src, dest / "networkx", ignore=shutil.ignore_patterns("__pycache__"))
    env = {
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
        "PATH": "/usr/bin:/bin",
    }
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "import"]):
        subprocess.run(cmd, cwd=dest, check=True, env=env)
    return dest


def _cpu_seconds() -> float:
    """This process's CPU plus its reaped children's (the pipeline forks a second worker)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(fn: Callable[[], Awaitable[object]], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def bench_graph_only(repo: Path, work: Path, edits: int) -> None:
    settings = Settings(graph_url=f"sqlite:///{work}/graph.db", embed=False, history=False)
    async with open_runtime(settings) as rt:
        cpu = _cpu_seconds()
        report = await rt.indexer(embed=False).index(repo)
        cpu = _cpu_seconds() - cpu
        print(
            f"graph-only index: {report.files_changed} files in {report.seconds:.2f}s "
            f"= {report.files_changed / report.seconds:.0f} files/s "
            f"({report.entities_added} entities, {report.relations_added} relations); "
            f"CPU {cpu:.2f}s = {report.files_changed / cpu:.0f} files per CPU-second "
            f"incl. forked workers (the wall figure on a shared machine is bounded by the "
            f"CPU it gets); load average now {os.getloadavg()[0]:.2f}"
        )
        if not edits:
            return
        again = await rt.indexer(embed=False).index(repo)
        print(f"re-index unchanged: {again.seconds * 1000:.0f} ms, writes={again.wrote_anything}")
        target = edit_target(repo)
        original = target.read_text()
        times: list[float] = []
        for i in range(edits):
            target.write_text(_interface_edit(original, i, target.suffix))
            t0 = time.perf_counter()
            await rt.indexer(embed=False).index(repo)
            times.append((time.perf_counter() - t0) * 1000)
        target.write_text(original)
        await rt.indexer(embed=False).index(repo)
        print(
            f"1-file edit via kg index (whole command, incl. tree scan): "
            f"p50 {pct(times, 0.5):.0f} ms, p95 {pct(times, 0.95):.0f} ms"
        )
        await bench_update_files(rt, repo, target, original, edits)
        hub = await most_depended_on(rt, repo, target.suffix)
        await bench_update_files(rt, repo, repo / hub, (repo / hub).read_text(), edits)


async def most_depended_on(rt: Runtime, repo: Path, suffix: str) -> str:
    """The source file most others' resolution reads: the worst case for an interface edit."""
    counts: Counter[str] = Counter()
    for raw in (await rt.store.states(repo.name, "deps:")).values():
        counts.update(p for p in json.loads(raw) if p.endswith(suffix))
    return counts.most_common(1)[0][0]


# A new top-level function per language (an interface edit); a body edit is a comment line.
ADDED = {
    ".py": "\n\ndef _bench_added_{i}():\n    pass\n",
    ".js": "\nexport function benchAdded{i}() {{}}\n",
    ".ts": "\nexport function benchAdded{i}(): void {{}}\n",
    ".rs": "\npub fn bench_added_{i}() {{}}\n",
    ".go": "\nfunc BenchAdded{i}() {{}}\n",
}
COMMENT = {".py": "#", ".rb": "#", ".php": "//"}


def edit_target(repo: Path) -> Path:
    """A mid-sized file of the repository's most common language the bench can edit."""
    counts = Counter(
        p.suffix for p in repo.rglob("*") if p.suffix in ADDED and ".git" not in p.parts
    )
    suffix = counts.most_common(1)[0][0]
    return next(p for p in sorted(repo.rglob(f"*{suffix}")) if p.stat().st_size > 2000)


def _body_edit(original: str, i: int, suffix: str) -> str:
    return f"{COMMENT.get(suffix, '//')} edit {i}\n" + original


def _interface_edit(original: str, i: int, suffix: str) -> str:
    return original + ADDED.get(suffix, "").format(i=i)


async def bench_update_files(
    rt: Runtime, repo: Path, target: Path, original: str, edits: int
) -> None:
    """The editor/worker path: one long-lived indexer told which file changed."""
    indexer = rt.indexer(embed=False)
    rel = target.relative_to(repo).as_posix()
    await indexer.warm(repo.name)  # what a long-lived worker does at start
    for label, edit in (("body edit", _body_edit), ("interface edit", _interface_edit)):
        times: list[float] = []
        resolved = 0
        for i in range(edits):
            change = FileChange(rel, edit(original, i, target.suffix).encode())
            t0 = time.perf_counter()
            report = await indexer.update_files(repo, [change])
            times.append((time.perf_counter() - t0) * 1000)
            resolved = max(resolved, report.files_resolved)
        print(
            f"1-file {label} via update_files ({rel}): p50 {pct(times, 0.5):.0f} ms, "
            f"p95 {pct(times, 0.95):.0f} ms, up to {resolved} files re-resolved"
        )
    await indexer.update_files(repo, [FileChange(rel)])


async def bench_with_embeddings(repo: Path, work: Path) -> None:
    settings = Settings(
        graph_url=f"sqlite:///{work}/graph-e.db",
        vector_url=f"edge:///{work}/vectors",
        history=False,
    )
    async with open_runtime(settings) as rt:
        report = await rt.indexer().index(repo)
        print(
            f"index with embeddings: {report.files_changed} files in {report.seconds:.2f}s "
            f"= {report.files_changed / report.seconds:.1f} files/s, "
            f"{report.embedded} documents embedded "
            f"({report.embedded / report.seconds:.0f} docs/s)"
        )
        service = rt.service()
        for mode in ("hybrid", "lexical", "semantic"):
            queries = iter(QUERIES * 5)

            async def one(mode: str = mode, queries: Iterator[str] = queries) -> object:
                return await service.search(next(queries), mode=mode, first=10)  # type: ignore[arg-type]

            await one()  # warm-up: model load
            lat = await timed(one, 60)
            print(f"search {mode:8}: p50 {pct(lat, 0.5):.1f} ms, p95 {pct(lat, 0.95):.1f} ms")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", type=Path, help="working tree to index (default: networkx)")
    parser.add_argument("--skip-embeddings", action="store_true")
    parser.add_argument(
        "--edits", type=int, default=20, help="timed edits per edit benchmark (0: skip them)"
    )
    forks = parser.add_mutually_exclusive_group()
    forks.add_argument(
        "--no-fork",
        action="store_true",
        help="extract and resolve in one process (to compare with the forked second worker)",
    )
    forks.add_argument(
        "--fork",
        action="store_true",
        help="fork the second worker even when the load average says no core is spare",
    )


async def run(args: argparse.Namespace) -> None:
    if args.no_fork:
        bulk.FORK_EXTRACT_BYTES = bulk.FORK_RESOLVE_REFERENCES = 1 << 62
    if args.fork:
        parallel.spare_cpu = lambda: True
    with tempfile.TemporaryDirectory(prefix="kg-bench-") as tmp:
        work = Path(tmp)
        if args.repo:
            # Work on a copy: the edit benchmark rewrites a file.
            repo = work / "repo"
            shutil.copytree(
                args.repo,
                repo,
                symlinks=True,
                ignore=shutil.ignore_patterns(".venv", "node_modules", ".kg", "__pycache__"),
            )
        else:
            repo = default_corpus(work)
        n_py = sum(1 for _ in repo.rglob("*.py"))
        size = sum(p.stat().st_size for p in repo.rglob("*.py"))
        print(f"corpus: {repo} ({n_py} .py files, {size / 1e6:.1f} MB)")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        workers = "never" if args.no_fork else "always" if args.fork else "when a core is spare"
        print(f"second (forked) worker: {workers}; a core spare now: {parallel.spare_cpu()}")
        await bench_graph_only(repo, work, args.edits)
        if not args.skip_embeddings:
            await bench_with_embeddings(repo, work)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.index", description=__doc__)
    add_arguments(parser)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
