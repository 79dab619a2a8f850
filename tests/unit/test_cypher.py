"""The Cypher builders of ``kg.stores.cypher``: as strings, and compiled by a real Neo4j."""

from __future__ import annotations

import asyncio
import itertools
import re
from dataclasses import fields
from typing import Any

import pytest
from neo4j import AsyncGraphDatabase

from kg.model import Batch, Entity, EntityKind, Relation, RelationKind, file_scope
from kg.stores import cypher
from kg.stores.neo4j import Neo4jGraphStore
from kg.stores.neo4j_rows import entity_props, relation_props

PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def params_of(query: str) -> set[str]:
    return set(PARAM.findall(query))


def every_filter() -> list[cypher.EntityFilter]:
    names = [f.name for f in fields(cypher.EntityFilter)]
    return [
        cypher.EntityFilter(**dict(zip(names, flags, strict=True)))
        for flags in itertools.product([False, True], repeat=len(names))
    ]


def some_filters() -> list[cypher.EntityFilter]:
    """No clause, each clause alone, and all clauses: clauses are independent (joined by AND)."""
    names = [f.name for f in fields(cypher.EntityFilter)]
    return [
        cypher.EntityFilter(),
        *(cypher.EntityFilter(**{n: True}) for n in names),
        cypher.EntityFilter(**dict.fromkeys(names, True)),
    ]


def every_statement(filters: list[cypher.EntityFilter] | None = None) -> list[str]:
    """Every statement the store can send, in every shape the builders can give it."""
    out: list[str] = [
        *cypher.schema().values(),
        cypher.SCHEMA_NAMES,
        cypher.DELETE_EVERYTHING,
        cypher.REMOVE_ENTITIES,
        cypher.OWNED_ENTITIES,
        cypher.relation_type_counts(),
        cypher.owned_relations(list(RelationKind)),
        cypher.owned_relations([RelationKind.CALLS]),
        cypher.DELETE_RELATIONS,
        cypher.STORED_ENTITIES,
        cypher.UPDATE_ENTITIES,
        cypher.EXISTING_ENTITIES,
        cypher.relations_from(list(RelationKind)),
        cypher.relations_from([RelationKind.CALLS]),
        cypher.SET_STATES,
        cypher.DELETE_STATES,
        cypher.GET_STATE,
        cypher.STATES_WITH_PREFIX,
        cypher.ENTITIES_BY_ID,
    ]
    out += [cypher.create_entities(k) for k in EntityKind]
    out += [cypher.create_relations(k) for k in RelationKind]
    out += [cypher.update_relations(k) for k in RelationKind]
    for flt in every_filter() if filters is None else filters:
        out += [cypher.find_entities(flt), cypher.count_entities(flt)]
    for direction, any_kind in itertools.product(("out", "in"), (True, False)):
        out.append(cypher.neighbors(direction, any_kind))  # type: ignore[arg-type]
    for direction, depth in itertools.product(("out", "in"), (1, 3)):
        out.append(cypher.traverse(direction, [RelationKind.CALLS], depth))  # type: ignore[arg-type]
    out.append(cypher.traverse("in", list(RelationKind), 2))
    out += [cypher.relations_of_repo(True), cypher.relations_of_repo(False)]
    for of_repo in (True, False):
        out += [cypher.entity_kind_counts(of_repo), cypher.relation_kind_counts(of_repo)]
    return out


def test_no_statement_contains_a_literal_value() -> None:
    # Values only ever arrive as $parameters, so no statement needs a quoted string.
    for query in every_statement():
        assert "'" not in query, query
        assert '"' not in query, query
        assert "`" not in query, query


def test_labels_and_types_come_only_from_the_enums() -> None:
    assert cypher.label(EntityKind.PULL_REQUEST) == "PullRequest"
    assert cypher.rel_type(RelationKind.CO_CHANGES) == "CO_CHANGES"
    for bad in ["Function", "Function) DETACH DELETE (n", RelationKind.CALLS]:
        with pytest.raises(ValueError, match="not an entity kind"):
            cypher.label(bad)  # type: ignore[arg-type]
    for bad in ["CALLS", "CALLS]->() DELETE r //", EntityKind.FILE]:
        with pytest.raises(ValueError, match="not a relation kind"):
            cypher.rel_type(bad)  # type: ignore[arg-type]


