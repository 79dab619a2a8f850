"""Embedder on a plain ``transformers`` encoder (CodeBERT, UniXcoder, CodeT5+ encoders ...).

For models published without a sentence-transformers head: the encoder's last hidden states
are mean-pooled over real tokens (padding masked out) and L2-normalised. T5-family configs load
only the encoder (``T5EncoderModel``); everything else goes through ``AutoModel``. Files are
read with ``local_files_only``: give a local directory (or a name already in the cache)::

    emb = TransformersEmbedder("/models/codebert-base")
    emb.embed(["def add(a, b): return a + b"], role="document")
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from embeddings.base import TextRole
from embeddings.batching import embed_in_order
from kg.errors import ConfigError

Pooling = Literal["mean", "cls"]
T5_TYPES = frozenset({"t5", "mt5", "umt5", "codet5"})
# Tokenizers report a huge sentinel when they have no limit of their own.
_NO_LIMIT = 1_000_000


class TransformersEmbedder:
    """Mean- (or CLS-) pooled, L2-normalised encoder outputs; inputs truncated to the model."""

    def __init__(
        self,
        model: str | Path,
        pooling: Pooling = "mean",
        max_length: int = 256,
        *,
        device: str = "cpu",
        batch_size: int = 32,
        query_prefix: str = "",
    ) -> None:
        if pooling not in ("mean", "cls"):
            raise ConfigError(f"pooling {pooling!r} is not supported; use 'mean' or 'cls'")
        self._source = str(model)
        self._pooling = pooling
        self._max_length = max(2, max_length)
        self._device = device
        self._batch_size = max(1, batch_size)
        self._query_prefix = query_prefix
        self._lock = threading.Lock()
        self._parts: tuple[Any, Any, int] | None = None  # tokenizer, model, token limit

    @property
    def name(self) -> str:
        return self._source

    @property
    def dim(self) -> int:
        _, model, _ = self._loaded()
        return int(model.config.hidden_size)

    def _loaded(self) -> tuple[Any, Any, int]:
        with self._lock:
            if self._parts is None:
                self._parts = self._load()
            return self._parts

    def _load(self) -> tuple[Any, Any, int]:
        from transformers import AutoConfig, AutoModel, AutoTokenizer, T5EncoderModel

        try:
            config = AutoConfig.from_pretrained(self._source, local_files_only=True)
            tokenizer = AutoTokenizer.from_pretrained(self._source, local_files_only=True)
            loader: Any = T5EncoderModel if config.model_type in T5_TYPES else AutoModel
            model = loader.from_pretrained(self._source, config=config, local_files_only=True)
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(
                f"cannot load transformers model from {self._source!r}: {exc}. Give a local "
                "directory with config.json, tokenizer files and weights"
            ) from exc
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
        model.eval()
        model.to(self._device)
        return tokenizer, model, self._token_limit(tokenizer, config)

    def _token_limit(self, tokenizer: Any, config: Any) -> int:
        limit = self._max_length
        own = getattr(tokenizer, "model_max_length", _NO_LIMIT) or _NO_LIMIT
        if own < _NO_LIMIT:
            limit = min(limit, int(own))
        positions = getattr(config, "max_position_embeddings", None)
        if isinstance(positions, int) and config.model_type not in T5_TYPES:
            # RoBERTa-style models number positions after the padding index.
            offset = (config.pad_token_id + 1) if "roberta" in config.model_type else 0
            limit = min(limit, positions - offset)
        return max(2, limit)

    def embed(self, texts: Sequence[str], *, role: TextRole = "document") -> list[list[float]]:
        if not texts:
            return []
        tokenizer, model, limit = self._loaded()
        prefix = self._query_prefix if role == "query" else ""
        inputs = [prefix + t for t in texts] if prefix else list(texts)

        def encode(batch: list[str]) -> list[list[float]]:
            return self._encode(tokenizer, model, limit, batch)

        return embed_in_order(inputs, self._batch_size, encode)

    def _encode(
        self, tokenizer: Any, model: Any, limit: int, batch: list[str]
    ) -> list[list[float]]:
        import torch

        # A blank text may tokenize to nothing (tokenizers without special tokens); give it
        # one unknown token so it still gets a unit vector instead of NaNs or zeros.
        filler = tokenizer.unk_token or tokenizer.pad_token
        batch = [t if t.strip() else filler for t in batch]
        enc = tokenizer(batch, padding=True, truncation=True, max_length=limit, return_tensors="pt")
        ids = enc["input_ids"].to(self._device)
        mask = enc["attention_mask"].to(self._device)
        with torch.inference_mode():
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
            if self._pooling == "cls":
                pooled = hidden[:, 0]
            else:
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
            pooled = torch.nn.functional.normalize(pooled.float(), p=2.0, dim=1)
        rows: list[list[float]] = pooled.cpu().tolist()
        return rows
