"""Every Cypher statement of the Neo4j graph store, as constants and pure builder functions.

Values always travel as ``$parameters``. The only things ever spliced into a statement are
labels and relationship types (Cypher cannot parameterize those when writing), and they come
from ``EntityKind``/``RelationKind`` members checked by ``label``/``rel_type``, never from input.

Layout: ``(:Entity:<Kind> {id, kind, repo, key, name, owner, path, span, language, attrs,
from_commit, from_time, to_commit, to_time})``, ``-[:<KIND> {owner, confidence, provenance,
attrs, from_commit, from_time, to_commit, to_time}]->`` between entities, and
``(:State {repo, key, value})``. Null properties are absent and ``attrs`` is canonical JSON, so
a row is unchanged exactly when its stored map equals the new one. A relation's id is a hash of
its type and ends, so it is computed from them rather than stored: every stored property is
written once per relationship, and commit cost follows the property records.

    >>> create_entities(EntityKind.FUNCTION).splitlines()[1]
    'CREATE (n:Entity:Function)'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from kg.model import EntityKind, RelationKind

ENTITY: Final = "Entity"
STATE: Final = "State"
# Every property an entity or a relationship may have (``kg.stores.neo4j_rows`` writes no other).
ENTITY_PROPERTIES: Final = (
    "id",
    "kind",
    "repo",
    "key",
    "name",
    "owner",
    "path",
    "span",
    "language",
    "attrs",
    "from_commit",
    "from_time",
    "to_commit",
    "to_time",
)
RELATION_PROPERTIES: Final = (
    "owner",
    "confidence",
    "provenance",
    "attrs",
    "from_commit",
    "from_time",
    "to_commit",
    "to_time",
)

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

# Every keyed lookup carries a `USING INDEX SEEK` hint. Without it the cost planner scanned a
# whole index instead of seeking on small graphs, and with `UNWIND` it did so once per row, which
# made an unchanged batch quadratic; a cached plan would keep that choice as the graph grew.
# tests/unit/test_cypher.py profiles each of these statements on a real graph.


def _seek(var: str, label_or_type: str, *props: str) -> str:
    return f"USING INDEX SEEK {var}:{label_or_type}({', '.join(props)})"


_ID = _seek("n", ENTITY, "id")


def label(kind: EntityKind) -> str:
    """The node label of an entity kind; raises ValueError for anything but an EntityKind."""
    if not isinstance(kind, EntityKind) or not _NAME.fullmatch(kind.value):
        raise ValueError(f"not an entity kind: {kind!r}")
    return kind.value


def rel_type(kind: RelationKind) -> str:
    """The relationship type of a relation kind; raises ValueError for anything else."""
    if not isinstance(kind, RelationKind) or not _NAME.fullmatch(kind.value):
        raise ValueError(f"not a relation kind: {kind!r}")
    return kind.value


def _arrow(direction: Literal["out", "in"]) -> tuple[str, str]:
    """The two halves of a relationship pattern seen from the near node."""
    if direction == "out":
        return "-", "->"
    if direction == "in":
        return "<-", "-"
    raise ValueError(f"direction must be 'out' or 'in', not {direction!r}")


# -- schema ----------------------------------------------------------------------------------


def schema() -> dict[str, str]:
    """Index/constraint name -> idempotent DDL. Relationship-owner indexes are per type because
    Neo4j indexes relationship properties only for one type at a time."""
    ddl = {
        "kg_entity_id": (
            f"CREATE CONSTRAINT kg_entity_id IF NOT EXISTS FOR (n:{ENTITY}) REQUIRE n.id IS UNIQUE"
        ),
        "kg_state_key": (
            f"CREATE CONSTRAINT kg_state_key IF NOT EXISTS FOR (s:{STATE}) "
            "REQUIRE (s.repo, s.key) IS UNIQUE"
        ),
    }
    for prop in ("owner", "repo", "name", "path", "key"):
        name = f"kg_entity_{prop}"
        ddl[name] = f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{ENTITY}) ON (n.{prop})"
    for kind in RelationKind:
        t = rel_type(kind)
        name = f"kg_rel_owner_{t.lower()}"
        ddl[name] = f"CREATE INDEX {name} IF NOT EXISTS FOR ()-[r:{t}]-() ON (r.owner)"
    return ddl


SCHEMA_NAMES: Final = "SHOW INDEXES YIELD name RETURN collect(name) AS names"
AWAIT_INDEXES: Final = "CALL db.awaitIndexes(60)"
# In slices: one transaction deleting a large graph would need heap for all of it at once.
DELETE_EVERYTHING: Final = """MATCH (n) WITH n LIMIT 20000
DETACH DELETE n
RETURN count(*) AS n"""

# -- apply -----------------------------------------------------------------------------------


def pinned(query: str) -> str:
    """``query`` run on its cached plan even after the graph's statistics moved. The apply
    statements' plans are fixed by their seek hints and element-id lookups, yet while a bulk load
    grows the graph the server would re-plan each of them every ``min_replan_interval`` (10 s),
    about 5% of its CPU on the store bench."""
    return f"CYPHER replan=skip {query}"


# Removals return what they removed; deleted incident relationships are read from the summary.
REMOVE_ENTITIES: Final = f"""MATCH (n:{ENTITY}) {_ID}
WHERE n.id IN $ids
WITH n, n.id AS id, n.kind AS kind, n.path AS path
DETACH DELETE n
RETURN id, kind, path"""

# The ids of the entities ``$scopes`` own; ``apply`` removes those its batch no longer has
# (``REMOVE_ENTITIES``): a first load owns nothing and sends no list of what it keeps.
OWNED_ENTITIES: Final = f"""MATCH (n:{ENTITY}) {_seek("n", ENTITY, "owner")}
WHERE n.owner IN $scopes
RETURN collect(n.id) AS ids"""


def relation_type_counts() -> str:
    """How many relationships of each type exist, one column per type, from the count store
    (constant time): ``apply`` asks only the types in use for stale relations."""
    counts = ",\n       ".join(
        f"COUNT {{ ()-[:{t}]->() }} AS {t}" for t in map(rel_type, RelationKind)
    )
    return f"RETURN {counts}"


def owned_relations(kinds: Sequence[RelationKind]) -> str:
    """Relations of ``kinds`` owned by ``$scopes`` as ``[element id, type, src, dst]``; one
    indexed branch per relationship type. Every type a store may hold would make 16 branches
    whose plan costs far more than running them; asking only the types in use keeps that
    cheap. ``apply`` picks the stale ones (``DELETE_RELATIONS``): a first load owns nothing,
    so it sends no list of the relations it keeps."""
    types = list(dict.fromkeys(map(rel_type, kinds)))
    if not types:
        raise ValueError("owned_relations needs at least one relation kind")
    branches = "\n  UNION ALL\n".join(
        f"  MATCH ()-[r:{t}]->() {_seek('r', t, 'owner')}\n  WHERE r.owner IN $scopes RETURN r"
        for t in types
    )
    return f"""CALL () {{
{branches}
}}
RETURN collect([elementId(r), type(r), startNode(r).id, endNode(r).id]) AS owned"""


DELETE_RELATIONS: Final = """UNWIND $eids AS eid
MATCH ()-[r]->() WHERE elementId(r) = eid
DELETE r
RETURN count(r) AS removed"""


# Lookups by key return each entity's element id too: the rest of the transaction finds the
# entity by it (a direct record read) instead of seeking the id index again for every
# relationship end. Element ids stay valid for the transaction: Neo4j reuses the id of a deleted
# node only once every transaction open at the deletion has closed.
# Stored maps come back as one list of [id, properties, element id]: one record instead of one
# per row spares the driver most of its per-record cost.
STORED_ENTITIES: Final = f"""MATCH (n:{ENTITY}) {_ID}
WHERE n.id IN $ids
RETURN collect([n.id, properties(n), elementId(n)]) AS found"""

EXISTING_ENTITIES: Final = f"""MATCH (n:{ENTITY}) {_ID}
WHERE n.id IN $ids
RETURN collect([n.id, elementId(n)]) AS ids"""


def _positional(keys: Sequence[str], row: str, first: int = 0) -> str:
    """A CREATE property map taking ``keys[i]`` from ``row[first + i]`` (a null stores nothing).
    Rows travel as lists, not maps: no key strings to pack, send and decode for every row (a
    fifth less server CPU on relationship rows). Properties given in the CREATE pattern cost
    less than a ``SET x = map`` after it, which first clears the new row's (absent) properties
    and, on relationships, makes the planner materialize every row before writing (an Eager)."""
    for key in keys:
        if not _NAME.fullmatch(key):
            raise ValueError(f"not a property name: {key!r}")
    return ", ".join(f"{key}: {row}[{first + i}]" for i, key in enumerate(keys))


def create_entities(kind: EntityKind) -> str:
    """Write ``$rows`` of one kind that do not exist yet (``apply`` looked them up in the same
    transaction): no MERGE lookup, one label write. A row is the list of the entity's
    ``ENTITY_PROPERTIES`` values in that order. Returns the new nodes' element ids in row
    order."""
    return f"""UNWIND $rows AS row
