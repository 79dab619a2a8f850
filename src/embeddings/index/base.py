"""The VectorIndex seam: named dense and sparse vectors with payload filters.

Implementations: ``embeddings.index.edge.EdgeVectorIndex`` (embedded Qdrant engine,
``qdrant-edge-py``) and ``embeddings.index.qdrant.QdrantVectorIndex`` (a Qdrant server through
``qdrant-client``; tests use its local mode). Both pass ``tests/contract/test_vector_index.py``.
Points are keyed by entity id (mapped to a UUID internally); the payload keeps ``eid`` and the
content ``hash`` so unchanged text is never embedded again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from kg.model import AttrValue


@dataclass(frozen=True, slots=True)
class SparseVector:
    indices: list[int]
    values: list[float]


@dataclass(frozen=True, slots=True)
class CollectionSpec:
    """Dense vector names with their dimensions, and sparse vector names (IDF-weighted)."""

    dense: Mapping[str, int]
    sparse: Sequence[str] = ("lexical",)


@dataclass(frozen=True, slots=True)
class VectorPoint:
    id: str
    dense: Mapping[str, list[float]] = field(default_factory=dict)
    sparse: Mapping[str, SparseVector] = field(default_factory=dict)
    payload: Mapping[str, AttrValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VectorFilter:
    """Payload filter pushed down into the index; every field narrows, None means any."""

    repo: str | None = None
    kinds: Sequence[str] | None = None
    languages: Sequence[str] | None = None
    path_prefix: str | None = None
    authors: Sequence[str] | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ScoredPoint:
    id: str
    score: float
    payload: Mapping[str, AttrValue]


@runtime_checkable
class VectorIndex(Protocol):
    async def ensure(self, spec: CollectionSpec) -> None:
        """Create the collection and payload indexes if missing (idempotent)."""
        ...

    async def upsert(self, points: Sequence[VectorPoint]) -> None: ...

    async def delete(self, ids: Sequence[str]) -> None: ...

    async def search(
        self,
        vector: str,
        query: list[float] | SparseVector,
        *,
        filter: VectorFilter | None = None,
        limit: int = 10,
    ) -> list[ScoredPoint]:
        """Nearest points on one named vector (dense: cosine; sparse: dot with IDF)."""
        ...

    async def hashes(self, ids: Sequence[str]) -> dict[str, str]:
        """``{id: payload hash}`` for the ids that exist."""
        ...

    async def count(self, filter: VectorFilter | None = None) -> int: ...

    async def close(self) -> None: ...
