"""The ``kg`` command line: index a repository, serve GraphQL, search, evaluate.

kg index .                 # code + history + vectors into .kg/ (embedded stores)
kg serve --port 8000       # GraphQL + GraphiQL at http://127.0.0.1:8000/graphql
kg search "parse a config file"
kg eval resolution ../shared/eval/name-resolution/python
kg eval search --corpus corpus.jsonl --queries queries.jsonl --mode hybrid
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from kg.errors import KGError
from kg.pipeline import IndexReport
from kg.runtime import open_runtime
from kg.settings import Settings

T = TypeVar("T")

app = typer.Typer(
    help="codekg: a time-aware code knowledge graph served over GraphQL.",
    no_args_is_help=True,
    add_completion=False,
)
eval_app = typer.Typer(help="Measure codekg against evaluation data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
console = Console(stderr=True)
out = Console()


def _settings(**overrides: object) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except KGError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


@app.command()
def index(
    path: Annotated[Path, typer.Argument(help="Working tree to index.")] = Path("."),
    name: Annotated[
        str | None, typer.Option(help="Repository name (default: folder name).")
    ] = None,
    embed: Annotated[bool, typer.Option(help="Compute vectors for search.")] = True,
    history: Annotated[bool, typer.Option(help="Index git history.")] = True,
) -> None:
    """Index a repository: extract, resolve, store, embed what changed, publish the delta."""
    if not path.is_dir():
        console.print(f"[red]error:[/red] {path} is not a directory")
        raise typer.Exit(2)
    settings = _settings(embed=embed, history=history)
    report = _run(_index(settings, path, name))
    _print_report(report)


async def _index(settings: Settings, path: Path, name: str | None) -> IndexReport:
    columns = (
        TextColumn("{task.description:>10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total or None)
            bar.update(tasks[stage], completed=done, total=total or None)

        async with open_runtime(settings) as rt:
            # vectors follow the graph in the background; the command still ends with both
            report = await rt.indexer(progress, background=True).index(path, name)
            started = time.perf_counter()
            await rt.wait_for_vectors(progress)
            waited = time.perf_counter() - started
            report.seconds += waited
            report.embed_seconds += waited
            return report


def _print_report(r: IndexReport) -> None:
    table = Table(title=f"indexed {r.repo} in {r.seconds:.1f}s", show_header=False)
    graph_seconds = max(r.seconds - r.embed_seconds, 1e-9)
    rate = r.files_changed / graph_seconds
    rows = [
        (
            "files",
            f"{r.files_seen} seen, {r.files_changed} changed ({rate:.0f}/s), "
            f"{r.files_deleted} deleted, {r.files_resolved} resolved",
        ),
        ("skipped", ", ".join(f"{n} {why}" for why, n in sorted(r.skipped.items())) or "none"),
        ("unknown extension", str(r.unknown_extension)),
        ("commits", str(r.commits)),
        ("entities", f"+{r.entities_added} ~{r.entities_updated} -{r.entities_removed}"),
        ("relations", f"+{r.relations_added} -{r.relations_removed}"),
        ("embedded", f"{r.embedded} in {r.embed_seconds:.1f}s"),
        ("parse errors", str(len(r.parse_errors))),
    ]
    for key, value in rows:
        table.add_row(key, value)
    out.print(table)
    for note in r.notes:
        out.print(f"note: {note}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    ws_deflate: Annotated[
        bool,
        typer.Option(
            help="Compress websocket frames (permessage-deflate). Off by default: it costs CPU "
            "per subscriber and event, which dominates subscription fan-out on local networks."
        ),
    ] = False,
) -> None:
    """Serve GraphQL (and GraphiQL in a browser) at http://HOST:PORT/graphql."""
    settings = _settings()
    _run(_serve(settings, host, port, ws_deflate), loop_factory=_fast_loop())


