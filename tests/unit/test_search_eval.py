"""The search evaluation runner and the on-disk embedding cache, on a small real corpus."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from embeddings.base import Embedder
from embeddings.cache import CachedEmbedder, cache_key, model_slug
from embeddings.factory import open_embedder
from embeddings.hybrid import SearchHit
from kg.errors import InvalidInput
from kg.evaluation.search import (
    SearchEvaluation,
    load_corpus,
    load_queries,
    score,
    snippet_documents,
    snippet_ranking,
)
from kg.model import EntityKind

CORPUS = [
    {
        "code_id": "c0",
        "code": 'def read_json(path):\n    """Load JSON from a file."""\n'
        "    with open(path) as fh:\n        return json.load(fh)",
    },
    {"code_id": "c1", "code": "def reverse_string(s):\n    return s[::-1]"},
    {
        "code_id": "c2",
        "code": "class Stack:\n    def push(self, item):\n        self.items.append(item)",
    },
    {"code_id": "c3", "code": "def http_get(url):\n    return requests.get(url).text"},
]
QUERIES = [
    {"qid": "q0", "query": "read json file", "gold_code_id": "c0"},
    {"qid": "q1", "query": "reverse a string", "gold_code_id": "c1"},
    {"qid": "q2", "query": "push item on a stack", "gold_code_id": "c2"},
]


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    return open_embedder("all-MiniLM-L6-v2")


def write_jsonl(path: Path, rows: list[dict[str, str]], extra: str = "") -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n" + extra, encoding="utf-8")
    return path


def test_metrics_follow_their_definitions() -> None:
    rankings = [["a", "b"], ["x", "y", "b"], ["z"] * 3, [str(i) for i in range(20)]]
    m = score(rankings, ["a", "b", "b", "12"], limit=1000)
    assert m.mrr == pytest.approx((1 + 1 / 3 + 0 + 1 / 13) / 4)
    assert m.ndcg10 == pytest.approx((1 + 1 / math.log2(4)) / 4)
    assert (m.r1, m.r10, m.queries) == (0.25, 0.5, 4)
    assert score(rankings, ["a", "b", "b", "12"], limit=10).mrr == pytest.approx((1 + 1 / 3) / 4)
    assert m.line() == "MRR: 0.353 NDCG@10: 0.375 R@1: 0.250 R@10: 0.500"


def test_loaders_count_bad_lines(tmp_path: Path) -> None:
    corpus = load_corpus(write_jsonl(tmp_path / "c.jsonl", CORPUS, '{"code_id": 3}\nnot json\n'))
    assert [s.code_id for s in corpus.rows] == ["c0", "c1", "c2", "c3"]
    assert corpus.skipped == 2 and len(corpus.reasons) == 2
    queries = load_queries(write_jsonl(tmp_path / "q.jsonl", QUERIES))
    assert [q.gold for q in queries.rows] == ["c0", "c1", "c2"]
    with pytest.raises(InvalidInput, match="not a file"):
        load_corpus(tmp_path / "missing.jsonl")


def test_snippets_become_the_extractors_documents(tmp_path: Path) -> None:
    snippets = load_corpus(write_jsonl(tmp_path / "c.jsonl", CORPUS)).rows
    docs = snippet_documents(snippets)
    by_path: dict[str, set[EntityKind]] = {}
    for d in docs:
        by_path.setdefault(str(d.payload["path"]), set()).add(d.kind)
    assert by_path["c0.py"] == {EntityKind.FILE, EntityKind.FUNCTION}
    assert by_path["c2.py"] == {EntityKind.FILE, EntityKind.CLASS, EntityKind.FUNCTION}
    read_json = next(
        d for d in docs if d.kind is EntityKind.FUNCTION and d.payload["path"] == "c0.py"
    )
    # The code as written: no module-qualified name or repeated signature in front of it.
    assert read_json.text == CORPUS[0]["code"]


def test_snippet_ranking_keeps_each_snippets_best_document() -> None:
    hits = [SearchHit(str(i), 1.0, {"path": p}) for i, p in enumerate(["b.py", "a.py", "b.py"])]
    assert snippet_ranking(hits, 10) == ["b", "a"]
    assert snippet_ranking(hits, 1) == ["b"]


async def test_lexical_evaluation_through_the_product_index(tmp_path: Path) -> None:
    snippets = load_corpus(write_jsonl(tmp_path / "c.jsonl", CORPUS)).rows
    queries = load_queries(write_jsonl(tmp_path / "q.jsonl", QUERIES)).rows
    async with SearchEvaluation.build(snippets, None, tmp_path / "work") as ev:
        assert ev.documents == len(snippet_documents(snippets))
        metrics = await ev.run(ev.searcher(), queries, "lexical")
    # Every query shares a distinctive identifier part with its gold snippet only.
    assert (metrics.mrr, metrics.r1, metrics.r10) == (1.0, 1.0, 1.0)


async def test_cached_embeddings_are_reused_across_runs(tmp_path: Path, minilm: Embedder) -> None:
    snippets = load_corpus(write_jsonl(tmp_path / "c.jsonl", CORPUS)).rows
    queries = load_queries(write_jsonl(tmp_path / "q.jsonl", QUERIES)).rows
    first = CachedEmbedder(minilm, tmp_path / "cache")
    async with SearchEvaluation.build(snippets, first, tmp_path / "a") as ev:
        semantic = await ev.run(ev.searcher(), queries, "semantic")
        hybrid = await ev.run(ev.searcher(), queries, "hybrid")
    assert first.misses == ev.documents + len(queries) and first.hits == 3 * len(queries)
    again = CachedEmbedder(minilm, tmp_path / "cache")
    async with SearchEvaluation.build(snippets, again, tmp_path / "b") as ev:
        assert await ev.run(ev.searcher(), queries, "semantic") == semantic
        assert await ev.run(ev.searcher(), queries, "hybrid") == hybrid
    assert again.misses == 0
    assert semantic.r10 == 1.0 and semantic.mrr > 0.5
    # The cached vector is the model's vector.
    text = snippets[1].code
    assert again.embed([text])[0] == pytest.approx(minilm.embed([text])[0], abs=1e-5)


def test_cache_keys_separate_model_role_and_text(tmp_path: Path, minilm: Embedder) -> None:
    keys = {
        cache_key("m", "document", "x"),
        cache_key("m", "query", "x"),
        cache_key("n", "document", "x"),
        cache_key("m", "document", "y"),
    }
    assert len(keys) == 4
    assert model_slug("/models/all-mpnet-base-v2/").startswith("all-mpnet-base-v2-")
    assert model_slug("a/b") != model_slug("c/b")
    # A damaged shard costs only its vectors.
    cached = CachedEmbedder(minilm, tmp_path)
    cached.embed(["one"])
    (cached.directory / "broken.npz").write_bytes(b"not a zip")
    fresh = CachedEmbedder(minilm, tmp_path)
    fresh.embed(["one"])
    assert (fresh.hits, fresh.misses) == (1, 0)
