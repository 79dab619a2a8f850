"""Model objects <-> SQLite rows for the embedded graph store (layout: ``kg.stores.sql``).

Encoding validates what SQLite would silently accept but the model forbids (NaN or out-of-range
confidence, attrs that are not JSON), so a bad batch fails before its transaction starts.
Each written row ends with a fingerprint of its content; ``apply`` compares fingerprints to skip
rows that did not change::

    >>> row = relation_row(Relation(RelationKind.CALLS, "Function:a", "Function:b"))
    >>> relation_from_row(row[:-1]).dst
    'Function:b'
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias, TypeVar

from kg.errors import InvalidInput
from kg.model import (
    ALWAYS,
    Attrs,
    Entity,
    EntityKind,
    Relation,
    RelationKind,
    Span,
    Validity,
)

SqlValue: TypeAlias = str | int | float | None
Row: TypeAlias = tuple[SqlValue, ...]
T = TypeVar("T")

# Well under SQLite's bound-parameter limit, and small enough that one IN list stays cheap.
CHUNK = 500

N_ENTITY = 17
N_RELATION = 12


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def fingerprint(row: Row) -> str:
    # repr of str/int/float/None is stable across runs and platforms, unlike hash().
    return _blake2b(repr(row).encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()


_blake2b = hashlib.blake2b


_ENCODER = json.JSONEncoder(sort_keys=True, allow_nan=False, separators=(",", ":"))
_ENTITY_KINDS: dict[str, str] = {k: k.value for k in EntityKind}
_RELATION_KINDS: dict[str, str] = {k: k.value for k in RelationKind}
# Dict lookups: calling the enum class per row costs more than the rest of decoding.
_AS_ENTITY_KIND: dict[str, EntityKind] = {k.value: k for k in EntityKind}
_AS_RELATION_KIND: dict[str, RelationKind] = {k.value: k for k in RelationKind}


def _is_attr_value(v: object) -> bool:
    if v is None or isinstance(v, str | int):  # bool is an int
        return True
    if isinstance(v, float):
        return math.isfinite(v)
    if isinstance(v, list):
        return all(isinstance(x, str) for x in v) or all(
            isinstance(x, int) and not isinstance(x, bool) for x in v
        )
    return False


def _attrs_json(attrs: Attrs, what: str, name: str) -> str:
    """Attrs as canonical JSON; only ``AttrValue``s, so every backend can store them as-is.
    ``what`` and ``name`` (kind of row and its id) only go into the error."""
    if not attrs:
        return "{}"
    for k, v in attrs.items():
        # Exact scalar types pass at once: this runs for every attribute of every entity.
        if (type(k) is not str or type(v) not in _SCALARS) and (
            not isinstance(k, str) or not _is_attr_value(v)
        ):
            raise InvalidInput(
                f"{what} {name}: attrs[{k!r}] = {v!r:.80} is not storable; use str, int, "
                "finite float, bool, None, or a list of only str or only int"
            )
    return _ENCODER.encode(attrs if type(attrs) is dict else dict(attrs))


_SCALARS = frozenset({str, int, bool, type(None)})


def _time(t: datetime | None) -> str | None:
    # Aware datetimes are stored in UTC; naive ones are kept naive so they read back equal.
    if t is None:
        return None
    return (t.astimezone(UTC) if t.tzinfo is not None else t).isoformat()


# The validity columns of a fact that always holds, and where they start in a row.
OPEN: Row = (None, None, None, None)
ENTITY_VALIDITY = 13
RELATION_VALIDITY = 8


def _validity(v: Validity) -> Row:
    if v is ALWAYS:
        return OPEN
    return (v.from_commit, _time(v.from_time), v.to_commit, _time(v.to_time))


def entity_row(e: Entity) -> Row:
    """The row (fingerprint last) for an entity; InvalidInput names the entity when it is bad."""
    kind = _ENTITY_KINDS.get(e.kind)
    if kind is None:
        raise InvalidInput(f"entity {e.id}: unknown kind {e.kind!r}")
    span = e.span
    valid = e.valid
    row: Row = (
        e.id,
        kind,
        e.repo,
        e.key,
        e.name,
        e.owner,
        e.path,
        *(OPEN if span is None else (span.start_line, span.end_line, span.start_col, span.end_col)),
        e.language,
        _attrs_json(e.attrs, "entity", e.id),
        *(OPEN if valid is ALWAYS else _validity(valid)),
    )
    return (*row, fingerprint(row))


def relation_row(r: Relation, rid: str | None = None) -> Row:
    """The row (fingerprint last) for a relation; InvalidInput names the relation when bad.

    ``rid`` is ``r.id`` when the caller has already computed it (hashing is the costly part).
    """
    rid = r.id if rid is None else rid
    kind = _RELATION_KINDS.get(r.kind)
    if kind is None:
        raise InvalidInput(f"relation {rid}: unknown kind {r.kind!r}")
    c = r.confidence
    # A plain float in range is the rule; anything else is checked and converted.
    if type(c) is not float or not 0.0 <= c <= 1.0:
        c = _confidence(c, rid)
    attrs = r.attrs
    valid = r.valid
    row: Row
    if valid is ALWAYS:
        row = (
            rid,
            kind,
            r.src,
            r.dst,
            c,
            r.provenance,
            r.owner,
            _attrs_json(attrs, "relation", rid) if attrs else "{}",
            None,
            None,
            None,
            None,
        )
    else:
        row = (
            rid,
            kind,
            r.src,
            r.dst,
            c,
            r.provenance,
            r.owner,
            _attrs_json(attrs, "relation", rid),
            *_validity(valid),
        )
    return (*row, fingerprint(row))


def _confidence(c: object, rid: str) -> float:
    if isinstance(c, bool) or not isinstance(c, int | float) or math.isnan(c) or not 0 <= c <= 1:
        raise InvalidInput(
            f"relation {rid}: confidence {c!r} is not a number between 0 and 1; "
            "clamp or drop the edge in the extractor"
        )
    return float(c)


def _parse_time(s: Any) -> datetime | None:
    return None if s is None else datetime.fromisoformat(s)


def _validity_from(cols: Sequence[Any]) -> Validity:
    from_commit, from_time, to_commit, to_time = cols
    if from_commit is from_time is to_commit is to_time is None:
        return ALWAYS
    return Validity(from_commit, _parse_time(from_time), to_commit, _parse_time(to_time))


def _attrs(text: str) -> dict[str, Any]:
    return {} if text == "{}" else dict(json.loads(text))


def entity_from_row(row: Sequence[Any]) -> Entity:
    """An Entity from the ``ENTITY_COLUMNS`` of a row."""
    span = None if row[7] is None else Span(row[7], row[8], row[9], row[10])
    return Entity(
        id=row[0],
        kind=_AS_ENTITY_KIND[row[1]],
        repo=row[2],
        key=row[3],
        name=row[4],
        owner=row[5],
        path=row[6],
        span=span,
        language=row[11],
        attrs=_attrs(row[12]),
        valid=_validity_from(row[13:17]),
    )


def relation_from_row(row: Sequence[Any]) -> Relation:
    """A Relation from the ``RELATION_COLUMNS`` of a row (its id is derived, not read)."""
    return Relation(
        kind=_AS_RELATION_KIND[row[1]],
        src=row[2],
        dst=row[3],
        confidence=row[4],
        provenance=row[5],
        owner=row[6],
        attrs=_attrs(row[7]),
        valid=_validity_from(row[8:12]),
    )
