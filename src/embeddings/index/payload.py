"""Payload conventions shared by every VectorIndex implementation.

The payload keys a ``VectorFilter`` narrows on, and how each is stored:

==================  ==========================  ===========================================
key                 stored as                   filter
==================  ==========================  ===========================================
``eid``             entity id (str)             (lookup key for ``hashes``)
``hash``            content hash (str)          —
``repo``            str                         ``repo`` (exact)
``kind``            str (EntityKind value)      ``kinds`` (any of)
``language``        str                         ``languages`` (any of)
``path``            repository-relative path    —
``path_prefixes``   list of str, derived        ``path_prefix`` (exact element)
``authors``         list of str                 ``authors`` (any of)
``time``            ISO 8601 datetime str       ``since`` (>=), ``until`` (<=)
==================  ==========================  ===========================================

``path_prefixes`` lets a prefix filter be a plain keyword match, served by a keyword index:
``src/kg/model.py`` is stored with ``["src", "src/kg", "src/kg/model.py"]``. Indexes derive it
from ``path`` on upsert, so callers only set ``path``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Literal

from embeddings.index.base import CollectionSpec, VectorPoint
from kg.errors import InvalidInput
from kg.model import AttrValue

EID = "eid"
HASH = "hash"
PATH = "path"
PATH_PREFIXES = "path_prefixes"
TIME = "time"

IndexType = Literal["keyword", "datetime"]

# Fields that get a payload index, with their type.
INDEXED_FIELDS: Mapping[str, IndexType] = {
    EID: "keyword",
    "repo": "keyword",
    "kind": "keyword",
    "language": "keyword",
    PATH_PREFIXES: "keyword",
    "authors": "keyword",
    TIME: "datetime",
}

# Fixed namespace so an entity id maps to the same point id in every process and backend.
_POINT_NAMESPACE = uuid.UUID("6c0b6a54-3f7e-5d3c-9a63-0c9d3b0f2a11")


def point_id(eid: str) -> str:
    """The Qdrant point id (UUID5 string) of an entity id."""
    return str(uuid.uuid5(_POINT_NAMESPACE, eid))


def path_prefixes(path: str) -> list[str]:
    """Every directory prefix of a relative path, and the path itself.

    >>> path_prefixes("src/kg/model.py")
    ['src', 'src/kg', 'src/kg/model.py']
    """
    parts = [p for p in path.replace("\\", "/").strip("/").split("/") if p]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def normalise_prefix(prefix: str) -> str:
    """A ``path_prefix`` filter value in the form stored by ``path_prefixes``."""
    return "/".join(p for p in prefix.replace("\\", "/").strip("/").split("/") if p)


def stored_payload(eid: str, payload: Mapping[str, AttrValue]) -> dict[str, AttrValue]:
    """The payload as written: caller's keys plus ``eid`` and ``path_prefixes`` from ``path``."""
    out: dict[str, AttrValue] = dict(payload)
    out[EID] = eid
    path = payload.get(PATH)
    if isinstance(path, str) and path:
        out[PATH_PREFIXES] = path_prefixes(path)
    time = payload.get(TIME)
    if time is not None:
        try:
            if not isinstance(time, str):
                raise TypeError(type(time).__name__)
            datetime.fromisoformat(time)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(
                f"point {eid!r}: payload 'time' must be an ISO 8601 datetime string "
                f"(e.g. 2024-05-01T12:00:00+00:00), got {time!r}"
            ) from exc
    return out


def iso_utc(moment: datetime) -> str:
    """An RFC 3339 string for a filter bound; naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def check_points(points: Sequence[VectorPoint], spec: CollectionSpec | None) -> None:
    """Reject a batch before anything is written if any point does not fit the collection."""
    for p in points:
        if not p.id:
            raise InvalidInput("vector point without an id: every point needs its entity id")
        if spec is None:
            continue
        for name, vec in p.dense.items():
            if name not in spec.dense:
                raise InvalidInput(
                    f"point {p.id!r}: unknown dense vector {name!r}; "
                    f"the collection has {sorted(spec.dense)}"
                )
            if len(vec) != spec.dense[name]:
                raise InvalidInput(
                    f"point {p.id!r}: vector {name!r} has {len(vec)} dimensions, "
                    f"the collection expects {spec.dense[name]} (was the embedding model changed?)"
                )
        for name, sparse in p.sparse.items():
            if name not in spec.sparse:
                raise InvalidInput(
                    f"point {p.id!r}: unknown sparse vector {name!r}; "
                    f"the collection has {sorted(spec.sparse)}"
                )
            if len(sparse.indices) != len(sparse.values):
                raise InvalidInput(
                    f"point {p.id!r}: sparse vector {name!r} has {len(sparse.indices)} indices "
                    f"but {len(sparse.values)} values"
                )
