"""Every real webhook example of @octokit/webhooks-examples through the extractor and into a
real SQLite store; malformed payloads rejected with the failing field and nothing written."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from extractors.discussions.export import export_batch
from extractors.discussions.webhook import EVENTS, payload_batch
from kg.cli import app
from kg.errors import InvalidInput
from kg.model import EntityKind, RelationKind, entity_id
from kg.stores.base import EntityQuery
from kg.stores.sqlite import SqliteGraphStore

ROOT = Path(__file__).parents[2]
INDEX = ROOT / ".cache/webhooks-examples-7.6.1/package/api.github.com/index.json"


@pytest.fixture(scope="module")
def examples() -> list[tuple[str, dict[str, Any]]]:
    if not INDEX.exists():  # fetched through npm by the script the test command runs
        subprocess.run(["bash", str(ROOT / "scripts/fetch-webhook-examples.sh")], check=True)
    events = json.loads(INDEX.read_text())
    return [(e["name"], ex) for e in events for ex in e["examples"]]


async def test_all_examples(examples: list[tuple[str, dict[str, Any]]], tmp_path: Path) -> None:
    assert len(examples) == 329
    store = SqliteGraphStore(tmp_path / "g.db")
    await store.start()
    produced: Counter[str] = Counter()
    try:
        for event, body in examples:
            batch = payload_batch("hello", event, body)
            if event not in EVENTS:
                assert batch is None
                continue
            assert batch is not None and batch.entities, event
            produced[event] += 1
            await store.apply(batch)
        stats = await store.stats("hello")
    finally:
        await store.close()
    read = sum(1 for e, _ in examples if e in EVENTS)
    assert sum(produced.values()) == read == 103
    assert stats["Issue"] >= 3 and stats["PullRequest"] >= 2 and stats["Comment"] >= 5
    assert stats["COMMENTS_ON"] >= 5 and stats["AUTHORED"] >= 10 and stats["REVIEWS"] >= 1


def test_review_comment_keeps_its_location(examples: list[tuple[str, dict[str, Any]]]) -> None:
    body = next(
        b
        for e, b in examples
        if e == "pull_request_review_comment" and b["comment"].get("line") is not None
    )
    batch = payload_batch("hello", "pull_request_review_comment", body)
    assert batch is not None
    [comment] = [e for e in batch.entities if e.kind is EntityKind.COMMENT]
    assert comment.attrs["path"] == body["comment"]["path"]
    assert comment.attrs["line"] == body["comment"]["line"]
    [on] = [r for r in batch.relations if r.kind is RelationKind.COMMENTS_ON]
    [pr] = [e for e in batch.entities if e.kind is EntityKind.PULL_REQUEST]
    assert on.src == comment.id and on.dst == pr.id
    assert {d.entity_id for d in batch.documents} >= {comment.id, pr.id}


@pytest.mark.parametrize(
    ("event", "mutate", "field"),
    [
        ("issues", lambda b: b["issue"].__setitem__("number", "seven"), "issue.number"),
        ("issues", lambda b: b.pop("issue"), "issue"),
        ("issue_comment", lambda b: b["comment"].pop("id"), "comment.id"),
        (
            "pull_request",
            lambda b: b["pull_request"].__setitem__("title", None),
            "pull_request.title",
        ),
        (
            "pull_request_review",
            lambda b: b["review"].__setitem__("user", {"id": 1}),
            "review.user.login",
        ),
    ],
)
async def test_malformed_payloads_are_rejected_whole(
    examples: list[tuple[str, dict[str, Any]]],
    tmp_path: Path,
    event: str,
    mutate: Any,
    field: str,
) -> None:
    body = copy.deepcopy(next(b for e, b in examples if e == event))
    mutate(body)
    with pytest.raises(InvalidInput, match=f"field '{field}'"):
        payload_batch("hello", event, body)
    # the export path (what `kg ingest-discussions` reads) refuses it the same way
    with pytest.raises(InvalidInput, match="nothing written"):
        export_batch("hello", {"event": event, "payload": body})


def test_export_rejects_bad_item_by_index() -> None:
    with pytest.raises(InvalidInput, match=r"issues\[1\].*'number'"):
        export_batch("r", {"issues": [{"number": 1, "title": "a"}, {"title": "b"}]})
    with pytest.raises(InvalidInput, match="expected a REST listing"):
        export_batch("r", {"nothing": []})


# (event, action that creates the object, key of the object in the graph)
DELETABLE = [
    ("issues", "opened", lambda b: f"Issue:#{b['issue']['number']}"),
    ("issue_comment", "created", lambda b: f"Comment:issue-comment:{b['comment']['id']}"),
    (
        "pull_request_review_comment",
        "created",
        lambda b: f"Comment:review-comment:{b['comment']['id']}",
    ),
    (
        "discussion_comment",
        "created",
        lambda b: f"Comment:discussion-comment:{b['comment']['id']}",
    ),
]


def _created_and_deleted(
    examples: list[tuple[str, dict[str, Any]]], event: str, created: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    gone = next(b for e, b in examples if e == event and b["action"] == "deleted")
    key = (gone.get("comment") or gone.get("issue") or {})["id"]
    made = next(
        b
        for e, b in examples
        if e == event
        and b["action"] == created
        and (b.get("comment") or b.get("issue") or {})["id"] == key
    )
    return made, gone


def _object_id(key: str) -> str:
    kind, _, rest = key.partition(":")
    return entity_id(EntityKind(kind), "hello", rest)


async def _leftovers(store: SqliteGraphStore, oid: str) -> list[str]:
    """What the store still holds of ``oid``: the entity, or any edge to or from it."""
    [entity] = await store.get([oid])
    out = [oid] if entity is not None else []
    people = [e.id for e in await store.find(EntityQuery(repo="hello", kinds=[EntityKind.PERSON]))]
    threads = [
        e.id
        for e in await store.find(
            EntityQuery(repo="hello", kinds=[EntityKind.ISSUE, EntityKind.PULL_REQUEST])
        )
    ]
    for way in ("in", "out"):
        around = await store.neighbors(people + threads, None, way)
        out += [
            f"{s} {way} {n.entity.id}" for s, ns in around.items() for n in ns if n.entity.id == oid
        ]
    return out


@pytest.mark.parametrize(("event", "created", "key"), DELETABLE, ids=[d[0] for d in DELETABLE])
async def test_deleted_payload_removes_the_object(
    examples: list[tuple[str, dict[str, Any]]],
    tmp_path: Path,
    event: str,
    created: str,
    key: Any,
) -> None:
    made, gone = _created_and_deleted(examples, event, created)
    oid = _object_id(key(gone))
    first, second = payload_batch("hello", event, made), payload_batch("hello", event, gone)
    assert first is not None and second is not None
    store = SqliteGraphStore(tmp_path / "g.db")
    await store.start()
    try:
        await store.apply(first)
        assert await _leftovers(store, oid), "the created payload stored the object"
        delta = await store.apply(second)
        assert oid in delta.removed
        assert await _leftovers(store, oid) == []
    finally:
        await store.close()
    # the deletion does not describe the object again (a store applies deletions first)
    assert second.deletions == [oid]
    assert oid not in {e.id for e in second.entities}
    assert not [r for r in second.relations if oid in (r.src, r.dst)]
    assert oid not in {d.entity_id for d in second.documents}


def test_cli_ingests_a_deletion(examples: list[tuple[str, dict[str, Any]]], tmp_path: Path) -> None:
    """``kg ingest-discussions`` on webhook files: the created comment, then its deletion."""
    made, gone = _created_and_deleted(examples, "issue_comment", "created")
    oid = _object_id(f"Comment:issue-comment:{gone['comment']['id']}")
    env = {
        "KG_GRAPH_URL": f"sqlite:///{tmp_path / 'g.db'}",
        "KG_EMBED": "false",
        "KG_KAFKA_BOOTSTRAP": "",
    }

    def ingest(name: str, body: dict[str, Any]) -> list[str]:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps({"event": "issue_comment", "payload": body}))
        args = ["ingest-discussions", str(path), "--repo", "hello"]
        result = CliRunner().invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        return asyncio.run(stored(oid, tmp_path / "g.db"))

    assert ingest("made", made), "the created payload stored the comment"
    assert ingest("gone", gone) == []


async def stored(oid: str, db: Path) -> list[str]:
    store = SqliteGraphStore(db)
    await store.start()
    try:
        [thread] = await store.get([entity_id(EntityKind.ISSUE, "hello", "#1")])
        assert thread is not None  # a deleted comment leaves the thread it was on
        return await _leftovers(store, oid)
    finally:
        await store.close()