def _fast_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (it comes with uvicorn[standard]): it cuts the tail latency of
    pushing one event to many websockets; the standard loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _serve(settings: Settings, host: str, port: int, ws_deflate: bool = False) -> None:
    import uvicorn

    from api.app import create_app, settle_heap  # the CLI alone may reach up to the API

    async with open_runtime(settings) as rt:
        application = create_app(settings, rt.service())
        config = uvicorn.Config(
            application,
            host=host,
            port=port,
            log_level="info",
            ws_per_message_deflate=ws_deflate,
        )
        settle_heap()
        out.print(f"GraphiQL: http://{host}:{port}/graphql")
        await uvicorn.Server(config).serve()


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in words or code.")],
    mode: Annotated[str, typer.Option(help="hybrid | semantic | lexical")] = "hybrid",
    limit: Annotated[int, typer.Option(help="How many hits.")] = 10,
) -> None:
    """Search the indexed code and history; each hit shows how each signal ranked it."""
    if mode not in ("hybrid", "semantic", "lexical"):
        console.print(f"[red]error:[/red] --mode {mode!r}: use hybrid, semantic or lexical")
        raise typer.Exit(2)
    settings = _settings()
    _run(_search(settings, query, mode, limit))


async def _search(settings: Settings, query: str, mode: str, limit: int) -> None:
    async with open_runtime(settings) as rt:
        hits = await rt.service().search(query, mode=mode, first=limit)  # type: ignore[arg-type]
    table = Table("#", "score", "kind", "name", "path", "why")
    for i, result in enumerate(hits, 1):
        why = ", ".join(f"{s.signal}#{s.rank}" for s in result.hit.signals if s.rank is not None)
        e = result.entity
        table.add_row(str(i), f"{result.hit.score:.4f}", e.kind.value, e.name, e.path or "", why)
    out.print(table)


@app.command()
def worker(
    group: Annotated[str, typer.Option(help="Kafka consumer group of the workers.")] = "kg-worker",
    max_batch: Annotated[
        int, typer.Option(help="Events per batch (bounds in-flight work).")
    ] = 1000,
    insights: Annotated[bool, typer.Option(help="Run the insights engine on each change.")] = True,
) -> None:
    """Apply source events (file.changed, commit.pushed, ingest.requested, discussion.*)."""
    settings = _settings()
    _run(_worker(settings, group, max_batch, insights))


async def _worker(settings: Settings, group: str, max_batch: int, insights: bool) -> None:
    from kg.runtime import open_source
    from kg.worker import assemble

    async with open_runtime(settings) as rt:
        source = open_source(rt, group)
        await source.start()
        w = assemble(rt, source, insights=insights, max_batch=max_batch)
        console.print(f"worker {group!r} consuming source events (Ctrl-C to stop)")
        try:
            await w.run()
        finally:
            await source.close()
            s = w.stats
            console.print(
                f"applied {s.applied}, duplicates {s.duplicates}, coalesced {s.coalesced}, "
                f"dead-lettered {s.dead_lettered}, unknown repos {dict(s.unknown_repo)}"
            )


@app.command()
def watch(
    path: Annotated[Path, typer.Argument(help="Working tree to follow.")] = Path("."),
    name: Annotated[
        str | None, typer.Option(help="Repository name (default: folder name).")
    ] = None,
    interval: Annotated[float, typer.Option(help="Seconds between scans.")] = 0.1,
    debounce: Annotated[float, typer.Option(help="Seconds a file must stay unchanged.")] = 0.05,
) -> None:
    """Emit file.changed for saved files; embedded (no Kafka) it also applies them here."""
    if not path.is_dir():
        console.print(f"[red]error:[/red] {path} is not a directory")
        raise typer.Exit(2)
    settings = _settings()
    _run(_watch(settings, path, name, interval, debounce))


async def _watch(
    settings: Settings, path: Path, name: str | None, interval: float, debounce: float
) -> None:
    import asyncio as aio

    from kg.pipeline import repo_name_for
    from kg.runtime import open_source
    from kg.watch import TreeWatcher
    from kg.watch import watch as follow
    from kg.worker import assemble

    repo = name or repo_name_for(path)
    stop = aio.Event()
    async with open_runtime(settings) as rt:
        tasks: list[aio.Task[Any]] = []
        if not settings.kafka_bootstrap:  # embedded: apply in this process too
            _print_report(await rt.indexer().index(path, repo))
            source = open_source(rt, "kg-watch")
            await source.start()
            applier = assemble(rt, source)
            await applier.prepare(repo)
            tasks.append(aio.create_task(applier.run()))
        watcher = TreeWatcher(path, interval=interval, debounce=debounce)
        console.print(f"watching {watcher.root} as {repo!r} (Ctrl-C to stop)")
        try:
            await follow(watcher, rt.bus, repo, stop)
        finally:
            for task in tasks:
                task.cancel()


