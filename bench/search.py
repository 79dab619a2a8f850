"""Search: latency at 100k indexed entities (hybrid, dense, lexical) and embedding throughput.

Latency: an embedded edge index of ``--entities`` points with *random* unit vectors (real
vectors for 100k entities would take hours to embed on this CPU; HNSW cost does not depend on
what the vectors mean), sparse vectors of synthetic code-like text drawn from a Zipf
vocabulary (so IDF and posting lengths look like code), and payloads spread over 4 repos,
5 kinds, 3 languages, 50 directories, 20 authors and a year of time. Queries are embedded with
the real default model (query cache off: every query is new), then searched with a filter on
repo + kinds + path prefix + time, through ``HybridSearcher`` and the ``GraphAwareSearcher``
the service uses (graph signals on an empty graph: their store round trips only).

Throughput: the embedder's texts/s on CoSQA snippets (or the bench corpus) against the raw
model forward rate on the same texts pre-tokenised in length-sorted batches (tokenisation
excluded), and against unsorted batches (padding waste); then the whole ``EmbeddingStage``
(hash check, model, sparse encoding, index upsert) synchronous and in the background.

    python -m bench.search --entities 100000 --queries 200
    python -m bench.search --skip-latency --texts 512
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from embeddings.base import Embedder
from embeddings.factory import open_embedder
from embeddings.hybrid import HybridSearcher, collection_spec
from embeddings.index.base import VectorFilter, VectorPoint
from embeddings.index.edge import EdgeVectorIndex
from embeddings.sparse import SparseEncoder
from kg.embedding_stage import EmbeddingStage
from kg.model import Document, EntityKind
from kg.ranking import GraphAwareSearcher
from kg.stores.sqlite import SqliteGraphStore

COSQA = Path(__file__).resolve().parents[2] / "shared" / "eval" / "cosqa" / "corpus.jsonl"
KINDS = ("Function", "Class", "File", "Commit", "Module")
WORDS = [f"w{i}" for i in range(20_000)]
DIM = 384


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--texts", type=int, default=256, help="texts for the throughput run")
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _word(rng: random.Random) -> str:
    # Zipf-like: a few words everywhere, most words rare, as identifiers are in code.
    return WORDS[min(len(WORDS) - 1, int(rng.paretovariate(0.7)) - 1)]


def _text(rng: random.Random) -> str:
    return " ".join(_word(rng) for _ in range(rng.randint(8, 60)))


def _points(n: int, seed: int = 7) -> list[VectorPoint]:
    import numpy as np

    rng, nrng = random.Random(seed), np.random.default_rng(seed)
    vectors = nrng.standard_normal((n, DIM)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    enc, start = SparseEncoder(), datetime(2024, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        kind = KINDS[i % len(KINDS)]
        payload: dict[str, Any] = {
            "eid": f"e{i}",
            "repo": f"repo{i % 4}",
            "kind": kind,
            "language": ("python", "rust", "go")[i % 3],
            "path": f"src/d{i % 50}/f{i % 997}.py",
            "authors": [f"a{i % 20}"],
            "time": (start + timedelta(minutes=5 * i)).isoformat(),
        }
        named = "text" if kind == "Commit" else "code"
        sparse = enc.encode_document(_text(rng))
        out.append(VectorPoint(f"e{i}", {named: vectors[i].tolist()}, {"lexical": sparse}, payload))
    return out


async def _build(path: Path, n: int) -> EdgeVectorIndex:
    index = EdgeVectorIndex(path)
    await index.ensure(collection_spec(DIM))
    t0 = time.perf_counter()
    for start in range(0, n, 2000):
        await index.upsert(_points(min(2000, n - start), seed=start))
    print(f"indexed {n} points in {time.perf_counter() - t0:.1f}s", flush=True)
    return index


async def _latency(searcher: Any, queries: list[str], mode: str, flt: VectorFilter) -> list[float]:
    out = []
    for q in queries:
        t0 = time.perf_counter()
        await searcher.search(q, mode=mode, filter=flt, limit=10)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _report(name: str, ms: list[float]) -> None:
    print(f"{name:<28} p50 {pct(ms, 0.5):6.1f} ms   p95 {pct(ms, 0.95):6.1f} ms", flush=True)


async def latency(args: argparse.Namespace, embedder: Embedder) -> None:
    rng = random.Random(1)
    queries = [" ".join(_word(rng) for _ in range(4)) for _ in range(args.queries)]
    embedder.embed(["warm up"], role="query")
    flt = VectorFilter(
        repo="repo1",
        kinds=["Function", "Class"],
        path_prefix="src",
        since=datetime(2024, 1, 1, tzinfo=UTC),
    )
    with tempfile.TemporaryDirectory(prefix="kg-bench-search-") as tmp:
        index = await _build(Path(tmp) / "vectors", args.entities)
        store = SqliteGraphStore(Path(tmp) / "graph.db")
        await store.start()
        try:
            for label, mode in (
                ("hybrid", "hybrid"),
                ("dense only", "semantic"),
                ("lexical only", "lexical"),
            ):
                # A fresh searcher per run: its query cache must not serve repeats.
                hybrid = HybridSearcher(index, embedder, SparseEncoder())
                await hybrid.search("warm", mode=mode, filter=flt)  # type: ignore[arg-type]
                _report(f"{label} (filtered)", await _latency(hybrid, queries, mode, flt))
            hybrid = HybridSearcher(index, embedder, SparseEncoder())
            _report("hybrid (no filter)", await _latency(hybrid, queries, "hybrid", VectorFilter()))
            graph = GraphAwareSearcher(HybridSearcher(index, embedder, SparseEncoder()), store)
            _report("graph-aware hybrid (filtered)", await _latency(graph, queries, "hybrid", flt))
            embed_ms = []
            for q in queries[:50]:
                t0 = time.perf_counter()
                embedder.embed([q + " x"], role="query")
                embed_ms.append((time.perf_counter() - t0) * 1000)
            _report("  of which query embedding", embed_ms)
        finally:
            await store.close()
            await index.close()


def _texts(n: int) -> list[str]:
    if COSQA.is_file():
        with COSQA.open(encoding="utf-8") as fh:
            rows = [json.loads(line)["code"] for _, line in zip(range(n), fh, strict=False)]
        return rows
    return [_text(random.Random(i)) for i in range(n)]


def throughput(args: argparse.Namespace) -> float:
    """Prints the embedder's rate against the raw forward rate; returns the raw sorted s/text."""
    import torch
    from sentence_transformers import SentenceTransformer

    from embeddings.sentence import SentenceEmbedder

    texts = _texts(args.texts)
    embedder = open_embedder(args.model)
    assert isinstance(embedder, SentenceEmbedder), "throughput bench runs sentence-transformers"
    embedder.embed(texts[:8])
    model: SentenceTransformer = embedder._loaded()  # the same loaded model, measured raw
    batch = 64

    def raw(order: list[int]) -> float:
        features = [
            model.tokenize([texts[i] for i in order[s : s + batch]])
            for s in range(0, len(order), batch)
        ]
        t0 = time.perf_counter()
        with torch.inference_mode():
            for f in features:
                model.forward(f)
        return time.perf_counter() - t0

    by_length = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    shuffled = list(range(len(texts)))
    random.Random(3).shuffle(shuffled)
    raw(by_length)  # warm-up: the first pass over new shapes pays for kernel selection

    def ours_once() -> float:
        t0 = time.perf_counter()
        embedder.embed(texts)
        return time.perf_counter() - t0

    # Interleaved, best of two: this machine is shared, the best run is the least disturbed.
    sorted_s, ours = min(raw(by_length), raw(by_length)), min(ours_once(), ours_once())
    unsorted_s = raw(shuffled)
    n = len(texts)
    print(f"raw forward, length-sorted   {n / sorted_s:7.1f} texts/s", flush=True)
    print(f"raw forward, unsorted        {n / unsorted_s:7.1f} texts/s (padding waste)")
    print(
        f"SentenceEmbedder.embed       {n / ours:7.1f} texts/s "
        f"= {sorted_s / ours:.0%} of the raw sorted forward rate (tokenising included)"
    )
    return sorted_s / n