CREATE (n:{ENTITY}:{label(kind)} {{{_positional(ENTITY_PROPERTIES, "row")}}})
RETURN collect(elementId(n)) AS eids"""


# Overwrites existing entities (``$rows``: {eid, props}); ``SET n = row.props`` drops properties
# now null. The kind is part of the id, so the label never changes.
UPDATE_ENTITIES: Final = """UNWIND $rows AS row
MATCH (n) WHERE elementId(n) = row.eid
SET n = row.props"""


def relations_from(kinds: Sequence[RelationKind]) -> str:
    """Every relation of ``kinds`` leaving the entities ``$eids`` (element ids) as ``[src, type,
    dst, properties]``: a superset of the batch's, found from one end only. It write-locks those
    entities first (re-adding a label they have changes nothing but takes the lock), in the
    order given (``apply`` sorts by entity id): ``apply`` CREATEs the relations this read did not
    find, so two transactions adding the same relation must not both read before either
    commits. Only the batch's types: a file's CONTAINS need not be read to add its IMPORTS."""
    types = "|".join(dict.fromkeys(map(rel_type, kinds)))
    if not types:
        raise ValueError("relations_from needs at least one relation kind")
    return f"""UNWIND $eids AS eid
MATCH (n) WHERE elementId(n) = eid
SET n:{ENTITY}
WITH n
MATCH (n)-[r:{types}]->(b)
RETURN collect([n.id, type(r), b.id, properties(r)]) AS found"""


def create_relations(kind: RelationKind) -> str:
    """Write ``$rows`` of one kind that do not exist yet: CREATE, because MERGE would search
    the endpoints' relationships first. A row is ``[src, dst]`` (element ids) followed by the
    relation's ``RELATION_PROPERTIES`` values in that order."""
    return f"""UNWIND $rows AS row
MATCH (a) WHERE elementId(a) = row[0]
MATCH (b) WHERE elementId(b) = row[1]
CREATE (a)-[r:{rel_type(kind)} {{{_positional(RELATION_PROPERTIES, "row", 2)}}}]->(b)"""


