"""Scores search on a code-retrieval set (CoSQA format) through the product's own search path.

Corpus lines are ``{"code_id", "code"}``, query lines ``{"qid", "query", "gold_code_id"}``.
Each snippet is treated as a file ``<code_id>.py`` of one repository and goes through the
extractor the registry picks for it, so the indexed documents are exactly those ingestion
makes (one per function/class with qualname, signature, docstring and body, plus the file
summary). The documents go through ``EmbeddingStage`` (``document_point``, the sparse encoder,
the dense model) into a fresh ``EdgeVectorIndex`` in a temporary directory, and queries through
``HybridSearcher``. Gold is a whole snippet, so a snippet ranks where its best document ranks.

Scores: MRR over the top ``limit`` snippets (0 when the gold one is not there), NDCG@10 (one
relevant item: ``1 / log2(1 + rank)``), Recall@1 and Recall@10::

    async with SearchEvaluation.build(snippets, embedder, Path("/tmp/x")) as ev:
        metrics = await ev.run(ev.searcher(), queries, "hybrid")
    print(metrics.line())   # MRR: 0.612 NDCG@10: 0.655 R@1: 0.502 R@10: 0.854
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embeddings.base import Embedder
from embeddings.hybrid import HybridSearcher, SearchHit, SearchMode
from embeddings.index.base import ScoredPoint
from embeddings.index.edge import EdgeVectorIndex
from embeddings.sparse import SparseEncoder
from extractors.base import SourceFile
from extractors.registry import ExtractorRegistry
from kg.embedding_stage import EmbeddingStage
from kg.errors import InvalidInput
from kg.model import Document

REPO = "eval"
SUFFIX = ".py"
Lists = dict[str, list[ScoredPoint]]


@dataclass(frozen=True, slots=True)
class Snippet:
    code_id: str
    code: str


@dataclass(frozen=True, slots=True)
class EvalQuery:
    qid: str
    query: str
    gold: str


@dataclass(frozen=True, slots=True)
class Metrics:
    mrr: float
    ndcg10: float
    r1: float
    r10: float
    queries: int

    def line(self) -> str:
        return (
            f"MRR: {self.mrr:.3f} NDCG@10: {self.ndcg10:.3f} "
            f"R@1: {self.r1:.3f} R@10: {self.r10:.3f}"
        )


@dataclass(slots=True)
class Loaded:
    """Rows read from a JSONL file and how many lines were skipped (with the first reasons)."""

    rows: list[Any] = field(default_factory=list)
    skipped: int = 0
    reasons: list[str] = field(default_factory=list)


def _read_jsonl(path: Path, make: Callable[[dict[str, Any]], Any]) -> Loaded:
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file; give a JSONL file (one JSON object a line)")
    out = Loaded()
    with path.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                out.rows.append(make(row))
            except (ValueError, KeyError, TypeError) as exc:
                out.skipped += 1
                if len(out.reasons) < 5:
                    out.reasons.append(f"{path.name}:{n}: {exc!r}")
    return out


def load_corpus(path: Path) -> Loaded:
    """Snippets of a ``{"code_id", "code"}`` JSONL file; malformed lines are counted."""
    return _read_jsonl(path, lambda r: Snippet(_text(r, "code_id"), _text(r, "code")))


def load_queries(path: Path) -> Loaded:
    """Queries of a ``{"qid", "query", "gold_code_id"}`` JSONL file."""
    return _read_jsonl(
        path,
        lambda r: EvalQuery(_text(r, "qid"), _text(r, "query"), _text(r, "gold_code_id")),
    )


def _text(row: dict[str, Any], key: str) -> str:
    value = row[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string, got {type(value).__name__}")
    return value


def snippet_documents(
    snippets: Sequence[Snippet], registry: ExtractorRegistry | None = None
) -> list[Document]:
    """The documents ingestion would make for each snippet as the file ``<code_id>.py``."""
    reg = registry if registry is not None else ExtractorRegistry.from_entry_points(strict=False)
    docs: list[Document] = []
    for s in snippets:
        path = s.code_id + SUFFIX
        extractor = reg.for_path(path)
        if extractor is None:
            raise InvalidInput(f"no extractor handles {SUFFIX} files; install the code extractor")
        out = extractor.extract_file(SourceFile(REPO, path, s.code.encode("utf-8", "replace")))
        docs.extend(out.batch.documents)
    return docs


def snippet_ranking(hits: Sequence[SearchHit], limit: int) -> list[str]:
    """Snippet ids in the order their best document appears, at most ``limit``."""
    seen: dict[str, None] = {}
    for h in hits:
        path = h.payload.get("path")
        if isinstance(path, str) and path.endswith(SUFFIX):
            seen.setdefault(path[: -len(SUFFIX)], None)
            if len(seen) >= limit:
                break
    return list(seen)


def score(rankings: Sequence[Sequence[str]], golds: Sequence[str], limit: int = 1000) -> Metrics:
    """MRR (within ``limit``), NDCG@10, R@1, R@10 of one gold item per query."""
    mrr = ndcg = r1 = r10 = 0.0
    for ranking, gold in zip(rankings, golds, strict=True):
        try:
            rank = list(ranking[:limit]).index(gold) + 1
        except ValueError:
            continue
        mrr += 1.0 / rank
        ndcg += 1.0 / math.log2(1 + rank) if rank <= 10 else 0.0
        r1 += rank == 1
        r10 += rank <= 10
    n = max(1, len(golds))
    return Metrics(mrr / n, ndcg / n, r1 / n, r10 / n, len(golds))


class SearchEvaluation:
    """A corpus indexed into a temporary store; queries scored against it."""

    def __init__(self, index: EdgeVectorIndex, embedder: Embedder | None) -> None:
        self.index = index
        self.embedder = embedder
        self.sparse = SparseEncoder()
        self.documents = 0

    @classmethod
    @asynccontextmanager
    async def build(
        cls,
        snippets: Sequence[Snippet],
        embedder: Embedder | None,
        workdir: Path,
        registry: ExtractorRegistry | None = None,
    ) -> AsyncIterator[SearchEvaluation]:
        """Index ``snippets`` under ``workdir`` (which must be fresh) and yield the evaluation."""
        ev = cls(EdgeVectorIndex(workdir / "vectors"), embedder)
        try:
            docs = snippet_documents(snippets, registry)
            stage = EmbeddingStage(ev.index, embedder, ev.sparse)
            await stage.start()
            ev.documents = await stage.process(docs, [])
            yield ev
        finally:
            await ev.index.close()

    def searcher(self, **options: Any) -> HybridSearcher:
        """A ``HybridSearcher`` over this store (``options``: fusion, k, weights)."""
        return HybridSearcher(self.index, self.embedder, self.sparse, **options)

    async def retrieve(
        self, searcher: HybridSearcher, queries: Sequence[EvalQuery], mode: SearchMode, depth: int
    ) -> list[Lists]:
        """Every query's per-signal lists, ``depth`` documents deep, for fusing offline."""
        if self.embedder is not None and mode != "lexical":
            # One batch (and, behind a cache, one shard) instead of one model call per query;
            # the searcher's own query embeddings are then cache hits.
            texts = [q.query for q in queries]
            await asyncio.to_thread(self.embedder.embed, texts, role="query")
        return [await searcher.retrieve(q.query, mode=mode, depth=depth) for q in queries]

    async def run(
        self,
        searcher: HybridSearcher,
        queries: Sequence[EvalQuery],
        mode: SearchMode,
        limit: int = 1000,
    ) -> Metrics:
        lists = await self.retrieve(searcher, queries, mode, depth_for(limit))
        return fused_metrics(searcher, lists, queries, limit)


def depth_for(limit: int) -> int:
    # A snippet yields a function document and a file summary (sometimes more), so twice as
    # many documents reach ``limit`` distinct snippets in practice.
    return 2 * limit + 50


def fused_metrics(
    searcher: HybridSearcher,
    lists: Sequence[Mapping[str, list[ScoredPoint]]],
    queries: Sequence[EvalQuery],
    limit: int = 1000,
) -> Metrics:
    rankings = [snippet_ranking(searcher.fuse(per), limit) for per in lists]
    return score(rankings, [q.gold for q in queries], limit)
