"""The embedded GraphStore: SQLite (WAL, stdlib ``sqlite3``) behind an async facade.

One connection lives on one dedicated worker thread; every call runs there through
``loop.run_in_executor``, so callers never block the event loop and SQLite never sees two
threads. ``":memory:"`` gives a private in-memory graph (tests)::

    store = SqliteGraphStore(".kg/graph.db")
    await store.start()
    delta = await store.apply(batch)
    await store.close()

Statements live in ``kg.stores.sql``, row codecs in ``kg.stores.sqlite_rows`` and the ``apply``
transaction in ``kg.stores.sqlite_apply``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from opentelemetry import trace

from kg.errors import KGError, StoreError, StoreUnavailable
from kg.model import (
    Batch,
    Direction,
    Entity,
    GraphDelta,
    Neighbor,
    Reached,
    Relation,
    RelationKind,
)
from kg.stores import sql
from kg.stores.base import EntityQuery
from kg.stores.sqlite_apply import apply_batch
from kg.stores.sqlite_rows import (
    N_RELATION,
    SqlValue,
    chunks,
    entity_from_row,
    relation_from_row,
)

T = TypeVar("T")
_tracer = trace.get_tracer("codekg")


class SqliteGraphStore:
    """GraphStore on one SQLite file (or ``":memory:"``). See ``kg.stores.base.GraphStore``."""

    # One connection, one writer: applies run one after another.
    concurrent_applies = 1

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None

    def __repr__(self) -> str:
        return f"SqliteGraphStore({self._path!r})"

    async def start(self) -> None:
        if self._conn is not None:
            return
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-sqlite")
        loop = asyncio.get_running_loop()
        try:
            self._conn = await loop.run_in_executor(executor, _connect, self._path)
        except sqlite3.Error as exc:
            executor.shutdown(wait=False)
            raise StoreUnavailable(
                f"cannot open the SQLite graph store at {self._path}: {exc}; "
                "check that KG_GRAPH_URL points to a writable file"
            ) from exc
        self._executor = executor

    async def close(self) -> None:
        executor, conn = self._executor, self._conn
        self._executor = self._conn = None
        if executor is None or conn is None:
            return
        await asyncio.get_running_loop().run_in_executor(executor, _disconnect, conn)
        executor.shutdown(wait=False)

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._executor is None or self._conn is None:
            raise StoreError(f"{self!r} is not started; call `await store.start()` first")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, self._conn)
        except KGError:
            raise
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite graph store at {self._path} failed: {exc}") from exc

    async def apply(self, batch: Batch) -> GraphDelta:
        attributes: dict[str, str | int] = {
            "repo": batch.repo,
            "entities": len(batch.entities),
            "relations": len(batch.relations),
            "scopes": len(batch.replace_scopes),
        }
        with _tracer.start_as_current_span("graph_store.apply", attributes=attributes):
            return await self._run(partial(apply_batch, batch=batch))

    async def get(self, ids: Sequence[str]) -> list[Entity | None]:
        found = await self._run(partial(_get, ids=ids))
        return [found.get(i) for i in ids]

    async def find(self, query: EntityQuery) -> list[Entity]:
        return await self._run(partial(_find, query=query))

    async def count(self, query: EntityQuery) -> int:
        return await self._run(partial(_count, query=query))

    async def neighbors(
        self,
        ids: Sequence[str],
        kinds: Sequence[RelationKind] | None,
        direction: Direction,
    ) -> dict[str, list[Neighbor]]:
        return await self._run(partial(_neighbors, ids=ids, kinds=kinds, direction=direction))

    async def traverse(
        self,
        start: Sequence[str],
        kinds: Sequence[RelationKind],
        direction: Direction,
        depth: int,
        limit: int = 1000,
    ) -> list[Reached]:
        run = partial(
            _traverse, start=start, kinds=kinds, direction=direction, depth=depth, limit=limit
        )
        attributes: dict[str, str | int] = {
            "start": len(start),
            "depth": depth,
            "direction": direction,
        }
        with _tracer.start_as_current_span("graph_store.traverse", attributes=attributes):
            return await self._run(run)

    async def relations(
        self, repo: str, kinds: Sequence[RelationKind] | None = None
    ) -> list[Relation]:
        return await self._run(partial(_relations, repo=repo, kinds=kinds))

    async def get_state(self, repo: str, key: str) -> str | None:
        return await self._run(partial(_get_state, repo=repo, key=key))

    async def states(self, repo: str, prefix: str) -> dict[str, str]:
        return await self._run(partial(_states, repo=repo, prefix=prefix))

    async def set_state(self, repo: str, key: str, value: str | None) -> None:
        await self._run(partial(_set_state, repo=repo, key=key, value=value))

    async def stats(self, repo: str | None = None) -> dict[str, int]:
        return await self._run(partial(_stats, repo=repo))


# Everything below runs on the worker thread.


def _connect(path: str) -> sqlite3.Connection:
    # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE in apply).
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in sql.PRAGMAS:
            conn.execute(pragma)
        for ddl in sql.SCHEMA:
            conn.execute(ddl)
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _disconnect(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("PRAGMA optimize")
    finally:
        conn.close()


def _kinds(kinds: Sequence[Any] | None) -> list[str] | None:
    """Distinct kind values; None means any kind."""
    return None if kinds is None else [str(k) for k in dict.fromkeys(kinds)]


def _get(conn: sqlite3.Connection, ids: Sequence[str]) -> dict[str, Entity]:
    found: dict[str, Entity] = {}
    for chunk in chunks(list(dict.fromkeys(ids))):
        for row in conn.execute(sql.entities_by_id(len(chunk)), chunk):
            found[row[0]] = entity_from_row(row)
    return found


def _filter(query: EntityQuery) -> tuple[sql.EntityFilter, list[SqlValue]]:
    """The clauses and parameters (in ``EntityFilter`` order) of a query."""
    params: list[SqlValue] = []
    if query.repo is not None:
        params.append(query.repo)
    kinds = _kinds(query.kinds) or []
    params += kinds
    if query.name is not None:
        params.append(query.name)
    name_upper = sql.prefix_upper(query.name_prefix or "")
    if query.name_prefix:
        params += [query.name_prefix] + ([name_upper] if name_upper else [])
    if query.path is not None:
        params.append(query.path)
    path_upper = sql.prefix_upper(query.path_prefix or "")
    if query.path_prefix:
        params += [query.path_prefix] + ([path_upper] if path_upper else [])
    if query.key is not None:
        params.append(query.key)
    if query.after is not None:
        params.append(query.after)
    flt = sql.EntityFilter(
        repo=query.repo is not None,
        kinds=len(kinds),
        name=query.name is not None,
        name_prefix=bool(query.name_prefix),
        name_upper=bool(query.name_prefix and name_upper),
        path=query.path is not None,
        path_prefix=bool(query.path_prefix),
        path_upper=bool(query.path_prefix and path_upper),
        key=query.key is not None,
        after=query.after is not None,
    )
    return flt, params


def _find(conn: sqlite3.Connection, query: EntityQuery) -> list[Entity]:
    if query.limit <= 0 or (query.kinds is not None and not query.kinds):
        return []
    flt, params = _filter(query)
    rows = conn.execute(sql.find_entities(flt), [*params, query.limit])
    return [entity_from_row(row) for row in rows]


def _count(conn: sqlite3.Connection, query: EntityQuery) -> int:
    """How many entities match, ignoring ``after`` and ``limit`` (a connection's totalCount)."""
    if query.kinds is not None and not query.kinds:
        return 0
    flt, params = _filter(
        EntityQuery(
            repo=query.repo,
            kinds=query.kinds,
            name=query.name,
            name_prefix=query.name_prefix,
            path=query.path,
            path_prefix=query.path_prefix,
            key=query.key,
        )
    )
    (n,) = conn.execute(sql.count_entities(flt), params).fetchone()
    return int(n)


def _neighbors(
    conn: sqlite3.Connection,
    ids: Sequence[str],
    kinds: Sequence[RelationKind] | None,
    direction: Direction,
) -> dict[str, list[Neighbor]]:
    out: dict[str, list[Neighbor]] = {i: [] for i in ids}
    wanted = _kinds(kinds)
    if wanted is not None and not wanted:
        return out
    near = 2 if direction == "out" else 3
    for chunk in chunks(list(out)):
        stmt = sql.neighbors(len(chunk), len(wanted or ()), direction)
        for row in conn.execute(stmt, [*chunk, *(wanted or ())]):
            rel = relation_from_row(row[:N_RELATION])
            out[row[near]].append(Neighbor(rel, entity_from_row(row[N_RELATION:])))
    return out


def _traverse(
    conn: sqlite3.Connection,
    start: Sequence[str],
    kinds: Sequence[RelationKind],
    direction: Direction,
    depth: int,
    limit: int,
) -> list[Reached]:
    """Level-by-level BFS; among shortest paths it keeps the most confident one."""
    wanted = _kinds(kinds) or []
    best: dict[str, tuple[str | None, float]] = {s: (None, 1.0) for s in start}
    frontier = sorted(best)
    order: list[tuple[int, str]] = []
    for level in range(1, depth + 1):
        if not frontier or len(order) >= limit:
            break
        reached: dict[str, tuple[str | None, float]] = {}
        for chunk in chunks(frontier):
            stmt = sql.hop(len(chunk), len(wanted), direction)
            for u, v, c in conn.execute(stmt, [*chunk, *wanted]):
                if v in best:
                    continue
                conf = best[u][1] * c
                prev = reached.get(v)
                if prev is None or conf > prev[1] or (conf == prev[1] and u < str(prev[0])):
                    reached[v] = (u, conf)
        frontier = sorted(reached)
        best.update(reached)
        order += [(level, v) for v in frontier]
    order = order[: max(limit, 0)]
    entities = _get(conn, [v for _, v in order])
    return [
        Reached(entities[v], level, _path(best, v), best[v][1])
        for level, v in order
        if v in entities
    ]


def _path(best: dict[str, tuple[str | None, float]], v: str) -> list[str]:
    path = [v]
    parent = best[v][0]
    while parent is not None:
        path.append(parent)
        parent = best[parent][0]
    return path[::-1]


def _relations(
    conn: sqlite3.Connection, repo: str, kinds: Sequence[RelationKind] | None
) -> list[Relation]:
    wanted = _kinds(kinds)
    if wanted is not None and not wanted:
        return []
    rows = conn.execute(sql.relations_of_repo(len(wanted or ())), [repo, *(wanted or ())])
    return [relation_from_row(row) for row in rows]


def _get_state(conn: sqlite3.Connection, repo: str, key: str) -> str | None:
    row = conn.execute(sql.GET_STATE, (repo, key)).fetchone()
    return None if row is None else str(row[0])


def _states(conn: sqlite3.Connection, repo: str, prefix: str) -> dict[str, str]:
    upper = sql.prefix_upper(prefix)
    if upper is not None:
        rows = conn.execute(sql.STATES_RANGE, (repo, prefix, upper))
    else:
        rows = conn.execute(sql.STATES_FROM, (repo, prefix))
    return {str(k): str(v) for k, v in rows}


def _set_state(conn: sqlite3.Connection, repo: str, key: str, value: str | None) -> None:
    if value is None:
        conn.execute(sql.DELETE_STATE, (repo, key))
    else:
        conn.execute(sql.SET_STATE, (repo, key, value))


def _stats(conn: sqlite3.Connection, repo: str | None) -> dict[str, int]:
    if repo is None:
        rows = [*conn.execute(sql.ENTITY_KIND_COUNTS), *conn.execute(sql.RELATION_KIND_COUNTS)]
    else:
        rows = [
            *conn.execute(sql.ENTITY_KIND_COUNTS_OF_REPO, (repo,)),
            *conn.execute(sql.RELATION_KIND_COUNTS_OF_REPO, (repo,)),
        ]
    return {str(kind): int(n) for kind, n in rows}
