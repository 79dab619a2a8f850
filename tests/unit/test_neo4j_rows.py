"""Model objects <-> Neo4j property maps: lossless, validated before any transaction."""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta, timezone

import pytest

from kg.errors import InvalidInput
from kg.model import Entity, EntityKind, Relation, RelationKind, Span, Validity
from kg.stores import cypher
from kg.stores.neo4j_rows import (
    entity_from_props,
    entity_props,
    relation_from_props,
    relation_props,
)

SCALARS = (str, int, float, bool, list, type(None))


def test_entity_round_trips_through_storable_properties() -> None:
    e = Entity.make(
        EntityKind.FUNCTION,
        "r",
        "a.py::f",
        name="f",
        owner="file:r:a.py",
        path="a.py",
        span=Span(1, 2, 3, 4),
        language="python",
        attrs={"doc": "ü", "n": 1, "x": 0.5, "ok": False, "none": None, "ls": ["a"], "li": [1]},
        valid=Validity("c1", datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))),
    )
    props = entity_props(e)
    # Neo4j properties: scalars or homogeneous lists only (attrs travel as JSON text).
    assert all(isinstance(v, SCALARS) for v in props.values())
    assert isinstance(props["attrs"], str)
    assert props["from_time"] == "2024-01-02T01:04:05+00:00"  # stored in UTC
    assert entity_from_props(props) == e
    # Every property is one the CREATE statement writes.
    closed = Validity("c1", datetime(2024, 1, 1), "c2", datetime(2024, 1, 2))
    assert set(entity_props(dataclasses.replace(e, valid=closed))) == set(cypher.ENTITY_PROPERTIES)


def test_relation_round_trips_and_its_map_tracks_content() -> None:
    r = Relation(RelationKind.CALLS, "Function:a", "Function:b", 0.5, "code:x", "o", {"k": 1})
    props = relation_props(r, r.id)
    assert relation_from_props("CALLS", "Function:a", "Function:b", props) == r
    # The id, kind and ends are the relationship's own: none is stored as a property.
    assert set(props) == {"owner", "confidence", "provenance", "attrs"}
    # ``apply`` skips a relation whose stored map equals the new one: equal content, equal map.
    assert relation_props(r, r.id) == props
    moved = Relation(RelationKind.CALLS, "Function:a", "Function:b", 0.75, "code:x", "o", {"k": 1})
    assert relation_props(moved, moved.id) != props
    bare = Relation(RelationKind.CALLS, "Function:a", "Function:b")
    assert set(relation_props(bare, bare.id)) == {"owner", "confidence", "provenance"}
    closed = Validity("c1", datetime(2024, 1, 1), "c2", datetime(2024, 1, 2))
    full = Relation(RelationKind.CALLS, "Function:a", "Function:b", 1.0, "p", "o", {"k": 1}, closed)
    assert set(relation_props(full, full.id)) == set(cypher.RELATION_PROPERTIES)


def test_naive_and_open_validity_read_back_equal() -> None:
    naive = Validity(to_time=datetime(2024, 5, 1, 12, 0))
    e = Entity.make(EntityKind.COMMIT, "r", "abc", name="abc", valid=naive)
    assert entity_from_props(entity_props(e)).valid == naive
    bare = Entity.make(EntityKind.COMMIT, "r", "def", name="def")
    assert entity_from_props(entity_props(bare)).valid.is_current


@pytest.mark.parametrize(
    "attrs", [{"x": math.inf}, {"m": {"a": 1}}, {"mixed": [1, "a"]}], ids=["inf", "map", "mixed"]
)
def test_unstorable_attrs_name_the_entity(attrs: dict[str, object]) -> None:
    e = Entity.make(EntityKind.FILE, "r", "a.py", name="a.py", attrs=attrs)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=e.id):
        entity_props(e)


def test_text_bolt_cannot_carry_is_rejected_naming_the_row() -> None:
    e = Entity.make(EntityKind.FILE, "r", "bad\udcff.py", name="bad\udcff.py")
    with pytest.raises(InvalidInput, match=f"{e.id}: key"):
        entity_props(e)
    r = Relation(RelationKind.CALLS, "Function:a", "Function:b", provenance="x\ud800")
    with pytest.raises(InvalidInput, match=r.id):
        relation_props(r, r.id)


def test_confidence_must_be_a_probability() -> None:
    for c in (math.nan, -0.01, 1.01):
        r = Relation(RelationKind.CALLS, "Function:a", "Function:b", c)
        with pytest.raises(InvalidInput, match="confidence"):
            relation_props(r, r.id)
    ok = Relation(RelationKind.CALLS, "Function:a", "Function:b", 1)
    assert relation_props(ok, ok.id)["confidence"] == 1.0