def test_writes_splice_the_kind_and_take_rows() -> None:
    q = cypher.create_entities(EntityKind.CLASS)
    lines = q.splitlines()
    assert lines[0] == "UNWIND $rows AS row"
    assert lines[1].startswith("CREATE (n:Entity:Class {id: row[0], kind: row[1], ")
    assert lines[1].endswith(", to_time: row[13]})")
    assert lines[2:] == ["RETURN collect(elementId(n)) AS eids"]
    # Properties given in the CREATE pattern: no SET after it (whose planned Eager would hold
    # every row), each property taken from the row (a list) by position.
    assert "SET" not in q
    assert all(f"{k}: row[{i}]" in lines[1] for i, k in enumerate(cypher.ENTITY_PROPERTIES))
    # Entities already looked up in the transaction are found again by element id, not by key.
    assert "MATCH (n) WHERE elementId(n) = row.eid" in cypher.UPDATE_ENTITIES
    assert params_of(cypher.UPDATE_ENTITIES) == {"rows"}
    q = cypher.create_relations(RelationKind.INHERITS)
    assert "MATCH (a) WHERE elementId(a) = row[0]" in q
    assert "MATCH (b) WHERE elementId(b) = row[1]" in q
    assert "CREATE (a)-[r:INHERITS {owner: row[2], " in q
    assert all(f"{k}: row[{i + 2}]" in q for i, k in enumerate(cypher.RELATION_PROPERTIES))
    assert "SET" not in q
    assert params_of(q) == {"rows"}
    q = cypher.update_relations(RelationKind.INHERITS)
    assert "MATCH (a)-[r:INHERITS]->(b)" in q
    assert "CREATE" not in q
    assert params_of(q) == {"rows"}
    for lookup in (cypher.STORED_ENTITIES, cypher.EXISTING_ENTITIES):
        assert "elementId(n)" in lookup and "USING INDEX SEEK n:Entity(id)" in lookup


def test_relations_from_lock_their_sources_in_the_given_order_and_read_asked_types() -> None:
    q = cypher.relations_from([RelationKind.IMPORTS, RelationKind.CALLS, RelationKind.CALLS])
    assert "MATCH (n)-[r:IMPORTS|CALLS]->(b)" in q
    with pytest.raises(ValueError, match="at least one"):
        cypher.relations_from([])
    assert q.startswith("UNWIND $eids AS eid\n")
    assert "SET n:Entity" in q
    assert params_of(q) == {"eids"}


def test_schema_is_idempotent_and_indexes_every_relation_owner() -> None:
    ddl = cypher.schema()
    assert all("IF NOT EXISTS" in q and f" {name} " in q for name, q in ddl.items())
    assert "REQUIRE n.id IS UNIQUE" in ddl["kg_entity_id"]
    assert "REQUIRE (s.repo, s.key) IS UNIQUE" in ddl["kg_state_key"]
    owners = [q for q in ddl.values() if "ON (r.owner)" in q]
    assert len(owners) == len(RelationKind)
    for kind in RelationKind:
        assert any(f"[r:{kind.value}]" in q for q in owners)


def test_owned_relations_query_has_one_indexed_branch_per_type_asked() -> None:
    q = cypher.owned_relations(list(RelationKind))
    assert q.count("UNION ALL") == len(RelationKind) - 1
    assert q.count("WHERE r.owner IN $scopes RETURN r") == len(RelationKind)
    assert "MATCH ()-[r:CO_CHANGES]->() USING INDEX SEEK r:CO_CHANGES(owner)" in q
    # Ends and type, from which the caller computes each relation's id: none is stored.
    assert "[elementId(r), type(r), startNode(r).id, endNode(r).id]" in q
    assert params_of(q) == {"scopes"}
    one = cypher.owned_relations([RelationKind.CALLS, RelationKind.CALLS])
    assert "UNION" not in one and "[r:CALLS]" in one
    with pytest.raises(ValueError, match="at least one"):
        cypher.owned_relations([])
    assert "WHERE elementId(r) = eid" in cypher.DELETE_RELATIONS
    assert params_of(cypher.DELETE_RELATIONS) == {"eids"}
    counts = cypher.relation_type_counts()
    for kind in RelationKind:
        assert f"COUNT {{ ()-[:{kind.value}]->() }} AS {kind.value}" in counts


