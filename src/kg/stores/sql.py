"""Every SQL statement of the SQLite graph store, as constants and pure builder functions.

Nothing here touches a connection. Builders only ever vary the *shape* of a statement (how many
``?`` placeholders, which fixed clauses are present); every value travels as a bound parameter,
so no statement is ever built by pasting user input::

    >>> in_list(3)
    '?,?,?'
    >>> find_entities(EntityFilter(repo=True, kinds=2, after=True)).count("?")
    5
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

PRAGMAS: Final = (
    "PRAGMA journal_mode=WAL",
    # WAL + NORMAL is durable across application crashes and only risks the last transactions
    # on power loss, which re-running an idempotent ingest repairs.
    "PRAGMA synchronous=NORMAL",
    # A checkpoint copies every page in the WAL into the database. Hash-keyed ids spread each
    # apply's edges over nearly every index page, so checkpointing after every apply (the
    # default 1,000 pages) copied the same pages again and again; at 64 MB a page rewritten
    # by several applies is copied once (networkx index: 6% less apply CPU). The WAL is cut
    # back to 64 MB after a checkpoint. Durability is unchanged: a committed page is in the WAL.
    "PRAGMA wal_autocheckpoint=16384",
    "PRAGMA journal_size_limit=67108864",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-65536",
    "PRAGMA busy_timeout=5000",
)

SCHEMA: Final = (
    """CREATE TABLE IF NOT EXISTS entities (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        repo TEXT NOT NULL,
        key TEXT NOT NULL,
        name TEXT NOT NULL,
        owner TEXT NOT NULL,
        path TEXT,
        span_start_line INTEGER,
        span_end_line INTEGER,
        span_start_col INTEGER,
        span_end_col INTEGER,
        language TEXT,
        attrs TEXT NOT NULL,
        from_commit TEXT,
        from_time TEXT,
        to_commit TEXT,
        to_time TEXT,
        fp TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS relations (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        src TEXT NOT NULL,
        dst TEXT NOT NULL,
        confidence REAL NOT NULL,
        provenance TEXT NOT NULL,
        owner TEXT NOT NULL,
        attrs TEXT NOT NULL,
        from_commit TEXT,
        from_time TEXT,
        to_commit TEXT,
        to_time TEXT,
        fp TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS state (
        repo TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (repo, key)
    )""",
    "CREATE INDEX IF NOT EXISTS entities_repo_kind_name ON entities(repo, kind, name)",
    "CREATE INDEX IF NOT EXISTS entities_repo_path ON entities(repo, path)",
    "CREATE INDEX IF NOT EXISTS entities_owner ON entities(owner)",
    "CREATE INDEX IF NOT EXISTS relations_src_kind ON relations(src, kind)",
    "CREATE INDEX IF NOT EXISTS relations_dst_kind ON relations(dst, kind)",
    "CREATE INDEX IF NOT EXISTS relations_owner ON relations(owner)",
)

# Column order is the row layout the store reads and writes; the fingerprint column comes last
# and is never read back into a model object.
ENTITY_COLUMNS: Final = (
    "id",
    "kind",
    "repo",
    "key",
    "name",
    "owner",
    "path",
    "span_start_line",
    "span_end_line",
    "span_start_col",
    "span_end_col",
    "language",
    "attrs",
    "from_commit",
    "from_time",
    "to_commit",
    "to_time",
)
RELATION_COLUMNS: Final = (
    "id",
    "kind",
    "src",
    "dst",
    "confidence",
    "provenance",
    "owner",
    "attrs",
    "from_commit",
    "from_time",
    "to_commit",
    "to_time",
)


def in_list(n: int) -> str:
    """``n`` comma-separated placeholders for an ``IN (...)`` list (``n`` >= 1)."""
    if n < 1:
        raise ValueError("an IN list needs at least one placeholder")
    return ",".join("?" * n)


def _select(table: str, columns: tuple[str, ...], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return f"SELECT {', '.join(prefix + c for c in columns)} FROM {table} {alias}".rstrip()


def _upsert(table: str, columns: tuple[str, ...], null: tuple[str, ...] = ()) -> str:
    """Upsert of a row of ``columns`` plus fp; the ``null`` columns are written as a literal
    NULL and take no bound value."""
    cols = (*columns, "fp")
    values = ",".join("NULL" if c in null else "?" for c in cols)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({values}) "
        f"ON CONFLICT(id) DO UPDATE SET {updates}"
    )


SELECT_ENTITIES: Final = _select("entities", ENTITY_COLUMNS)
SELECT_RELATIONS: Final = _select("relations", RELATION_COLUMNS)
UPSERT_ENTITY: Final = _upsert("entities", ENTITY_COLUMNS)
UPSERT_RELATION: Final = _upsert("relations", RELATION_COLUMNS)
# Rows valid forever (every code fact) bind no value for their validity: the sqlite3 module
# binds None through an adapter lookup, a quarter of a row's binding cost.
VALIDITY_COLUMNS: Final = ("from_commit", "from_time", "to_commit", "to_time")
UPSERT_OPEN_ENTITY: Final = _upsert("entities", ENTITY_COLUMNS, VALIDITY_COLUMNS)
UPSERT_OPEN_RELATION: Final = _upsert("relations", RELATION_COLUMNS, VALIDITY_COLUMNS)

ENTITIES_OF_OWNER: Final = "SELECT id, kind, path FROM entities WHERE owner = ?"
RELATIONS_OF_OWNER: Final = "SELECT id FROM relations WHERE owner = ?"

BEGIN: Final = "BEGIN IMMEDIATE"
COMMIT: Final = "COMMIT"
ROLLBACK: Final = "ROLLBACK"

GET_STATE: Final = "SELECT value FROM state WHERE repo = ? AND key = ?"
SET_STATE: Final = (
    "INSERT INTO state (repo, key, value) VALUES (?, ?, ?) "
    "ON CONFLICT(repo, key) DO UPDATE SET value = excluded.value"
)
DELETE_STATE: Final = "DELETE FROM state WHERE repo = ? AND key = ?"
STATES_FROM: Final = "SELECT key, value FROM state WHERE repo = ? AND key >= ? ORDER BY key"
STATES_RANGE: Final = (
    "SELECT key, value FROM state WHERE repo = ? AND key >= ? AND key < ? ORDER BY key"
)

ENTITY_KIND_COUNTS: Final = "SELECT kind, count(*) FROM entities GROUP BY kind"
ENTITY_KIND_COUNTS_OF_REPO: Final = (
    "SELECT kind, count(*) FROM entities WHERE repo = ? GROUP BY kind"
)
RELATION_KIND_COUNTS: Final = "SELECT kind, count(*) FROM relations GROUP BY kind"
# A relation belongs to the repository of its source entity.
RELATION_KIND_COUNTS_OF_REPO: Final = (
    "SELECT r.kind, count(*) FROM relations r JOIN entities e ON e.id = r.src "
    "WHERE e.repo = ? GROUP BY r.kind"
)


def entity_fingerprints(n: int) -> str:
    return f"SELECT id, fp FROM entities WHERE id IN ({in_list(n)})"


def relation_fingerprints(n: int) -> str:
    return f"SELECT id, fp FROM relations WHERE id IN ({in_list(n)})"


def existing_entities(n: int) -> str:
    return f"SELECT id FROM entities WHERE id IN ({in_list(n)})"


def entity_kind_path(n: int) -> str:
    return f"SELECT id, kind, path FROM entities WHERE id IN ({in_list(n)})"


def entities_by_id(n: int) -> str:
    return f"{SELECT_ENTITIES} WHERE id IN ({in_list(n)})"


def delete_entities(n: int) -> str:
    return f"DELETE FROM entities WHERE id IN ({in_list(n)})"


def delete_relations(n: int) -> str:
    return f"DELETE FROM relations WHERE id IN ({in_list(n)})"


def delete_incident_relations(n: int, end: Literal["src", "dst"]) -> str:
    column = "src" if end == "src" else "dst"
    return f"DELETE FROM relations WHERE {column} IN ({in_list(n)})"


def _ends(direction: Literal["out", "in"]) -> tuple[str, str]:
    """(column matched against the asked ids, column of the entity at the other end)."""
    return ("src", "dst") if direction == "out" else ("dst", "src")


def hop(n_ids: int, n_kinds: int, direction: Literal["out", "in"]) -> str:
    """One BFS level: ``(from, to, confidence)`` of edges leaving ``n_ids`` entities."""
    near, far = _ends(direction)
    kinds = f" AND kind IN ({in_list(n_kinds)})" if n_kinds else ""
    return (
        f"SELECT {near}, {far}, confidence FROM relations WHERE {near} IN ({in_list(n_ids)}){kinds}"
    )


def neighbors(n_ids: int, n_kinds: int, direction: Literal["out", "in"]) -> str:
    """Relation columns then entity columns of the far end, for edges of ``n_ids`` entities."""
    near, far = _ends(direction)
    rel = ", ".join(f"r.{c}" for c in RELATION_COLUMNS)
    ent = ", ".join(f"e.{c}" for c in ENTITY_COLUMNS)
    kinds = f" AND r.kind IN ({in_list(n_kinds)})" if n_kinds else ""
    return (
        f"SELECT {rel}, {ent} FROM relations r JOIN entities e ON e.id = r.{far} "
        f"WHERE r.{near} IN ({in_list(n_ids)}){kinds} ORDER BY r.{near}, r.kind, e.id"
    )


def relations_of_repo(n_kinds: int) -> str:
    """Relations whose source entity is in a repository, optionally of ``n_kinds`` kinds."""
    cols = ", ".join(f"r.{c}" for c in RELATION_COLUMNS)
    kinds = f" AND r.kind IN ({in_list(n_kinds)})" if n_kinds else ""
    return (
        f"SELECT {cols} FROM relations r JOIN entities e ON e.id = r.src "
        f"WHERE e.repo = ?{kinds} ORDER BY r.id"
    )


@dataclass(frozen=True, slots=True)
class EntityFilter:
    """Which clauses a ``find``/``count`` statement has; ``*_upper`` are exclusive prefix ends.

    Bind parameters in field order: repo, kinds..., name, name_prefix (+ upper), path,
    path_prefix (+ upper), key, after; ``find`` then binds the limit.
    """

    repo: bool = False
    kinds: int = 0
    name: bool = False
    name_prefix: bool = False
    name_upper: bool = False
    path: bool = False
    path_prefix: bool = False
    path_upper: bool = False
    key: bool = False
    after: bool = False


def _where(f: EntityFilter) -> str:
    clauses: list[str] = []
    if f.repo:
        clauses.append("repo = ?")
    if f.kinds:
        clauses.append(f"kind IN ({in_list(f.kinds)})")
    if f.name:
        clauses.append("name = ?")
    if f.name_prefix:
        clauses.append("name >= ?")
    if f.name_upper:
        clauses.append("name < ?")
    if f.path:
        clauses.append("path = ?")
    if f.path_prefix:
        clauses.append("path >= ?")
    if f.path_upper:
        clauses.append("path < ?")
    if f.key:
        clauses.append("key = ?")
    if f.after:
        clauses.append("id > ?")
    return f" WHERE {' AND '.join(clauses)}" if clauses else ""


def find_entities(f: EntityFilter) -> str:
    return f"{SELECT_ENTITIES}{_where(f)} ORDER BY id LIMIT ?"


def count_entities(f: EntityFilter) -> str:
    return f"SELECT count(*) FROM entities{_where(f)}"


def prefix_upper(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with ``prefix``.

    With SQLite's binary collation (UTF-8 byte order == code point order),
    ``s >= prefix AND s < upper`` is exactly "s starts with prefix" and can use an index.
    ``None`` means no upper bound is needed: ``s >= prefix`` alone is exact when the prefix is
    made only of the largest code point (or is empty).
    """
    stem = prefix.rstrip("\U0010ffff")
    if not stem:
        return None
    nxt = ord(stem[-1]) + 1
    if 0xD800 <= nxt <= 0xDFFF:  # surrogates cannot be stored as UTF-8 text
        nxt = 0xE000
    return stem[:-1] + chr(nxt)
