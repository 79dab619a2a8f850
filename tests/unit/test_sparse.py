"""The code-aware sparse encoder: tokens, stable ids and BM25 term weights."""

from __future__ import annotations

import subprocess
import sys

import pytest

from embeddings.sparse import STOPWORDS, SparseEncoder, token_id, tokenize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("getUserName", ["getusername", "get", "user", "name"]),
        ("HTTPServerError", ["httpservererror", "http", "server", "error"]),
        ("parse_json_file", ["parse_json_file", "parse", "json", "file"]),
        ("sha256sum", ["sha256sum", "sha", "256", "sum"]),
        ("__init__", ["__init__", "init"]),
        ("os.path.join", ["os.path.join", "os", "path", "join"]),
        ("src/kg/model.py", ["src/kg/model.py", "src", "kg", "model", "py"]),
        ("parse", ["parse"]),
        ("The end. Of it", ["end"]),
        ("x = y + 1", []),
        ("", []),
    ],
)
def test_tokenize_splits_identifiers_and_keeps_the_whole(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


def test_tokenize_drops_stopwords_and_overlong_tokens() -> None:
    tokens = tokenize("the self and " + "a" * 65 + " with handler")
    assert tokens == ["handler"]
    assert {"the", "and", "self"} <= STOPWORDS


def test_token_ids_are_stable_31_bit_and_salt_free() -> None:
    ids = [token_id(t) for t in ("parse", "json", "getusername")]
    assert all(0 <= i < 2**31 for i in ids)
    assert len(set(ids)) == 3
    # Another interpreter (different hash salt) computes the same ids.
    code = "from embeddings.sparse import token_id; print(token_id('parse'))"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123"},
    )
    assert int(out.stdout) == ids[0]


def test_query_vector_has_unit_weights_for_unique_tokens() -> None:
    vec = SparseEncoder().encode_query("parse parse getUserName")
    assert vec.indices == sorted(vec.indices)
    assert len(vec.indices) == len(set(vec.indices)) == 5
    assert vec.values == [1.0] * 5


def test_document_weights_follow_bm25_saturation() -> None:
    enc = SparseEncoder(k1=1.2, b=0.75, avg_len=4.0)
    vec = enc.encode_document("alpha alpha alpha beta")
    weights = dict(zip(vec.indices, vec.values, strict=True))
    norm = 1.2 * (1 - 0.75 + 0.75 * 4 / 4.0)
    assert weights[token_id("alpha")] == pytest.approx(3 * 2.2 / (3 + norm))
    assert weights[token_id("beta")] == pytest.approx(1 * 2.2 / (1 + norm))
    # Saturation: ten times the frequency is far less than ten times the weight, bounded by k1+1.
    many = enc.encode_document(" ".join(["alpha"] * 30) + " beta")
    alpha = dict(zip(many.indices, many.values, strict=True))[token_id("alpha")]
    assert weights[token_id("alpha")] < alpha < 2.2


def test_longer_documents_weigh_a_term_less() -> None:
    enc = SparseEncoder()
    short = enc.encode_document("render widget")
    long = enc.encode_document("render widget " + " ".join(f"word{i}" for i in range(300)))
    rid = token_id("render")
    short_w = dict(zip(short.indices, short.values, strict=True))[rid]
    long_w = dict(zip(long.indices, long.values, strict=True))[rid]
    assert short_w > long_w > 0


def test_empty_text_gives_empty_vectors() -> None:
    enc = SparseEncoder()
    assert enc.encode_document("").indices == []
    assert enc.encode_query("the a of").values == []


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="avg_len"):
        SparseEncoder(avg_len=0)
    with pytest.raises(ValueError, match="b="):
        SparseEncoder(b=1.5)