@eval_app.command("resolution")
def eval_resolution(
    directory: Annotated[Path, typer.Argument(help="Folder of golden name-resolution tests.")],
) -> None:
    """Score name resolution on golden tests; last line: ``score: 0.xxx (passed/total)``."""
    from kg.evaluation.resolution import score_directory

    result = score_directory(directory)
    for name, file_score in sorted(result.per_file.items()):
        out.print(f"{name}: {file_score.passed}/{file_score.total}")
    ratio = result.passed / result.total if result.total else 0.0
    print(f"score: {ratio:.3f} ({result.passed}/{result.total} assertions)")


@eval_app.command("search")
def eval_search(
    corpus: Annotated[Path, typer.Option(help="JSONL of {code_id, code}.")],
    queries: Annotated[Path, typer.Option(help="JSONL of {qid, query, gold_code_id}.")],
    mode: Annotated[str, typer.Option(help="hybrid | semantic | lexical")] = "hybrid",
    limit: Annotated[int, typer.Option(help="MRR counts the gold within this many.")] = 1000,
    model: Annotated[
        str | None, typer.Option(help="Embedding model (default: KG_EMBEDDING_MODEL).")
    ] = None,
    cache: Annotated[Path, typer.Option(help="Embedding cache (content hash + model).")] = Path(
        ".kg/cache/embeddings"
    ),
    fusion: Annotated[
        str | None, typer.Option(help="score | rrf (default: the product's).")
    ] = None,
    lexical_weight: Annotated[
        float | None, typer.Option(help="Weight of the lexical list.")
    ] = None,
    k: Annotated[float | None, typer.Option(help="RRF k.")] = None,
) -> None:
    """Score search on a retrieval set; last line: ``MRR: .. NDCG@10: .. R@1: .. R@10: ..``."""
    if mode not in ("hybrid", "semantic", "lexical") or fusion not in (None, "score", "rrf"):
        console.print("[red]error:[/red] --mode: hybrid|semantic|lexical; --fusion: score|rrf")
        raise typer.Exit(2)
    options: dict[str, Any] = {"fusion": fusion, "k": k}
    if lexical_weight is not None:
        options["weights"] = {"lexical": lexical_weight}
    settings = _settings(embedding_model=model)
    line = _run(_eval_search(settings, corpus, queries, mode, limit, cache, options))
    print(line)


async def _eval_search(
    settings: Settings,
    corpus: Path,
    queries: Path,
    mode: str,
    limit: int,
    cache: Path,
    options: dict[str, Any],
) -> str:
    import tempfile

    from embeddings.cache import CachedEmbedder
    from embeddings.factory import open_embedder
    from kg.evaluation.search import SearchEvaluation, load_corpus, load_queries

    snippets, asked = load_corpus(corpus), load_queries(queries)
    for loaded, what in ((snippets, "corpus"), (asked, "queries")):
        if loaded.skipped:
            console.print(f"{what}: skipped {loaded.skipped} bad lines: {loaded.reasons}")
    embedder = None
    if mode != "lexical":
        inner = open_embedder(
            settings.embedding_model, settings.embedding_device, settings.embedding_batch_size
        )
        embedder = CachedEmbedder(inner, cache)
    console.print(f"indexing {len(snippets.rows)} snippets ({settings.embedding_model}) ...")
    with tempfile.TemporaryDirectory(prefix="kg-eval-") as tmp:
        async with SearchEvaluation.build(snippets.rows, embedder, Path(tmp)) as ev:
            searcher = ev.searcher(**{k: v for k, v in options.items() if v is not None})
            metrics = await ev.run(searcher, asked.rows, mode, limit)  # type: ignore[arg-type]
    if embedder is not None:
        console.print(f"embedding cache: {embedder.hits} reused, {embedder.misses} computed")
    console.print(
        f"{metrics.queries} queries, mode={mode}, fusion={searcher.fusion}, "
        f"weights={dict(searcher.weights)}"
    )
    return metrics.line()


