"""Model objects <-> Neo4j property maps for ``kg.stores.neo4j`` (layout: ``kg.stores.cypher``).

Neo4j properties hold only scalars and homogeneous lists, and a null property does not exist,
so ``attrs`` (a mapping) travels as canonical JSON and times as ISO-8601 strings. Encoding
validates first: a bad entity or relation raises ``InvalidInput`` naming it before any
transaction starts. A map is canonical (no nulls, canonical JSON), so ``apply`` skips a row
whose stored properties equal it; nothing else (no fingerprint, no relation id: that is a hash
of the type and the ends) is stored::

    >>> props = entity_props(Entity.make(EntityKind.FILE, "r", "a.py", name="a.py"))
    >>> entity_from_props(props).key
    'a.py'
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeAlias

from kg.errors import InvalidInput
from kg.model import ALWAYS, Attrs, Entity, EntityKind, Relation, RelationKind, Span, Validity

Props: TypeAlias = dict[str, Any]

_ENCODER = json.JSONEncoder(sort_keys=True, allow_nan=False, separators=(",", ":"))


def _seal(props: Props, what: str) -> Props:
    """Drop nulls (absent and null are the same to Neo4j: less to pack, and the map equals what
    the store reads back) after checking that Bolt can carry every text."""
    props = {k: v for k, v in props.items() if v is not None}
    texts = [v for v in props.values() if isinstance(v, str)]
    try:
        "".join(texts).encode("utf-8")  # one pass: only lone surrogates fail
    except UnicodeEncodeError:
        for k, v in props.items():
            if isinstance(v, str):
                try:
                    v.encode("utf-8")
                except UnicodeEncodeError as exc:
                    raise InvalidInput(
                        f"{what}: {k} {v!r:.80} is not valid Unicode text ({exc.reason}); "
                        "decode source bytes with errors='replace' in the extractor"
                    ) from exc
        raise
    return props


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


def _attrs_json(attrs: Attrs, what: str) -> str | None:
    """Canonical JSON of ``attrs``; None (no property at all) when empty, which most are: a
    stored ``{}`` would cost a property record per row for nothing."""
    for k, v in attrs.items():
        if not isinstance(k, str) or not _is_attr_value(v):
            raise InvalidInput(
                f"{what}: attrs[{k!r}] = {v!r:.80} is not storable; use str, int, finite float, "
                "bool, None, or a list of only str or only int"
            )
    return _ENCODER.encode(dict(attrs)) if attrs else None


def _time(t: datetime | None) -> str | None:
    # Aware times are stored in UTC; naive ones stay naive so they read back equal.
    if t is None:
        return None
    return (t.astimezone(UTC) if t.tzinfo is not None else t).isoformat()


def _validity(v: Validity) -> Props:
    return {
        "from_commit": v.from_commit,
        "from_time": _time(v.from_time),
        "to_commit": v.to_commit,
        "to_time": _time(v.to_time),
    }


def entity_props(e: Entity) -> Props:
    """The property map of an entity; InvalidInput names a bad one."""
    if not isinstance(e.kind, EntityKind):
        raise InvalidInput(f"entity {e.id}: unknown kind {e.kind!r}")
    span = e.span
    props: Props = {
        "id": e.id,
        "kind": e.kind.value,
        "repo": e.repo,
        "key": e.key,
        "name": e.name,
        "owner": e.owner,
        "path": e.path,
        "span": None
        if span is None
        else [span.start_line, span.end_line, span.start_col, span.end_col],
        "language": e.language,
        "attrs": _attrs_json(e.attrs, f"entity {e.id}"),
        **_validity(e.valid),
    }
    return _seal(props, f"entity {e.id}")


def relation_props(r: Relation, rid: str) -> Props:
    """The property map of a relation whose id is ``rid`` (named in errors).

    Endpoints and kind are the relationship's own ends and type, and the id is derived from
    them, so none of these is a property.
    """
    if not isinstance(r.kind, RelationKind):
        raise InvalidInput(f"relation {rid}: unknown kind {r.kind!r}")
    c = r.confidence
    if isinstance(c, bool) or not isinstance(c, int | float) or math.isnan(c) or not 0 <= c <= 1:
        raise InvalidInput(
            f"relation {rid}: confidence {c!r} is not a number between 0 and 1; "
            "clamp or drop the edge in the extractor"
        )
    props: Props = {
        "owner": r.owner,
        "confidence": float(c),
        "provenance": r.provenance,
        "attrs": _attrs_json(r.attrs, f"relation {rid}"),
        **_validity(r.valid),
    }
    return _seal(props, f"relation {rid}")


def _parse_time(s: Any) -> datetime | None:
    return None if s is None else datetime.fromisoformat(s)


def _validity_from(p: Mapping[str, Any]) -> Validity:
    parts = (p.get("from_commit"), p.get("from_time"), p.get("to_commit"), p.get("to_time"))
    if all(x is None for x in parts):
        return ALWAYS
    return Validity(parts[0], _parse_time(parts[1]), parts[2], _parse_time(parts[3]))


def _attrs(text: Any) -> dict[str, Any]:
    return {} if text in (None, "{}") else dict(json.loads(text))


def entity_from_props(p: Mapping[str, Any]) -> Entity:
    span = p.get("span")
    return Entity(
        id=p["id"],
        kind=EntityKind(p["kind"]),
        repo=p["repo"],
        key=p["key"],
        name=p["name"],
        owner=p.get("owner", ""),
        path=p.get("path"),
        span=None if span is None else Span(*span),
        language=p.get("language"),
        attrs=_attrs(p.get("attrs")),
        valid=_validity_from(p),
    )


def relation_from_props(kind: str, src: str, dst: str, p: Mapping[str, Any]) -> Relation:
    return Relation(
        kind=RelationKind(kind),
        src=src,
        dst=dst,
        confidence=float(p["confidence"]),
        provenance=p.get("provenance", ""),
        owner=p.get("owner", ""),
        attrs=_attrs(p.get("attrs")),
        valid=_validity_from(p),
    )