def update_relations(kind: RelationKind) -> str:
    """Overwrite the properties of existing relations, ``$rows`` as ``{src, dst, props}`` (the
    ends as element ids)."""
    return f"""UNWIND $rows AS row
MATCH (a) WHERE elementId(a) = row.src
MATCH (b) WHERE elementId(b) = row.dst
MATCH (a)-[r:{rel_type(kind)}]->(b)
SET r = row.props"""


# -- state -----------------------------------------------------------------------------------

SET_STATES: Final = f"""UNWIND $rows AS row
MERGE (s:{STATE} {{repo: $repo, key: row.key}})
SET s.value = row.value"""

_STATE_KEY = _seek("s", STATE, "repo", "key")

DELETE_STATES: Final = f"""MATCH (s:{STATE}) {_STATE_KEY}
WHERE s.repo = $repo AND s.key IN $keys
DELETE s"""

GET_STATE: Final = f"""MATCH (s:{STATE}) {_STATE_KEY}
WHERE s.repo = $repo AND s.key = $key
RETURN s.value AS value"""

STATES_WITH_PREFIX: Final = f"""MATCH (s:{STATE}) {_STATE_KEY}
WHERE s.repo = $repo AND s.key STARTS WITH $prefix
RETURN s.key AS key, s.value AS value
ORDER BY key"""

# -- reads -----------------------------------------------------------------------------------

ENTITIES_BY_ID: Final = f"""MATCH (n:{ENTITY}) {_ID}
WHERE n.id IN $ids
RETURN properties(n) AS n"""


@dataclass(frozen=True, slots=True)
class EntityFilter:
    """Which ``EntityQuery`` fields are set; each adds a clause on the same-named parameter
    (``$repo``, ``$kinds``, ``$name``, ``$name_prefix``, ``$path``, ``$path_prefix``, ``$key``,
    ``$after``)."""

    repo: bool = False
    kinds: bool = False
    name: bool = False
    name_prefix: bool = False
    path: bool = False
    path_prefix: bool = False
    key: bool = False
    after: bool = False


def _where(f: EntityFilter) -> str:
    clauses = [
        clause
        for on, clause in (
            (f.repo, "n.repo = $repo"),
            (f.kinds, "n.kind IN $kinds"),
            (f.name, "n.name = $name"),
            (f.name_prefix, "n.name STARTS WITH $name_prefix"),
            (f.path, "n.path = $path"),
            (f.path_prefix, "n.path STARTS WITH $path_prefix"),
            (f.key, "n.key = $key"),
            (f.after, "n.id > $after"),
        )
        if on
    ]
    return f"\nWHERE {' AND '.join(clauses)}" if clauses else ""