@app.command("adapt")
def adapt_cmd(
    sources: Annotated[list[Path], typer.Argument(help="Source directories to mine.")],
    output: Annotated[Path, typer.Option(help="New directory for the adapted model.")],
    pairs: Annotated[int, typer.Option(help="At most this many docstring/code pairs.")] = 2000,
    seq_len: Annotated[int, typer.Option(help="Tokens per text while training.")] = 128,
    epochs: Annotated[int, typer.Option(help="Passes over the pairs.")] = 1,
    threads: Annotated[int | None, typer.Option(help="CPU threads for training.")] = None,
) -> None:
    """Adapt the embedding model to a code base (its docstring/code pairs); then set
    KG_EMBEDDING_MODEL to the output directory."""
    from embeddings.adapt import AdaptOptions, adapt_repository

    settings = _settings()
    opts = AdaptOptions(epochs=epochs, max_seq_length=seq_len, threads=threads)

    def show(step: int, steps: int, loss: float) -> None:
        if step % 10 == 0 or step == steps:
            console.print(f"step {step}/{steps} loss {loss:.3f}")

    async def run() -> Any:
        return await asyncio.to_thread(
            adapt_repository, settings.embedding_model, sources, output, pairs, opts, show
        )

    mined, report = _run(run())
    out.print(
        f"adapted {settings.embedding_model} on {report.pairs} pairs from {mined.files} files "
        f"in {report.seconds:.0f} s (loss {report.first_loss:.3f} -> {report.last_loss:.3f}); "
        f"use it with KG_EMBEDDING_MODEL={report.output}"
    )


@app.command("ingest-discussions")
def ingest_discussions_cmd(
    path: Annotated[
        Path | None, typer.Argument(help="REST export or webhook payload JSON file.")
    ] = None,
    github: Annotated[str | None, typer.Option(help="Fetch live from GitHub: OWNER/REPO.")] = None,
    repo: Annotated[str, typer.Option(help="Repository name in the graph.")] = "",
    token: Annotated[
        str | None, typer.Option(envvar="GITHUB_TOKEN", help="GitHub token (optional).")
    ] = None,
) -> None:
    """Ingest GitHub issues, pull requests, reviews and comments; link them to the code."""
    if (path is None) == (github is None) or not repo:
        console.print("[red]error:[/red] give --repo NAME and either PATH or --github OWNER/REPO")
        raise typer.Exit(2)
    settings = _settings()
    _run(_ingest_discussions(settings, repo, path, github, token))


async def _ingest_discussions(
    settings: Settings, repo: str, path: Path | None, github: str | None, token: str | None
) -> None:
    import json

    from extractors.discussions.export import export_batch
    from extractors.discussions.github import GitHubClient
    from kg.derived.discussions import ingest_discussions

    if path is not None:
        try:
            data = json.loads(await asyncio.to_thread(path.read_text, encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise KGError(f"cannot read {path}: {exc}; pass a JSON file") from exc
    else:
        owner, _, name = (github or "").partition("/")
        if not owner or not name:
            raise KGError(f"--github {github!r}: write it as OWNER/REPO, e.g. pallets/flask")
        async with GitHubClient(token=token) as gh:
            data = await gh.fetch_export(owner, name)
    batch = export_batch(repo, data)
    async with open_runtime(settings) as rt:
        report = await ingest_discussions(rt.store, batch, embedding=rt.embedding_stage())
    out.print(
        f"ingested {report.entities} entities, {report.links} links "
        f"({report.commits_relinked} commits relinked), {report.embedded} embedded"
    )


def _run(
    coro: Coroutine[Any, Any, T],
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> T:
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(coro)
    except KGError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app(prog_name="kg")
