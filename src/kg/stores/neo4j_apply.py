"""``GraphStore.apply`` for Neo4j: one managed write transaction, the same steps as SQLite.

Order inside the transaction: deletions, stale entities then stale relations of the replace
scopes, upserts of rows whose stored property map differs (new or changed), batch relations
with a missing endpoint dropped, then state. A relation whose content changed counts as replaced
(one removed, one added), exactly like the embedded store. ``Neo4jGraphStore.apply`` re-runs it
from scratch in a new transaction after a transient failure, so it keeps no state between
attempts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncTransaction

from kg.model import Batch, EntityKind, GraphDelta, RelationKind, relation_id
from kg.stores import cypher
from kg.stores.delta import DeltaTally
from kg.stores.neo4j_rows import Props, entity_props, relation_props

# Rows per UNWIND statement: large enough to amortize round trips, small enough for one message.
CHUNK = 10_000


@dataclass(slots=True)
class Encoded:
    """A batch validated and encoded before its transaction (the last duplicate id wins)."""

    batch: Batch
    entities: dict[str, Props]
    relations: dict[str, tuple[RelationKind, str, str, Props]]

    @classmethod
    def of(cls, batch: Batch) -> Encoded:
        entities = {e.id: entity_props(e) for e in batch.entities}
        relations: dict[str, tuple[RelationKind, str, str, Props]] = {}
        for r in batch.relations:
            rid = r.id
            relations[rid] = (r.kind, r.src, r.dst, relation_props(r, rid))
        return cls(batch, entities, relations)

    @property
    def reaches_out(self) -> bool:
        """Whether a relation ends at an entity the batch does not carry (one that other
        batches may also be adding relationships to)."""
        own = self.entities.keys()
        return any(src not in own or dst not in own for _, src, dst, _ in self.relations.values())


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


async def _records(
    tx: AsyncTransaction, query: str, **params: Any
) -> tuple[list[dict[str, Any]], int]:
    """The rows of ``query`` and how many relationships it deleted."""
    result = await tx.run(cypher.pinned(query), params)
    keys = result.keys()  # not data(): it walks every nested value, converting nothing here
    rows = [dict(zip(keys, values, strict=True)) for values in await result.values()]
    summary = await result.consume()
    return rows, summary.counters.relationships_deleted


async def apply_encoded(tx: AsyncTransaction, enc: Encoded) -> GraphDelta:
    tally = DeltaTally()
    batch = enc.batch
    deletions = list(dict.fromkeys(batch.deletions))
    for chunk in _chunks(deletions):
        await _remove(tx, tally, cypher.REMOVE_ENTITIES, ids=chunk)
    if batch.replace_scopes:
        scopes = sorted(batch.replace_scopes)
        owned, _ = await _records(tx, cypher.OWNED_ENTITIES, scopes=scopes)
        stale = [eid for eid in owned[0]["ids"] if eid not in enc.entities]
        for chunk in _chunks(stale):
            await _remove(tx, tally, cypher.REMOVE_ENTITIES, ids=chunk)
        await _remove_stale_relations(tx, tally, scopes, enc.relations.keys())
    eids, created = await _upsert_entities(tx, enc.entities, tally)
    await _upsert_relations(tx, await _attached(tx, enc, eids), eids, created, tally)
    await _apply_state(tx, batch.repo, batch.state)
    return tally.delta(batch.repo)


async def _remove_stale_relations(
    tx: AsyncTransaction, tally: DeltaTally, scopes: list[str], keep: Set[str]
) -> None:
    counts, _ = await _records(tx, cypher.relation_type_counts())
    in_use = [kind for kind in RelationKind if counts[0][cypher.rel_type(kind)]]
    if not in_use:
        return
    rows, _ = await _records(tx, cypher.owned_relations(in_use), scopes=scopes)
    stale = [
        eid
        for eid, kind, src, dst in rows[0]["owned"]
        if relation_id(RelationKind(kind), src, dst) not in keep
    ]
    for chunk in _chunks(stale):
        rows, _ = await _records(tx, cypher.DELETE_RELATIONS, eids=chunk)
        tally.relations_removed += int(rows[0]["removed"])


async def _remove(tx: AsyncTransaction, tally: DeltaTally, query: str, **params: Any) -> None:
    rows, rels = await _records(tx, query, **params)
    for row in rows:
        tally.removed.append(row["id"])
        tally.touch(row["kind"], row["path"])
    tally.relations_removed += rels


async def _upsert_entities(
    tx: AsyncTransaction, entities: Mapping[str, Props], tally: DeltaTally
) -> tuple[dict[str, str], set[str]]:
    """Write new and changed entities; the element id of every batch entity, by id, and the
    ids of those this transaction created."""
    stored: dict[str, Props] = {}
    eids: dict[str, str] = {}
    for chunk in _chunks(list(entities)):
        found, _ = await _records(tx, cypher.STORED_ENTITIES, ids=chunk)
        for eid, props, element in found[0]["found"]:
            stored[eid] = props
            eids[eid] = element
    new: dict[EntityKind, list[Props]] = defaultdict(list)
    changed: list[Props] = []
    for eid, props in entities.items():
        old = stored.get(eid)
        if old == props:
            continue
        (tally.added if old is None else tally.updated).append(eid)
        tally.touch(props["kind"], props.get("path"))
        if old is None:
            new[EntityKind(props["kind"])].append(props)
        else:
            changed.append({"eid": eids[eid], "props": props})
    for kind in sorted(new):
        for chunk in _chunks(new[kind]):
            values = [[p.get(k) for k in cypher.ENTITY_PROPERTIES] for p in chunk]
            rows, _ = await _records(tx, cypher.create_entities(kind), rows=values)
            eids.update(zip((p["id"] for p in chunk), rows[0]["eids"], strict=True))
    for chunk in _chunks(changed):
        await _records(tx, cypher.UPDATE_ENTITIES, rows=chunk)
    return eids, {p["id"] for rows in new.values() for p in rows}


async def _attached(
    tx: AsyncTransaction, enc: Encoded, eids: dict[str, str]
) -> dict[str, tuple[RelationKind, str, str, Props]]:
    """The batch relations whose two endpoints exist once the batch's entities are written;
    adds the element ids of the endpoints outside the batch to ``eids``."""
    ends = {e for (_, src, dst, _) in enc.relations.values() for e in (src, dst)}
    outside = sorted(ends - enc.entities.keys())
    for chunk in _chunks(outside):
        rows, _ = await _records(tx, cypher.EXISTING_ENTITIES, ids=chunk)
        eids.update((eid, element) for eid, element in rows[0]["ids"])
    return {rid: rel for rid, rel in enc.relations.items() if rel[1] in eids and rel[2] in eids}


async def _upsert_relations(
    tx: AsyncTransaction,
    relations: Mapping[str, tuple[RelationKind, str, str, Props]],
    eids: Mapping[str, str],
    created: Set[str],
    tally: DeltaTally,
) -> None:
    if not relations:
        return
    # An entity this transaction created has no stored relations, and no other transaction
    # sees it before the commit, so no lock is needed to add relations from it either.
    sources = sorted({src for (_, src, _, _) in relations.values()} - created)
    query = cypher.relations_from(sorted({kind for (kind, _, _, _) in relations.values()}))
    stored: dict[str, Props] = {}
    for chunk in _chunks([eids[s] for s in sources]):
        found, _ = await _records(tx, query, eids=chunk)
        stored.update(
            (relation_id(RelationKind(kind), src, dst), props)
            for src, kind, dst, props in found[0]["found"]
        )
    new: dict[RelationKind, list[list[Any]]] = defaultdict(list)
    changed: dict[RelationKind, list[Props]] = defaultdict(list)
    for rid, (kind, src, dst, props) in relations.items():
        old = stored.get(rid)
        if old == props:
            continue
        tally.relations_added += 1
        tally.relations_removed += old is not None
        if old is None:
            new[kind].append([eids[src], eids[dst], *map(props.get, cypher.RELATION_PROPERTIES)])
        else:
            changed[kind].append({"src": eids[src], "dst": eids[dst], "props": props})
    for kind in sorted(new):
        for chunk in _chunks(new[kind]):
            await _records(tx, cypher.create_relations(kind), rows=chunk)
    for kind in sorted(changed):
        for chunk in _chunks(changed[kind]):
            await _records(tx, cypher.update_relations(kind), rows=chunk)


async def _apply_state(tx: AsyncTransaction, repo: str, state: Mapping[str, str | None]) -> None:
    gone = [k for k, v in state.items() if v is None]
    rows = [{"key": k, "value": v} for k, v in state.items() if v is not None]
    for chunk in _chunks(gone):
        await _records(tx, cypher.DELETE_STATES, repo=repo, keys=chunk)
    for chunk in _chunks(rows):
        await _records(tx, cypher.SET_STATES, repo=repo, rows=chunk)
