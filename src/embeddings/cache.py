"""An on-disk embedding cache in front of any Embedder, keyed by model, role and content hash.

Re-running an evaluation or re-indexing into a fresh store must not pay for the model again:
vectors are stored under ``directory/<model slug>/`` as ``.npz`` shards (one per ``embed`` call
that had misses), each holding the content keys and a float32 matrix. Shards are only ever
added, never rewritten, so a crash mid-write loses at most that one call's vectors (a shard is
written to a temporary name and renamed into place)::

    emb = CachedEmbedder(open_embedder("all-MiniLM-L6-v2"), Path(".kg/cache/embeddings"))
    emb.embed(["def f(): pass"])   # computed and stored
    emb.embed(["def f(): pass"])   # read back, the model is not called
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embeddings.base import Embedder, TextRole
from kg.errors import StoreError

_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


def cache_key(model: str, role: TextRole, text: str) -> str:
    """The cache key of one text: the model and role matter as much as the content."""
    data = f"{model}\x00{role}\x00{text}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def model_slug(model: str) -> str:
    """A directory name for a model name or path (readable part plus a short hash)."""
    tail = _SLUG.sub("_", model.rstrip("/").rsplit("/", 1)[-1])[:48] or "model"
    return f"{tail}-{hashlib.blake2b(model.encode(), digest_size=4).hexdigest()}"


class CachedEmbedder:
    """An ``Embedder`` that asks ``inner`` only for texts it has not seen with this model."""

    def __init__(self, inner: Embedder, directory: Path) -> None:
        self._inner = inner
        self._dir = Path(directory) / model_slug(inner.name)
        self._vectors: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def dim(self) -> int:
        return self._inner.dim

    @property
    def directory(self) -> Path:
        return self._dir

    def embed(self, texts: Sequence[str], *, role: TextRole = "document") -> list[list[float]]:
        if not texts:
            return []
        keys = [cache_key(self.name, role, t) for t in texts]
        with self._lock:
            known = self._load()
            missing = list(dict.fromkeys(k for k in keys if k not in known))
        if missing:
            first = {k: t for k, t in zip(keys, texts, strict=True)}
            fresh = self._inner.embed([first[k] for k in missing], role=role)
            matrix = np.asarray(fresh, dtype=np.float32)
            with self._lock:
                self._write(missing, matrix)
                for k, row in zip(missing, matrix, strict=True):
                    known[k] = row
        self.misses += len(missing)
        self.hits += len(keys) - len(missing)
        return [known[k].tolist() for k in keys]

    def _load(self) -> dict[str, np.ndarray]:
        if self._vectors is None:
            vectors: dict[str, np.ndarray] = {}
            for shard in sorted(self._dir.glob("*.npz")):
                try:
                    with np.load(shard, allow_pickle=False) as data:
                        for k, row in zip(data["keys"].tolist(), data["vectors"], strict=True):
                            vectors[str(k)] = row
                except (OSError, ValueError, KeyError):
                    continue  # a damaged shard only costs re-embedding its texts
            self._vectors = vectors
        return self._vectors

    def _write(self, keys: list[str], matrix: np.ndarray) -> None:
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            name = uuid.uuid4().hex
            tmp = self._dir / f".{name}.tmp.npz"
            np.savez(tmp, keys=np.asarray(keys), vectors=matrix)
            os.replace(tmp, self._dir / f"{name}.npz")
        except OSError as exc:
            raise StoreError(
                f"cannot write the embedding cache under {self._dir}: {exc}; "
                "free some space or point the cache elsewhere"
            ) from exc
