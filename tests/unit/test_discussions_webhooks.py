"""Every real webhook example of @octokit/webhooks-examples through the extractor and into a
real SQLite store; malformed payloads rejected with the failing field and nothing written."""

from __future__ import annotations

import copy
import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from extractors.discussions.export import export_batch
from extractors.discussions.webhook import EVENTS, payload_batch
from kg.errors import InvalidInput
from kg.model import EntityKind, RelationKind
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
