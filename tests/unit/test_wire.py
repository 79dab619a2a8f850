"""kg.wire: a batch sent as columns through pickle (as a forked worker sends it) comes back
equal, open validity still the shared ALWAYS and every empty attrs its own dict."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

from kg.model import (
    ALWAYS,
    Batch,
    Document,
    Entity,
    EntityKind,
    Relation,
    RelationKind,
    Span,
    Validity,
)
from kg.wire import batch_from_row, batch_row


def _batch() -> Batch:
    since = Validity(from_commit="c1", from_time=datetime(2024, 5, 1, tzinfo=UTC))
    return Batch(
        repo="r",
        entities=[
            Entity.make(
                EntityKind.FUNCTION,
                "r",
                "a.py::f",
                name="f",
                owner="file:r:a.py",
                path="a.py",
                span=Span(1, 3, 0, 4),
                language="python",
                attrs={"signature": "f(x)", "n": 2, "tags": ["a", "b"]},
            ),
            Entity.make(EntityKind.MODULE, "r", "ext:os", name="os", valid=since),
        ],
        relations=[
            Relation(RelationKind.CALLS, "x", "y", 0.6, "code:name-match", "resolve:r:a.py"),
            Relation(RelationKind.MODIFIES, "c", "f", attrs={"added": 3}, valid=since),
        ],
        documents=[Document("Function:1", "r", EntityKind.FUNCTION, "def f(x): ...")],
        replace_scopes={"file:r:a.py", "resolve:r:a.py"},
        deletions=["Function:gone"],
        state={"hash:a.py": "h", "deps:b.py": None},
    )


def test_a_batch_survives_the_trip_through_pickle() -> None:
    batch = _batch()
    back = batch_from_row(pickle.loads(pickle.dumps(batch_row(batch))))
    assert back == batch
    assert type(back.entities[0].kind) is EntityKind
    assert type(back.relations[0].kind) is RelationKind
    assert back.relations[0].valid is ALWAYS and back.entities[0].valid is ALWAYS
    assert back.entities[1].valid == batch.entities[1].valid


def test_empty_attrs_come_back_as_separate_dicts() -> None:
    relations = [Relation(RelationKind.CALLS, "x", f"y{i}") for i in range(2)]
    back = batch_from_row(batch_row(Batch(repo="r", relations=relations))).relations
    assert back == relations
    assert back[0].attrs == {} and back[0].attrs is not back[1].attrs


def test_an_empty_batch_round_trips() -> None:
    assert batch_from_row(pickle.loads(pickle.dumps(batch_row(Batch(repo="r"))))) == Batch("r")