def _documents(texts: list[str]) -> list[Document]:
    return [
        Document(f"Function:bench{i}", "bench", EntityKind.FUNCTION, t, {"path": f"b{i}.py"})
        for i, t in enumerate(texts)
    ]


async def _stage_once(
    embedder: Embedder, texts: list[str], background: bool
) -> tuple[float, float]:
    """Seconds until ``process`` returns and until every vector is in a fresh index."""
    with tempfile.TemporaryDirectory(prefix="kg-bench-stage-") as tmp:
        index = EdgeVectorIndex(Path(tmp) / "vectors")
        stage = EmbeddingStage(index, embedder, SparseEncoder(), background=background)
        await stage.start()
        t0 = time.perf_counter()
        await stage.process(_documents(texts), [])
        queued = time.perf_counter() - t0
        await stage.wait()
        took = time.perf_counter() - t0
        await stage.close()
        await index.close()
    return queued, took


async def stage_throughput(args: argparse.Namespace, raw_per_text: float) -> None:
    """The whole embedding stage (hash check, model, sparse encoding, index upsert), in both
    modes, against the raw sorted forward rate of the same texts."""
    texts = _texts(args.texts)
    embedder = open_embedder(args.model)
    embedder.embed(texts[:8])
    for background in (False, True):
        # best of two into fresh indexes, as for the raw rate: the least disturbed run counts
        runs = [await _stage_once(embedder, texts, background) for _ in range(2)]
        queued, took = min(runs, key=lambda r: r[1])
        n = len(texts)
        name = "background" if background else "synchronous"
        print(
            f"EmbeddingStage {name:<12}  {n / took:7.1f} texts/s "
            f"= {raw_per_text * n / took:.0%} of the raw sorted forward rate"
            + (f" (graph free again after {queued * 1000:.0f} ms)" if background else "")
        )


async def run(args: argparse.Namespace) -> None:
    if not args.skip_throughput:
        raw_per_text = await asyncio.to_thread(throughput, args)
        await stage_throughput(args, raw_per_text)
    if not args.skip_latency:
        await latency(args, open_embedder(args.model))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__)
    add_arguments(parser)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
