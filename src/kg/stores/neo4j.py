"""The distributed GraphStore: Neo4j 5 over Bolt with the async ``neo4j`` driver.

Passes the same contract suite as the embedded store. Statements live in ``kg.stores.cypher``,
property codecs in ``kg.stores.neo4j_rows`` and the ``apply`` transaction in
``kg.stores.neo4j_apply``. Transient failures are retried with exponential backoff for at most
``retry_seconds`` (state writes by the driver's managed transactions, reads and ``apply`` here;
an ``apply`` that lost a race to a concurrent one is re-run at once)::

    store = Neo4jGraphStore("neo4j://localhost:7687", password="secret")
    await store.start()               # connects, creates constraints and indexes
    delta = await store.apply(batch)  # one transaction: all of it or nothing
    await store.close()
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from typing import Any

import neo4j
from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction
from neo4j.exceptions import ConstraintError, DriverError, Neo4jError

from kg.errors import KGError, StoreError, StoreUnavailable
from kg.model import Batch, Direction, Entity, GraphDelta, Neighbor, Reached, Relation, RelationKind
from kg.stores import cypher
from kg.stores.base import EntityQuery
from kg.stores.neo4j_apply import Encoded, apply_encoded
from kg.stores.neo4j_rows import entity_from_props, relation_from_props

_UNREACHABLE = (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired, OSError)
# Backoff of retried reads, like the driver's for managed transactions.
_FIRST_RETRY_DELAY = 0.2
_MAX_RETRY_DELAY = 2.0
# Re-runs of an ``apply`` that lost a race. Each lost race means another transaction got
# through, so a load always progresses; with applies side by side, one batch may lose to
# several neighbours in turn.
_RACE_ATTEMPTS = 8
_DEADLOCK = "Neo.TransientError.Transaction.DeadlockDetected"


class Neo4jGraphStore:
    """GraphStore on a Neo4j 5 database. See ``kg.stores.base.GraphStore``.

    ``database=None`` uses the server's default database. ``concurrent_applies`` is how many
    ``apply`` transactions a bulk load keeps in flight (``kg.stores.inflight``): each runs on
    one server thread, and commits overlap with the next batch's statements.
    """

    def __init__(
        self,
        url: str,
        user: str = "neo4j",
        password: str = "",
        database: str | None = None,
        *,
        retry_seconds: float = 15.0,
        concurrent_applies: int = 2,
    ) -> None:
        if concurrent_applies < 1:
            raise ValueError(f"concurrent_applies must be at least 1, not {concurrent_applies}")
        self.concurrent_applies = concurrent_applies
        self._url = url
        self._auth = (user, password) if password else None
        self._database = database
        self._retry_seconds = retry_seconds
        self._driver: AsyncDriver | None = None
        # Applies adding relationships to entities outside their batch run one at a time:
        # side by side, Neo4j's locks on the degrees of popular (dense) ends deadlock them
        # (measured on the store bench: 17 of 20 resolved-call batches re-ran).
        self._reaching_out = asyncio.Lock()

    def __repr__(self) -> str:
        return f"Neo4jGraphStore({self._url!r})"

    async def start(self) -> None:
        if self._driver is not None:
            return
        driver = AsyncGraphDatabase.driver(
            self._url,
            auth=self._auth,
            max_transaction_retry_time=self._retry_seconds,
            connection_timeout=5.0,
            # Every result is read whole: one PULL instead of one per 1000 records.
            fetch_size=-1,
            # Server notifications (e.g. "property owner does not exist yet" on an empty graph)
            # would be logged as warnings for every statement; they say nothing actionable.
            notifications_min_severity="OFF",
        )
        try:
            await driver.verify_connectivity()
            await self._create_schema(driver)
        except (DriverError, Neo4jError, OSError) as exc:
            await driver.close()
            raise StoreUnavailable(
                f"cannot use the Neo4j graph store at {self._url}: {exc}; check that Neo4j 5 "
                "is running there and KG_GRAPH_URL / KG_GRAPH_USER / KG_GRAPH_PASSWORD are right"
            ) from exc
        self._driver = driver

    async def _create_schema(self, driver: AsyncDriver) -> None:
        # Only missing items: each DDL statement is its own schema transaction, which is slow.
        async with driver.session(database=self._database) as session:
            record = await (await session.run(cypher.SCHEMA_NAMES)).single()
            existing = set(record["names"]) if record is not None else set()
            missing = [ddl for name, ddl in cypher.schema().items() if name not in existing]
            for ddl in missing:
                await (await session.run(ddl)).consume()
            if missing:
                await (await session.run(cypher.AWAIT_INDEXES)).consume()

    async def close(self) -> None:
        driver, self._driver = self._driver, None
        if driver is not None:
            await driver.close()

    def _session(self, access_mode: str = neo4j.WRITE_ACCESS) -> neo4j.AsyncSession:
        if self._driver is None:
            raise StoreError(f"{self!r} is not started; call `await store.start()` first")
        # The query bookmark manager keeps reads after writes causally consistent in a cluster.
        return self._driver.session(
            database=self._database,
            default_access_mode=access_mode,
            bookmark_manager=self._driver.execute_query_bookmark_manager,
        )

    def _failed(self, exc: Exception) -> StoreError:
        if isinstance(exc, _UNREACHABLE):
            return StoreUnavailable(
                f"lost the Neo4j graph store at {self._url}: {exc}; check that it is running"
            )
        return StoreError(f"Neo4j graph store at {self._url} failed: {exc}")

    async def _read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """One auto-commit read: a single round trip, where a managed transaction takes two
        (BEGIN+RUN, then COMMIT) and twice the client CPU. The driver does not retry those, so
        transient failures are retried here within the same budget; reads are safe to repeat."""
        deadline = time.monotonic() + self._retry_seconds
        delay = _FIRST_RETRY_DELAY
        while True:
            try:
                async with self._session(neo4j.READ_ACCESS) as session:
                    return await _rows(await session.run(query, params))
            except KGError:
                raise
            except (DriverError, Neo4jError, OSError) as exc:
                if not _transient(exc) or time.monotonic() + delay > deadline:
                    raise self._failed(exc) from exc
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(2 * delay, _MAX_RETRY_DELAY)

    async def _write(self, query: str, **params: Any) -> None:
        await self._write_read(query, **params)

    async def _write_read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        async def work(tx: AsyncManagedTransaction) -> list[dict[str, Any]]:
            return await _rows(await tx.run(query, params))

        try:
            async with self._session() as session:
                return await session.execute_write(work)
        except KGError:
            raise
        except (DriverError, Neo4jError, OSError) as exc:
            raise self._failed(exc) from exc

    async def wipe(self) -> None:
        """Delete every node and relationship of the database (test isolation; keeps schema)."""
        while (await self._write_read(cypher.DELETE_EVERYTHING))[0]["n"]:
            pass

    async def apply(self, batch: Batch) -> GraphDelta:
        """One explicit transaction per attempt, re-run from scratch until it commits.

        A lost race (another transaction created an entity this one found absent, or the
        server broke a deadlock on the locks of shared relationship ends, as applies in flight
        side by side do on popular entities) is re-run at once: the winner has committed or
        holds the locks it needs. Other transient failures (the server unreachable) back off
        within ``retry_seconds``, like reads."""
        # Validates before anything is sent; off the event loop, where other applies wait.
        encoded = await asyncio.to_thread(Encoded.of, batch)
        if encoded.reaches_out:
            async with self._reaching_out:
                return await self._apply_retried(encoded)
        return await self._apply_retried(encoded)

    async def _apply_retried(self, encoded: Encoded) -> GraphDelta:
        deadline = time.monotonic() + self._retry_seconds
        delay = _FIRST_RETRY_DELAY
        races = 0
        while True:
            try:
                return await self._apply_once(encoded)
            except KGError:
                raise
            except (DriverError, Neo4jError, OSError) as exc:
                if _lost_race(exc) and races < _RACE_ATTEMPTS:
                    races += 1
                    continue
                if not _transient(exc) or time.monotonic() + delay > deadline:
                    raise self._failed(exc) from exc
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(2 * delay, _MAX_RETRY_DELAY)

    async def _apply_once(self, encoded: Encoded) -> GraphDelta:
        async with self._session() as session, await session.begin_transaction() as tx:
            delta = await apply_encoded(tx, encoded)
            await tx.commit()
            return delta

    async def get(self, ids: Sequence[str]) -> list[Entity | None]:
        if not ids:
            return []
        rows = await self._read(cypher.ENTITIES_BY_ID, ids=list(dict.fromkeys(ids)))
        found = {row["n"]["id"]: entity_from_props(row["n"]) for row in rows}
        return [found.get(i) for i in ids]

    def _filter(self, q: EntityQuery, *, paged: bool) -> tuple[cypher.EntityFilter, dict[str, Any]]:
        params: dict[str, Any] = {
            "repo": q.repo,
            "kinds": None if q.kinds is None else [str(k) for k in q.kinds],
            "name": q.name,
            "name_prefix": q.name_prefix or None,
            "path": q.path,
            "path_prefix": q.path_prefix or None,
            "key": q.key,
            "after": q.after if paged else None,
        }
        params = {k: v for k, v in params.items() if v is not None}
        flt = cypher.EntityFilter(**{k: True for k in params})
        return flt, params

    async def find(self, query: EntityQuery) -> list[Entity]:
        if query.limit <= 0 or (query.kinds is not None and not query.kinds):
            return []
        flt, params = self._filter(query, paged=True)
        rows = await self._read(cypher.find_entities(flt), limit=query.limit, **params)
        return [entity_from_props(row["n"]) for row in rows]

    async def count(self, query: EntityQuery) -> int:
        """How many entities match, ignoring ``after`` and ``limit`` (a connection's total)."""
        if query.kinds is not None and not query.kinds:
            return 0
        flt, params = self._filter(query, paged=False)
        rows = await self._read(cypher.count_entities(flt), **params)
        return int(rows[0]["n"])

    async def neighbors(
        self,
        ids: Sequence[str],
        kinds: Sequence[RelationKind] | None,
        direction: Direction,
    ) -> dict[str, list[Neighbor]]:
        out: dict[str, list[Neighbor]] = {i: [] for i in ids}
        if not out or (kinds is not None and not kinds):
            return out
        wanted = None if kinds is None else [str(k) for k in dict.fromkeys(kinds)]
        query = cypher.neighbors(direction, any_kind=wanted is None)
        for row in await self._read(query, ids=list(out), kinds=wanted):
            rel = relation_from_props(row["kind"], row["src"], row["dst"], row["r"])
            out[row["near"]].append(Neighbor(rel, entity_from_props(row["n"])))
        return out

    async def traverse(
        self,
        start: Sequence[str],
        kinds: Sequence[RelationKind],
        direction: Direction,
        depth: int,
        limit: int = 1000,
    ) -> list[Reached]:
        """One statement finds the entities level by level with each one's edges from the
        level above; among those each keeps the most confident path (ties: the smallest parent
        id), like the embedded store."""
        if not start or not kinds or depth < 1 or limit <= 0:
            return []
        query = cypher.traverse(direction, kinds, depth)
        rows = await self._read(query, ids=list(dict.fromkeys(start)), limit=limit)
        if not rows:
            return []
        # A parent's confidence is final before any of its children is scored: levels in order.
        best: dict[str, tuple[str | None, float]] = {s: (None, 1.0) for s in start}
        reached: list[Reached] = []
        for d, (level, ins) in enumerate(zip(rows[0]["levels"], rows[0]["ins"], strict=True), 1):
            found: dict[str, tuple[str | None, float]] = {}
            for props, edges in zip(level, ins, strict=True):
                parent: str | None = None
                conf = 0.0
                for u, c in edges:
                    score = best[u][1] * c
                    if parent is None or score > conf or (score == conf and u < parent):
                        parent, conf = u, score
                found[props["id"]] = (parent, conf)
            best.update(found)
            reached.extend(
                Reached(entity_from_props(p), d, _path(best, p["id"]), best[p["id"]][1])
                for p in level
            )
        return reached

    async def relations(
        self, repo: str, kinds: Sequence[RelationKind] | None = None
    ) -> list[Relation]:
        if kinds is not None and not kinds:
            return []
        wanted = None if kinds is None else [str(k) for k in dict.fromkeys(kinds)]
        rows = await self._read(
            cypher.relations_of_repo(any_kind=wanted is None), repo=repo, kinds=wanted
        )
        # Ordered by id, which is not stored (a hash of the type and the ends).
        found = [relation_from_props(r["kind"], r["src"], r["dst"], r["r"]) for r in rows]
        return [r for _, r in sorted(((r.id, r) for r in found), key=lambda pair: pair[0])]

    async def get_state(self, repo: str, key: str) -> str | None:
        rows = await self._read(cypher.GET_STATE, repo=repo, key=key)
        return None if not rows else str(rows[0]["value"])

    async def states(self, repo: str, prefix: str) -> dict[str, str]:
        rows = await self._read(cypher.STATES_WITH_PREFIX, repo=repo, prefix=prefix)
        return {str(r["key"]): str(r["value"]) for r in rows}

    async def set_state(self, repo: str, key: str, value: str | None) -> None:
        if value is None:
            await self._write(cypher.DELETE_STATES, repo=repo, keys=[key])
        else:
            await self._write(cypher.SET_STATES, repo=repo, rows=[{"key": key, "value": value}])

    async def stats(self, repo: str | None = None) -> dict[str, int]:
        of_repo = repo is not None
        rows = [
            *await self._read(cypher.entity_kind_counts(of_repo), repo=repo),
            *await self._read(cypher.relation_kind_counts(of_repo), repo=repo),
        ]
        return {str(r["kind"]): int(r["n"]) for r in rows}


def _transient(exc: Exception) -> bool:
    return isinstance(exc, _UNREACHABLE) or (
        isinstance(exc, DriverError | Neo4jError) and exc.is_retryable()
    )


def _lost_race(exc: Exception) -> bool:
    """Another transaction got through first: it created an entity this one found absent and
    CREATEs (the id constraint fails; the rerun sees the entity), or the server broke a lock
    cycle between them by failing this one (the rerun finds the locks free or waits)."""
    return isinstance(exc, ConstraintError) or (
        isinstance(exc, Neo4jError) and exc.code == _DEADLOCK
    )


async def _rows(result: neo4j.AsyncResult) -> list[dict[str, Any]]:
    """The records as plain dicts. ``Result.data()`` would walk every nested value to turn graph
    types into dicts, which statements returning ``properties(...)`` never produce."""
    keys = result.keys()
    return [dict(zip(keys, values, strict=True)) for values in await result.values()]


def _path(best: dict[str, tuple[str | None, float]], v: str) -> list[str]:
    path = [v]
    parent = best[v][0]
    while parent is not None:
        path.append(parent)
        parent = best[parent][0]
    return path[::-1]