def test_find_builds_only_the_asked_clauses_in_a_fixed_order() -> None:
    assert cypher.find_entities(cypher.EntityFilter()) == (
        "MATCH (n:Entity)\nWITH n ORDER BY n.id LIMIT $limit\nRETURN properties(n) AS n"
    )
    flt = cypher.EntityFilter(repo=True, kinds=True, path_prefix=True, after=True)
    where = cypher.find_entities(flt).splitlines()[1]
    assert where == (
        "WHERE n.repo = $repo AND n.kind IN $kinds AND n.path STARTS WITH $path_prefix "
        "AND n.id > $after"
    )
    assert cypher.count_entities(flt).endswith("RETURN count(n) AS n")
    for f in every_filter():
        wanted = {
            name
            for name in (
                "repo",
                "kinds",
                "name",
                "name_prefix",
                "path",
                "path_prefix",
                "key",
                "after",
            )
            if getattr(f, name)
        }
        assert params_of(cypher.find_entities(f)) == wanted | {"limit"}
        assert params_of(cypher.count_entities(f)) == wanted


def test_directions_turn_the_arrow() -> None:
    assert "(a:Entity)-[r]->(b:Entity)" in cypher.neighbors("out", True)
    assert "(a)<-[r:CALLS]-(b)" in cypher.traverse("in", [RelationKind.CALLS], 2)
    assert "WHERE a.id IN $ids AND type(r) IN $kinds" in cypher.neighbors("in", False)
    assert params_of(cypher.neighbors("in", True)) == {"ids"}
    with pytest.raises(ValueError, match="direction"):
        cypher.traverse("both", [RelationKind.CALLS], 1)  # type: ignore[arg-type]


