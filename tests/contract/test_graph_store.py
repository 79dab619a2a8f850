"""The GraphStore contract: every implementation passes this module unchanged.

Written only against ``kg.stores.base.GraphStore``; the ``graph_store`` fixture (conftest) yields
a started, empty store of each registered backend.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from kg.errors import InvalidInput
from kg.model import (
    Attrs,
    Batch,
    Entity,
    EntityKind,
    Relation,
    RelationKind,
    Span,
    Validity,
    file_scope,
    resolve_scope,
)
from kg.stores.base import EntityQuery, GraphStore

REPO = "acme"
OTHER = "other"
CALLS, IMPORTS, DEFINES = RelationKind.CALLS, RelationKind.IMPORTS, RelationKind.DEFINES
FUNC, CLASS, FILE = EntityKind.FUNCTION, EntityKind.CLASS, EntityKind.FILE


def fn(path: str, name: str, repo: str = REPO, kind: EntityKind = FUNC) -> Entity:
    return Entity.make(
        kind, repo, f"{path}::{name}", name=name, owner=file_scope(repo, path), path=path
    )


def rel(kind: RelationKind, a: Entity, b: Entity, conf: float = 1.0, owner: str = "") -> Relation:
    return Relation(kind, a.id, b.id, confidence=conf, provenance="test:fixture", owner=owner)


async def snapshot(store: GraphStore) -> tuple[Any, ...]:
    """Everything observable about the two test repositories."""
    out: list[Any] = []
    for repo in (REPO, OTHER):
        out.append(await store.find(EntityQuery(repo=repo, limit=10_000)))
        out.append(sorted(await store.relations(repo), key=lambda r: r.id))
        out.append(await store.states(repo, ""))
    out.append(await store.stats())
    return tuple(out)


# -- round trip ------------------------------------------------------------------------------


async def test_every_field_round_trips(graph_store: GraphStore) -> None:
    valid = Validity(
        from_commit="a" * 40,
        from_time=datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC),
        to_commit="b" * 40,
        to_time=datetime(2024, 6, 2, 8, 0, 1, tzinfo=UTC),
    )
    attrs: Attrs = {
        "doc": "Parse it.",
        "loc": 42,
        "ratio": 0.25,
        "public": True,
        "none": None,
        "params": ["a", "b"],
        "lines": [3, 5, 8],
    }
    full = Entity.make(
        CLASS,
        REPO,
        "src/p.py::Parser",
        name="Parser",
        owner=file_scope(REPO, "src/p.py"),
        path="src/p.py",
        span=Span(3, 40, 4, 17),
        language="python",
        attrs=attrs,
        valid=valid,
    )
    bare = Entity.make(EntityKind.PERSON, REPO, "ada@example.org", name="Ada")
    edge = Relation(
        RelationKind.AUTHORED,
        bare.id,
        full.id,
        confidence=0.75,
        provenance="git:blame",
        owner="commit:acme:abc",
        attrs={"lines": 12, "note": "ü → ✓"},
        valid=valid,
    )
    await graph_store.apply(Batch(REPO, entities=[full, bare], relations=[edge]))

    assert await graph_store.get([full.id, bare.id]) == [full, bare]
    assert await graph_store.relations(REPO) == [edge]
    got = await graph_store.neighbors([bare.id], None, "out")
    assert [(n.relation, n.entity) for n in got[bare.id]] == [(edge, full)]


async def test_get_keeps_order_and_reports_missing_as_none(graph_store: GraphStore) -> None:
    a, b = fn("a.py", "a"), fn("b.py", "b")
    await graph_store.apply(Batch(REPO, entities=[a, b]))
    assert await graph_store.get([b.id, "Function:nope", a.id, b.id]) == [b, None, a, b]
    assert await graph_store.get([]) == []


# -- apply semantics -------------------------------------------------------------------------


async def test_apply_twice_yields_an_empty_delta(graph_store: GraphStore) -> None:
    a, b, c = fn("m.py", "a"), fn("m.py", "b"), fn("n.py", "c")
    batch = Batch(
        REPO,
        entities=[a, b, c],
        relations=[rel(CALLS, a, b, 0.9), rel(CALLS, b, c)],
        replace_scopes={file_scope(REPO, "m.py")},
        state={"hash:m.py": "h1"},
    )
    first = await graph_store.apply(batch)
    assert sorted(first.added) == sorted([a.id, b.id, c.id])
    assert (first.updated, first.removed) == ([], [])
    assert (first.relations_added, first.relations_removed) == (2, 0)
    assert first.kinds == [FUNC.value]
    assert sorted(first.paths) == ["m.py", "n.py"]
    assert first.repo == REPO

    before = await snapshot(graph_store)
    second = await graph_store.apply(batch)
    assert second.is_empty
    assert (second.added, second.updated, second.removed) == ([], [], [])
    assert await snapshot(graph_store) == before


async def test_changed_rows_are_reported_and_stored(graph_store: GraphStore) -> None:
    a, b = fn("m.py", "a"), fn("m.py", "b")
    await graph_store.apply(Batch(REPO, entities=[a, b], relations=[rel(CALLS, a, b, 0.5)]))
    a2 = Entity.make(FUNC, REPO, a.key, name="a", owner=a.owner, path="m.py", span=Span(1, 9))
    delta = await graph_store.apply(Batch(REPO, entities=[a2, b]))
    assert (delta.added, delta.updated, delta.removed) == ([], [a.id], [])
    assert await graph_store.get([a.id]) == [a2]

    delta = await graph_store.apply(Batch(REPO, relations=[rel(CALLS, a, b, 0.75)]))
    assert not delta.is_empty
    assert [r.confidence for r in await graph_store.relations(REPO)] == [0.75]


async def test_replace_scope_removes_what_the_scope_no_longer_produces(
    graph_store: GraphStore,
) -> None:
    f1, f2, g = fn("a.py", "f1"), fn("a.py", "f2"), fn("b.py", "g")
    a_scope, b_scope = file_scope(REPO, "a.py"), file_scope(REPO, "b.py")
    f1_g = rel(CALLS, f1, g, owner=resolve_scope(REPO, "a.py"))
    g_f2 = rel(CALLS, g, f2, owner=b_scope)
    f1_f2 = rel(CALLS, f1, f2, owner=a_scope)
    await graph_store.apply(
        Batch(
            REPO,
            entities=[f1, f2, g],
            relations=[f1_g, g_f2, f1_f2],
            replace_scopes={a_scope, b_scope},
        )
    )
    other = fn("a.py", "f2", repo=OTHER)
    await graph_store.apply(
        Batch(OTHER, entities=[other], replace_scopes={file_scope(OTHER, "a.py")})
    )

    # a.py re-extracted: f2 is gone, f1 unchanged.
    delta = await graph_store.apply(Batch(REPO, entities=[f1], replace_scopes={a_scope}))
    assert delta.removed == [f2.id]
    assert delta.added == []
    assert delta.updated == []
    assert delta.relations_removed == 2  # g -> f2 (owned by b.py) and f1 -> f2 go with f2
    assert "a.py" in delta.paths
    assert await graph_store.get([f1.id, f2.id, g.id, other.id]) == [f1, None, g, other]
    assert await graph_store.relations(REPO) == [f1_g]


async def test_replace_scope_removes_stale_relations_only(graph_store: GraphStore) -> None:
    f, g, h = fn("a.py", "f"), fn("b.py", "g"), fn("c.py", "h")
    scope = resolve_scope(REPO, "a.py")
    old = [rel(CALLS, f, g, 0.5, owner=scope), rel(CALLS, f, h, 0.5, owner=scope)]
    kept = rel(IMPORTS, g, h, owner=resolve_scope(REPO, "b.py"))
    await graph_store.apply(Batch(REPO, entities=[f, g, h], relations=[*old, kept]))

    delta = await graph_store.apply(Batch(REPO, relations=[old[0]], replace_scopes={scope}))
    assert (delta.relations_added, delta.relations_removed) == (0, 1)
    assert delta.removed == []
    assert sorted(r.id for r in await graph_store.relations(REPO)) == sorted([old[0].id, kept.id])


async def test_deletions_remove_entities_with_their_edges(graph_store: GraphStore) -> None:
    a, b, c = fn("a.py", "a"), fn("b.py", "b"), fn("c.py", "c")
    await graph_store.apply(
        Batch(
            REPO,
            entities=[a, b, c],
            relations=[rel(CALLS, a, b), rel(CALLS, b, c), rel(CALLS, a, c)],
        )
    )
    delta = await graph_store.apply(Batch(REPO, deletions=[b.id, "Function:missing"]))
    assert delta.removed == [b.id]
    assert delta.relations_removed == 2
    assert delta.paths == ["b.py"]
    assert await graph_store.get([a.id, b.id, c.id]) == [a, None, c]
    assert [(r.src, r.dst) for r in await graph_store.relations(REPO)] == [(a.id, c.id)]


async def test_relations_to_missing_entities_are_dropped(graph_store: GraphStore) -> None:
    a, b, ghost = fn("a.py", "a"), fn("b.py", "b"), fn("z.py", "ghost")
    await graph_store.apply(Batch(REPO, entities=[a]))
    delta = await graph_store.apply(
        Batch(
            REPO,
            entities=[b],
            relations=[rel(CALLS, a, b), rel(CALLS, a, ghost), rel(CALLS, ghost, b)],
        )
    )
    assert (delta.relations_added, delta.relations_removed) == (1, 0)
    assert [(r.src, r.dst) for r in await graph_store.relations(REPO)] == [(a.id, b.id)]
    assert await graph_store.neighbors([ghost.id], None, "in") == {ghost.id: []}


# -- state -----------------------------------------------------------------------------------


async def test_state_set_get_prefix_delete(graph_store: GraphStore) -> None:
    await graph_store.set_state(REPO, "hash:src/a.py", "1")
    await graph_store.set_state(REPO, "hash:src/b.py", "2")
    await graph_store.set_state(REPO, "head", "abc")
    await graph_store.set_state(OTHER, "hash:src/a.py", "9")
    assert await graph_store.get_state(REPO, "head") == "abc"
    assert await graph_store.get_state(REPO, "nope") is None
    assert await graph_store.states(REPO, "hash:") == {"hash:src/a.py": "1", "hash:src/b.py": "2"}
    assert await graph_store.states(REPO, "hash:src/b") == {"hash:src/b.py": "2"}
    assert len(await graph_store.states(REPO, "")) == 3

    await graph_store.set_state(REPO, "head", "def")
    await graph_store.set_state(REPO, "hash:src/a.py", None)
    await graph_store.set_state(REPO, "never-set", None)
    assert await graph_store.states(REPO, "") == {"hash:src/b.py": "2", "head": "def"}
    assert await graph_store.states(OTHER, "") == {"hash:src/a.py": "9"}


async def test_state_travels_with_the_batch(graph_store: GraphStore) -> None:
    await graph_store.set_state(REPO, "hash:old.py", "0")
    delta = await graph_store.apply(
        Batch(REPO, state={"hash:new.py": "n", "hash:old.py": None, "head": "c1"})
    )
    assert delta.is_empty
    assert await graph_store.states(REPO, "") == {"hash:new.py": "n", "head": "c1"}


# -- queries ---------------------------------------------------------------------------------


async def _catalog(store: GraphStore) -> list[Entity]:
    ents = [
        fn("src/pkg/a.py", "parse"),
        fn("src/pkg/a.py", "parse_all"),
        fn("src/pkg/a.py", "emit"),
        fn("src/pkg/b.py", "parse", kind=CLASS),
        fn("src/util.py", "parser"),
        fn("docs/x.py", "parse"),
        fn("src/pkg/a.py", "parse", repo=OTHER),
    ]
    await store.apply(Batch(REPO, entities=[e for e in ents if e.repo == REPO]))
    await store.apply(Batch(OTHER, entities=[e for e in ents if e.repo == OTHER]))
    return ents


def _ids(ents: list[Entity]) -> list[str]:
    return sorted(e.id for e in ents)


async def test_find_filters(graph_store: GraphStore) -> None:
    ents = await _catalog(graph_store)
    mine = [e for e in ents if e.repo == REPO]

    async def find(**kw: Any) -> list[str]:
        found = await graph_store.find(EntityQuery(**kw))
        assert [e.id for e in found] == sorted(e.id for e in found)  # ordered by id
        assert await graph_store.count(EntityQuery(**kw)) == len(found)
        return [e.id for e in found]

    assert await find(repo=REPO) == _ids(mine)
    assert await find() == _ids(ents)
    assert await find(repo=REPO, kinds=[CLASS]) == _ids([e for e in mine if e.kind == CLASS])
    assert await find(repo=REPO, kinds=[CLASS, FUNC]) == _ids(mine)
    assert await find(repo=REPO, kinds=[FILE]) == []
    assert await find(repo=REPO, name="parse") == _ids([e for e in mine if e.name == "parse"])
    assert await find(repo=REPO, name_prefix="parse") == _ids(
        [e for e in mine if e.name.startswith("parse")]
    )
    assert await find(repo=REPO, path="src/pkg/a.py") == _ids(
        [e for e in mine if e.path == "src/pkg/a.py"]
    )
    assert await find(repo=REPO, path_prefix="src/pkg/") == _ids(
        [e for e in mine if (e.path or "").startswith("src/pkg/")]
    )
    assert await find(key="src/util.py::parser") == [fn("src/util.py", "parser").id]
    assert await find(repo=REPO, kinds=[FUNC], name="parse", path_prefix="src/") == [
        fn("src/pkg/a.py", "parse").id
    ]
    assert await find(name_prefix="nothing") == []


async def test_find_paginates_by_id_and_count_ignores_the_cursor(graph_store: GraphStore) -> None:
    ents = await _catalog(graph_store)
    expected = _ids([e for e in ents if e.repo == REPO])
    pages: list[str] = []
    after: str | None = None
    while True:
        page = await graph_store.find(EntityQuery(repo=REPO, after=after, limit=2))
        if not page:
            break
        assert len(page) <= 2
        pages += [e.id for e in page]
        after = page[-1].id
    assert pages == expected
    assert await graph_store.count(EntityQuery(repo=REPO, after=expected[2], limit=1)) == len(
        expected
    )
    assert await graph_store.find(EntityQuery(repo=REPO, after=expected[2], limit=1)) == [
        e for e in ents if e.id == expected[3]
    ]


async def test_neighbors_of_many_ids(graph_store: GraphStore) -> None:
    a, b, c, m = fn("a.py", "a"), fn("b.py", "b"), fn("c.py", "c"), fn("a.py", "mod", kind=FILE)
    edges = [
        rel(CALLS, a, b, 0.5),
        rel(CALLS, a, c),
        rel(CALLS, b, c),
        rel(IMPORTS, a, c),
        rel(DEFINES, m, a),
    ]
    await graph_store.apply(Batch(REPO, entities=[a, b, c, m], relations=edges))

    def pairs(ns: dict[str, list[Any]], eid: str) -> set[tuple[str, str, float]]:
        return {(n.relation.kind.value, n.entity.id, n.relation.confidence) for n in ns[eid]}

    out = await graph_store.neighbors([a.id, b.id, c.id, "Function:none"], None, "out")
    assert set(out) == {a.id, b.id, c.id, "Function:none"}
    assert pairs(out, a.id) == {("CALLS", b.id, 0.5), ("CALLS", c.id, 1.0), ("IMPORTS", c.id, 1.0)}
    assert pairs(out, b.id) == {("CALLS", c.id, 1.0)}
    assert out[c.id] == []
    assert out["Function:none"] == []

    inc = await graph_store.neighbors([a.id, c.id], [CALLS], "in")
    assert pairs(inc, a.id) == set()
    assert pairs(inc, c.id) == {("CALLS", a.id, 1.0), ("CALLS", b.id, 1.0)}
    inc = await graph_store.neighbors([a.id, c.id], [CALLS, DEFINES], "in")
    assert pairs(inc, a.id) == {("DEFINES", m.id, 1.0)}
    for n in inc[c.id]:
        assert n.entity == (a if n.entity.id == a.id else b)
        assert n.relation.dst == c.id


async def _cyclic(store: GraphStore) -> dict[str, Entity]:
    """a -> b -> c -> a (cycle), c -> e, a -> d (short cut), d -IMPORTS-> e."""
    g = {name: fn(f"{name}.py", name) for name in "abcde"}
    edges = [
        rel(CALLS, g["a"], g["b"], 0.5),
        rel(CALLS, g["b"], g["c"], 0.8),
        rel(CALLS, g["c"], g["a"], 1.0),
        rel(CALLS, g["c"], g["e"], 0.5),
        rel(CALLS, g["a"], g["d"], 0.3),
        rel(IMPORTS, g["d"], g["e"], 0.9),
    ]
    await store.apply(Batch(REPO, entities=list(g.values()), relations=edges))
    return g


async def test_traverse_by_depth_with_cycles(graph_store: GraphStore) -> None:
    g = await _cyclic(graph_store)
    ident = {e.id: name for name, e in g.items()}

    async def reach(
        start: str, kinds: list[RelationKind], direction: Any, depth: int, limit: int = 1000
    ) -> list[tuple[str, int, str, float]]:
        got = await graph_store.traverse([g[start].id], kinds, direction, depth, limit)
        assert [(r.depth, r.entity.id) for r in got] == sorted((r.depth, r.entity.id) for r in got)
        for r in got:
            assert r.entity == g[ident[r.entity.id]]
        return [
            (ident[r.entity.id], r.depth, "".join(ident[i] for i in r.path), round(r.confidence, 9))
            for r in got
        ]

    one = await reach("a", [CALLS], "out", 1)
    assert sorted(one) == [("b", 1, "ab", 0.5), ("d", 1, "ad", 0.3)]
    three = await reach("a", [CALLS], "out", 3)
    assert sorted(three) == [
        ("b", 1, "ab", 0.5),
        ("c", 2, "abc", 0.4),
        ("d", 1, "ad", 0.3),
        ("e", 3, "abce", 0.2),
    ]
    both = await reach("a", [CALLS, IMPORTS], "out", 3)
    assert ("e", 2, "ade", 0.27) in both  # the shortest path wins over the more confident one
    assert len(both) == 4
    back = await reach("e", [CALLS], "in", 3)
    assert sorted(back) == [("a", 3, "ecba", 0.2), ("b", 2, "ecb", 0.4), ("c", 1, "ec", 0.5)]
    limited = await reach("a", [CALLS], "out", 3, limit=2)
    assert [(n, d) for n, d, _, _ in limited] == sorted(
        [("b", 1), ("d", 1)], key=lambda t: g[t[0]].id
    )
    assert await reach("a", [CALLS], "out", 0) == []


async def test_traverse_from_many_starts_reports_no_start(graph_store: GraphStore) -> None:
    g = await _cyclic(graph_store)
    got = await graph_store.traverse([g["a"].id, g["c"].id], [CALLS], "out", 2)
    by_id = {r.entity.id: r for r in got}
    assert set(by_id) == {g["b"].id, g["d"].id, g["e"].id}
    assert all(r.depth == 1 for r in got)
    assert list(by_id[g["e"].id].path) == [g["c"].id, g["e"].id]


async def test_relations_of_a_repo_by_kind(graph_store: GraphStore) -> None:
    g = await _cyclic(graph_store)
    x, y = fn("x.py", "x", repo=OTHER), fn("y.py", "y", repo=OTHER)
    await graph_store.apply(Batch(OTHER, entities=[x, y], relations=[rel(CALLS, x, y)]))
    assert len(await graph_store.relations(REPO)) == 6
    assert [(r.src, r.dst) for r in await graph_store.relations(REPO, [IMPORTS])] == [
        (g["d"].id, g["e"].id)
    ]
    assert len(await graph_store.relations(REPO, [CALLS, IMPORTS])) == 6
    assert await graph_store.relations(OTHER, [CALLS]) == [rel(CALLS, x, y)]
    assert await graph_store.relations("nobody") == []


async def test_stats_count_kinds(graph_store: GraphStore) -> None:
    await _catalog(graph_store)
    await _cyclic(graph_store)
    mine = await graph_store.stats(REPO)
    assert mine["Function"] == 10
    assert mine["Class"] == 1
    assert mine["CALLS"] == 5
    assert mine["IMPORTS"] == 1
    assert mine.get("Issue", 0) == 0
    assert mine.get("AUTHORED", 0) == 0
    everything = await graph_store.stats()
    assert everything["Function"] == 11
    assert (await graph_store.stats(OTHER))["Function"] == 1


# -- bad input -------------------------------------------------------------------------------


async def _seeded(store: GraphStore) -> tuple[Entity, Entity]:
    a, b = fn("a.py", "a"), fn("a.py", "b")
    await store.apply(
        Batch(
            REPO,
            entities=[a, b],
            relations=[rel(CALLS, a, b, owner=file_scope(REPO, "a.py"))],
            state={"hash:a.py": "1"},
        )
    )
    return a, b


@pytest.mark.parametrize(
    "bad_attrs",
    [{"blob": cast(Any, object())}, {"ratio": math.nan}, {"nested": cast(Any, {"x": 1})}],
    ids=["object", "nan", "nested-map"],
)
async def test_a_failing_batch_writes_nothing(
    graph_store: GraphStore, bad_attrs: dict[str, Any]
) -> None:
    a, _ = await _seeded(graph_store)
    before = await snapshot(graph_store)
    c = fn("c.py", "c")
    broken = Entity.make(
        FUNC, REPO, "z.py::z", name="z", owner=file_scope(REPO, "z.py"), attrs=bad_attrs
    )
    batch = Batch(
        REPO,
        entities=[c, broken],
        relations=[rel(CALLS, a, c)],
        replace_scopes={file_scope(REPO, "a.py")},
        deletions=[a.id],
        state={"hash:a.py": None, "hash:c.py": "2"},
    )
    with pytest.raises(InvalidInput, match=broken.id):
        await graph_store.apply(batch)
    assert await snapshot(graph_store) == before


@pytest.mark.parametrize("confidence", [math.nan, -0.1, 1.5, math.inf])
async def test_bad_confidence_is_rejected_naming_the_relation(
    graph_store: GraphStore, confidence: float
) -> None:
    a, b = await _seeded(graph_store)
    before = await snapshot(graph_store)
    good, bad = rel(IMPORTS, a, b, 0.5), rel(CALLS, b, a, confidence)
    with pytest.raises(InvalidInput, match=bad.id):
        await graph_store.apply(Batch(REPO, relations=[good, bad], state={"head": "x"}))
    assert await snapshot(graph_store) == before
