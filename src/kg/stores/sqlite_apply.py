"""``GraphStore.apply`` for SQLite: one transaction, per-scope replace, fingerprint-skipped writes.

Runs on the store's worker thread with its connection. Order inside the transaction:
deletions, stale rows of each replace scope (entities with their incident edges), upserts of rows
whose fingerprint changed, batch relations with a missing endpoint dropped, then state. A relation
whose content changed is counted as replaced (one removed, one added).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, Literal

from kg.errors import InvalidInput
from kg.model import Batch, GraphDelta
from kg.stores import sql
from kg.stores.delta import DeltaTally
from kg.stores.sqlite_rows import (
    ENTITY_VALIDITY,
    OPEN,
    RELATION_VALIDITY,
    Row,
    chunks,
    entity_row,
    relation_row,
)


def apply_batch(conn: sqlite3.Connection, batch: Batch) -> GraphDelta:
    """Apply ``batch`` atomically; on any error nothing is written and the error propagates."""
    # Encode (and so validate) everything before the transaction; the last duplicate id wins.
    entities = {e.id: entity_row(e) for e in batch.entities}
    relations: dict[str, Row] = {}
    for r in batch.relations:
        rid = r.id
        relations[rid] = relation_row(r, rid)
    tally = DeltaTally()
    conn.execute(sql.BEGIN)
    try:
        _remove_entities(conn, list(dict.fromkeys(batch.deletions)), tally)
        for scope in sorted(batch.replace_scopes):
            _replace_scope(conn, scope, entities, relations, tally)
        _upsert_entities(conn, entities, tally)
        _upsert_relations(conn, _attached(conn, relations, entities), tally)
        _apply_state(conn, batch.repo, batch.state)
        conn.execute(sql.COMMIT)
    except sqlite3.IntegrityError as exc:
        conn.execute(sql.ROLLBACK)
        raise InvalidInput(
            f"batch for repo {batch.repo!r} rejected, nothing written: {exc}"
        ) from exc
    except BaseException:
        conn.execute(sql.ROLLBACK)
        raise
    return tally.delta(batch.repo)


def _fetch(conn: sqlite3.Connection, build: Callable[[int], str], ids: Sequence[str]) -> list[Any]:
    """Rows of the statement ``build(n)`` over ``ids``, one IN list per chunk."""
    rows: list[Any] = []
    for chunk in chunks(ids):
        rows.extend(conn.execute(build(len(chunk)), chunk).fetchall())
    return rows


def _delete(conn: sqlite3.Connection, build: Callable[[int], str], ids: Sequence[str]) -> int:
    return sum(conn.execute(build(len(chunk)), chunk).rowcount for chunk in chunks(ids))


def _remove_entities(conn: sqlite3.Connection, ids: Sequence[str], tally: DeltaTally) -> None:
    """Delete entities that exist among ``ids``, with every relation touching them."""
    found = _fetch(conn, sql.entity_kind_path, ids)
    _remove_found(conn, found, tally)


def _remove_found(
    conn: sqlite3.Connection, found: Iterable[tuple[str, str, str | None]], tally: DeltaTally
) -> None:
    ids: list[str] = []
    for eid, kind, path in found:
        ids.append(eid)
        tally.touch(kind, path)
    if not ids:
        return
    tally.removed.extend(ids)
    ends: tuple[Literal["src"], Literal["dst"]] = ("src", "dst")
    for end in ends:
        build = partial(sql.delete_incident_relations, end=end)
        tally.relations_removed += _delete(conn, build, ids)
    _delete(conn, sql.delete_entities, ids)


def _replace_scope(
    conn: sqlite3.Connection,
    scope: str,
    entities: Mapping[str, Row],
    relations: Mapping[str, Row],
    tally: DeltaTally,
) -> None:
    owned = conn.execute(sql.ENTITIES_OF_OWNER, (scope,))
    _remove_found(conn, [row for row in owned if row[0] not in entities], tally)
    owned = conn.execute(sql.RELATIONS_OF_OWNER, (scope,))
    gone = [rid for (rid,) in owned if rid not in relations]
    tally.relations_removed += _delete(conn, sql.delete_relations, gone)


def _changed(
    conn: sqlite3.Connection, build: Callable[[int], str], rows: Mapping[str, Row]
) -> tuple[list[Row], list[Row]]:
    """(new rows, rows whose stored fingerprint differs) among ``rows``."""
    # Looked up in key order: consecutive ids share the B-tree pages they descend through.
    stored: dict[str, str] = dict(_fetch(conn, build, sorted(rows)))
    new: list[Row] = []
    changed: list[Row] = []
    for rid, row in rows.items():
        fp = stored.get(rid)
        if fp is None:
            new.append(row)
        elif fp != row[-1]:
            changed.append(row)
    return new, changed


def _upsert_entities(conn: sqlite3.Connection, rows: Mapping[str, Row], tally: DeltaTally) -> None:
    new, changed = _changed(conn, sql.entity_fingerprints, rows)
    for ids, written in ((tally.added, new), (tally.updated, changed)):
        for row in written:
            ids.append(str(row[0]))
            tally.touch(str(row[1]), None if row[6] is None else str(row[6]))
    _write(conn, new + changed, sql.UPSERT_ENTITY, sql.UPSERT_OPEN_ENTITY, ENTITY_VALIDITY)


def _attached(
    conn: sqlite3.Connection, relations: Mapping[str, Row], entities: Mapping[str, Row]
) -> dict[str, Row]:
    """The relations whose two endpoints exist once the batch's entities are written."""
    outside = {str(e) for row in relations.values() for e in (row[2], row[3])} - entities.keys()
    existing = {eid for (eid,) in _fetch(conn, sql.existing_entities, sorted(outside))}
    missing = outside - existing
    if not missing:
        return dict(relations)
    return {
        rid: row
        for rid, row in relations.items()
        if row[2] not in missing and row[3] not in missing
    }


def _upsert_relations(conn: sqlite3.Connection, rows: Mapping[str, Row], tally: DeltaTally) -> None:
    new, changed = _changed(conn, sql.relation_fingerprints, rows)
    tally.relations_added += len(new) + len(changed)
    tally.relations_removed += len(changed)
    _write(conn, new + changed, sql.UPSERT_RELATION, sql.UPSERT_OPEN_RELATION, RELATION_VALIDITY)


def _write(
    conn: sqlite3.Connection, rows: list[Row], upsert: str, upsert_open: str, at: int
) -> None:
    """Upsert ``rows``, those valid forever (validity columns from ``at`` all NULL) through
    ``upsert_open``, which takes them without those columns.

    In batch order (file by file): the owner and path indexes then grow in runs, which costs
    SQLite less than primary-key order does.
    """
    end = at + len(OPEN)
    rest: list[Row] = []
    open_rows: list[Row] = []
    for row in rows:
        if row[at:end] == OPEN:
            open_rows.append(row[:at] + row[end:])
        else:
            rest.append(row)
    conn.executemany(upsert_open, open_rows)
    conn.executemany(upsert, rest)


def _apply_state(conn: sqlite3.Connection, repo: str, state: Mapping[str, str | None]) -> None:
    conn.executemany(sql.DELETE_STATE, [(repo, k) for k, v in state.items() if v is None])
    conn.executemany(sql.SET_STATE, [(repo, k, v) for k, v in state.items() if v is not None])