def test_traverse_is_one_bounded_statement_over_the_asked_types() -> None:
    q = cypher.traverse("out", [RelationKind.CALLS, RelationKind.IMPORTS, RelationKind.CALLS], 3)
    # One expansion per level, the deeper ones only while the limit is not reached.
    assert q.count("MATCH (a)-[r:CALLS|IMPORTS]->(b)") == 3
    assert "*" not in q
    assert "CASE WHEN size(l1) < $limit THEN l1 ELSE [] END" in q
    assert "CASE WHEN size(l1) + size(l2) < $limit THEN l2 ELSE [] END" in q
    assert "WHERE NOT b IN starts AND NOT b IN l1 AND NOT b IN l2" in q
    assert q.count("ORDER BY b.id LIMIT $limit") == 3
    assert "startNode(r).id" in q and "endNode" not in q
    assert "endNode(r).id" in cypher.traverse("in", [RelationKind.CALLS], 1)
    assert params_of(q) == {"ids", "limit"}
    for bad in (0, -1, True, 2.0):
        with pytest.raises(ValueError, match="depth"):
            cypher.traverse("out", [RelationKind.CALLS], bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        cypher.traverse("out", [], 2)
    with pytest.raises(ValueError, match="not a relation kind"):
        cypher.traverse("out", ["CALLS]->() DELETE r //"], 2)  # type: ignore[list-item]


def test_counts_narrow_to_a_repo_only_when_asked() -> None:
    assert params_of(cypher.entity_kind_counts(True)) == {"repo"}
    assert params_of(cypher.entity_kind_counts(False)) == set()
    assert params_of(cypher.relation_kind_counts(True)) == {"repo"}


async def test_every_statement_compiles_on_neo4j(neo4j_url: str) -> None:
    """EXPLAIN plans a statement without running it: every builder shape is valid Cypher."""
    statements = every_statement(some_filters())
    dummy: dict[str, Any] = {name: None for q in statements for name in params_of(q)}
    # The index hints need the schema, which starting a store creates.
    store = Neo4jGraphStore(neo4j_url)
    await store.start()
    await store.close()
    async with (
        AsyncGraphDatabase.driver(neo4j_url, auth=None) as driver,
        driver.session() as session,
    ):
        for query in statements:
            if query.startswith(("CREATE ", "SHOW ")):
                continue  # schema commands cannot be EXPLAINed
            await (await session.run(f"EXPLAIN {query}", dummy)).consume()


# Operators that read a whole label, index or relationship type instead of seeking keys.
SCANS = {
    "AllNodesScan",
    "NodeByLabelScan",
    "NodeIndexScan",
    "DirectedAllRelationshipsScan",
    "UndirectedAllRelationshipsScan",
    "DirectedRelationshipTypeScan",
    "UndirectedRelationshipTypeScan",
    "DirectedRelationshipIndexScan",
    "UndirectedRelationshipIndexScan",
}


def scans(plan: Any) -> list[str]:
    """The scanning operators of a plan, with their details (which index, which filter)."""
    op = str(plan["operatorType"]).split("@")[0]
    own = [f"{op} {plan.get('args', {}).get('Details', '')}"] if op in SCANS else []
    return own + [s for child in plan.get("children", []) for s in scans(child)]


def keyed_statements(
    ents: list[Entity], rels: list[Relation], element: dict[str, str], rel_elements: list[str]
) -> dict[str, tuple[str, Any]]:
    """Each statement that looks rows up by key (or by element id: ``element`` maps entity ids
    to them, ``rel_elements`` are some relationships'), with parameters of a realistic batch."""
    ids = [e.id for e in ents[:50]]
    scopes = sorted({e.owner for e in ents[:50]})
    rel_rows = [
        {"src": element[r.src], "dst": element[r.dst], "props": relation_props(r, r.id)}
        for r in rels[:50]
    ]
    new_rel_rows = [
        [row["src"], row["dst"], *map(row["props"].get, cypher.RELATION_PROPERTIES)]
        for row in rel_rows
    ]
    fresh = [
        Entity.make(EntityKind.FUNCTION, "plan", f"new.py::h{i}", name=f"h{i}") for i in range(50)
    ]
    return {
        "remove": (cypher.REMOVE_ENTITIES, {"ids": ids}),
        "owned entities": (cypher.OWNED_ENTITIES, {"scopes": scopes}),
        "owned relations": (cypher.owned_relations(list(RelationKind)), {"scopes": scopes}),
        "delete relations": (cypher.DELETE_RELATIONS, {"eids": rel_elements}),
        "relation type counts": (cypher.relation_type_counts(), {}),
        "stored entities": (cypher.STORED_ENTITIES, {"ids": ids}),
        "existing": (cypher.EXISTING_ENTITIES, {"ids": ids}),
        "relations from": (
            cypher.relations_from([RelationKind.CALLS]),
            {"eids": [element[i] for i in ids]},
        ),
        "create entities": (
            cypher.create_entities(EntityKind.FUNCTION),
            {"rows": [list(map(entity_props(e).get, cypher.ENTITY_PROPERTIES)) for e in fresh]},
        ),
        "update entities": (
            cypher.UPDATE_ENTITIES,
            {"rows": [{"eid": element[e.id], "props": entity_props(e)} for e in ents[:50]]},
        ),
        "create relations": (cypher.create_relations(RelationKind.CALLS), {"rows": new_rel_rows}),
        "update relations": (cypher.update_relations(RelationKind.CALLS), {"rows": rel_rows}),
        "by id": (cypher.ENTITIES_BY_ID, {"ids": ids}),
        "neighbors out": (cypher.neighbors("out", True), {"ids": ids}),
        "neighbors in": (cypher.neighbors("in", False), {"ids": ids, "kinds": ["CALLS"]}),
        "traverse": (
            cypher.traverse("in", [RelationKind.CALLS, RelationKind.IMPORTS], 3),
            {"ids": ids[:3], "limit": 1000},
        ),
        "relations of repo": (cypher.relations_of_repo(True), {"repo": "plan"}),
        "kind counts": (cypher.entity_kind_counts(True), {"repo": "plan"}),
        "set states": (cypher.SET_STATES, {"repo": "plan", "rows": [{"key": "k", "value": "v"}]}),
        "delete states": (cypher.DELETE_STATES, {"repo": "plan", "keys": ["hash:1", "hash:2"]}),
        "get state": (cypher.GET_STATE, {"repo": "plan", "key": "hash:1"}),
        "states": (cypher.STATES_WITH_PREFIX, {"repo": "plan", "prefix": "hash:1"}),
    }


async def test_keyed_statements_seek_on_a_grown_graph(neo4j_url: str) -> None:
    """A batch's cost must follow the batch, not the graph: every keyed lookup is a seek."""
    repo, n = "plan", 2000
    ents = [
        Entity.make(
            EntityKind.FUNCTION,
            repo,
            f"f{i // 20}.py::g{i}",
            name=f"g{i}",
            owner=file_scope(repo, f"f{i // 20}.py"),
            path=f"f{i // 20}.py",
        )
        for i in range(n)
    ]
    rels = [
        Relation(RelationKind.CALLS, e.id, ents[(i * 7 + 1) % n].id, owner=e.owner)
        for i, e in enumerate(ents)
    ]
    store = Neo4jGraphStore(neo4j_url)
    await store.start()
    try:
        await store.wipe()
        state: dict[str, str | None] = {f"hash:{i}": "x" for i in range(300)}
        await store.apply(Batch(repo, entities=ents, relations=rels, state=state))
        async with (
            AsyncGraphDatabase.driver(neo4j_url, auth=None) as driver,
            driver.session() as session,
        ):
            found = await session.run("MATCH (n:Entity) RETURN n.id AS id, elementId(n) AS e")
            element = {row["id"]: row["e"] async for row in found}
            found = await session.run("MATCH ()-[r]->() RETURN elementId(r) AS e LIMIT 5")
            rel_elements = [row["e"] async for row in found]
            statements = keyed_statements(ents, rels, element, rel_elements)
            for name, (query, params) in statements.items():
                tx = await session.begin_transaction()
                try:  # PROFILE runs the statement: roll its writes back
                    result = await tx.run(f"PROFILE {query}", params)
                    await result.data()  # profiler stats need the rows pulled
                    summary = await result.consume()
                finally:
                    await tx.rollback()
                assert summary.profile is not None
                assert scans(summary.profile) == [], name
    finally:
        await store.wipe()
        await store.close()


async def test_concurrent_applies_of_the_same_new_rows_create_each_once(neo4j_url: str) -> None:
    """CREATE is used for rows a transaction found absent: racing writers of the same new
    entity re-run (unique constraint), of the same new relation wait (source lock)."""
    repo = "race"
    shared = Entity.make(EntityKind.FUNCTION, repo, "lib.py::shared", name="shared")
    stores = [Neo4jGraphStore(neo4j_url), Neo4jGraphStore(neo4j_url)]
    for store in stores:
        await store.start()
    try:
        await stores[0].wipe()
        for round_ in range(8):
            target = Entity.make(EntityKind.FUNCTION, repo, f"lib.py::t{round_}", name="t")
            await stores[0].apply(Batch(repo, entities=[target]))
            edge = Relation(RelationKind.CALLS, shared.id, target.id, owner="x")

            def batch(i: int, edge: Relation = edge, n: int = round_) -> Batch:
                mine = Entity.make(EntityKind.FUNCTION, repo, f"w{i}.py::f{n}", name="f")
                return Batch(repo, entities=[shared, mine], relations=[edge])

            await asyncio.gather(stores[0].apply(batch(0)), stores[1].apply(batch(1)))
        stats = await stores[0].stats(repo)
        assert stats["Function"] == 1 + 8 + 2 * 8
        assert stats["CALLS"] == 8
        assert len(await stores[0].neighbors([shared.id], None, "out")) == 1
        assert len((await stores[0].neighbors([shared.id], None, "out"))[shared.id]) == 8
    finally:
        await stores[0].wipe()
        for store in stores:
            await store.close()