def find_entities(f: EntityFilter) -> str:
    """Matching entities ordered by id, at most ``$limit``."""
    return (
        f"MATCH (n:{ENTITY}){_where(f)}\n"
        "WITH n ORDER BY n.id LIMIT $limit\n"
        "RETURN properties(n) AS n"
    )


def count_entities(f: EntityFilter) -> str:
    return f"MATCH (n:{ENTITY}){_where(f)}\nRETURN count(n) AS n"


def neighbors(direction: Literal["out", "in"], any_kind: bool) -> str:
    """Edges of ``$ids`` (of the types in ``$kinds`` unless ``any_kind``) with the far entity."""
    left, right = _arrow(direction)
    kinds = "" if any_kind else " AND type(r) IN $kinds"
    return f"""MATCH (a:{ENTITY}){left}[r]{right}(b:{ENTITY}) {_seek("a", ENTITY, "id")}
WHERE a.id IN $ids{kinds}
RETURN a.id AS near, type(r) AS kind, startNode(r).id AS src, endNode(r).id AS dst,
       properties(r) AS r, properties(b) AS n
ORDER BY near, kind, b.id"""


def traverse(direction: Literal["out", "in"], kinds: Sequence[RelationKind], depth: int) -> str:
    """A bounded breadth-first reach from ``$ids`` along ``kinds``, one level at a time: the
    first ``$limit`` entities by (depth, id) as ``levels`` (per depth, the entities' properties
    ordered by id) and ``ins`` (per depth and entity, ``[near, confidence]`` of every edge from
    the level above), from which the caller picks each entity's best parent.

    A level is expanded only while fewer than ``$limit`` entities are kept, so a hub whose
    callers fill the limit costs one expansion, not its whole variable-length neighbourhood.
    Each level's edges are the relationships its expansion matched, kept as references: only
    those of the entities kept (the first ``$limit`` by id) have their properties read."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive int, not {depth!r}")
    left, right = _arrow(direction)
    near = "startNode" if direction == "out" else "endNode"
    types = "|".join(dict.fromkeys(rel_type(k) for k in kinds))
    if not types:
        raise ValueError("traverse needs at least one relation kind")
    parts = [
        f"MATCH (s:{ENTITY}) {_seek('s', ENTITY, 'id')}\n"
        "WHERE s.id IN $ids\n"
        "WITH collect(s) AS starts"
    ]
    seen = ["starts"]
    for k in range(1, depth + 1):
        kept = " + ".join(f"size(l{j})" for j in range(1, k))
        room = f"$limit - ({kept})" if kept else "$limit"
        frontier = f"CASE WHEN {kept} < $limit THEN l{k - 1} ELSE [] END" if kept else "starts"
        unseen = " AND ".join(f"NOT b IN {v}" for v in seen)
        parts.append(f"""CALL ({", ".join(seen)}) {{
  UNWIND {frontier} AS a
  MATCH (a){left}[r:{types}]{right}(b)
  WHERE {unseen}
  WITH b, collect(r) AS rs
  ORDER BY b.id LIMIT $limit
  WITH collect(b) AS bs, collect(rs) AS es
  RETURN bs[..{room}] AS l{k},
         [x IN es[..{room}] | [r IN x | [{near}(r).id, r.confidence]]] AS e{k}
}}""")
        seen.append(f"l{k}")
    levels = ", ".join(f"[n IN l{k} | properties(n)]" for k in range(1, depth + 1))
    ins = ", ".join(f"e{k}" for k in range(1, depth + 1))
    parts.append(f"RETURN [{levels}] AS levels, [{ins}] AS ins")
    return "\n".join(parts)


def relations_of_repo(any_kind: bool) -> str:
    """Relations whose source entity is in ``$repo`` (the caller orders them by id)."""
    kinds = "" if any_kind else " AND type(r) IN $kinds"
    return f"""MATCH (a:{ENTITY})-[r]->(b:{ENTITY}) {_seek("a", ENTITY, "repo")}
WHERE a.repo = $repo{kinds}
RETURN type(r) AS kind, a.id AS src, b.id AS dst, properties(r) AS r"""


def entity_kind_counts(of_repo: bool) -> str:
    where = f" {_seek('n', ENTITY, 'repo')}\nWHERE n.repo = $repo" if of_repo else ""
    return f"MATCH (n:{ENTITY}){where}\nRETURN n.kind AS kind, count(*) AS n"


def relation_kind_counts(of_repo: bool) -> str:
    where = f" {_seek('n', ENTITY, 'repo')}\nWHERE n.repo = $repo" if of_repo else ""
    return f"MATCH (n:{ENTITY})-[r]->(){where}\nRETURN type(r) AS kind, count(*) AS n"
