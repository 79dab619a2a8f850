"""``discussion.*`` events through the worker, on the in-process bus and on real Kafka.

Payloads are the real GitHub webhook examples (@octokit/webhooks-examples, fetched by
``scripts/fetch-webhook-examples.sh``) with their text pointed at this test repository's code:
issues, comments, pull requests, reviews and review comments become entities linked to the
symbols, files and threads they mention, valid while the thread is open; edits, closes and
reopens replace the previous facts; the open-discussion insight fires on the next code edit.
Webhooks are not ordered (on Kafka each event type has its own topic): a text that names a
thread or commit not stored yet is linked when that thread or commit arrives.
"""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kg.derived.links import AWAITS, arrived_meanwhile, backfill_batch, link_batch
from kg.events.base import Event
from kg.events.schema import DEAD_LETTER, DeadLetter, DiscussionEvent, Insight
from kg.insights.rules import InsightConfig
from kg.model import EntityKind, Neighbor, RelationKind, entity_id
from kg.runtime import Runtime, open_runtime, open_source
from kg.settings import Settings
from kg.worker import EVENT_STATE, Worker, assemble
from kg.worker.discussions import apply_discussion, plan_discussion

ROOT = Path(__file__).parents[2]
INDEX = ROOT / ".cache/webhooks-examples-7.6.1/package/api.github.com/index.json"
REPO = "talk"
UTIL = (
    "def core(x):\n    return x + 1\n\n\n"
    "def helper(y):\n    return core(y) * 2\n\n\n"
    "def spare(z):\n    return z\n"
)
WAIT = 60.0  # seconds; a Kafka consumer group discovers new discussion.* topics by metadata

Examples = dict[tuple[str, str], dict[str, Any]]


@pytest.fixture(scope="module")
def examples() -> Examples:
    if not INDEX.exists():  # fetched through npm by the script the test command runs
        subprocess.run(["bash", str(ROOT / "scripts/fetch-webhook-examples.sh")], check=True)
    out: Examples = {}
    for e in json.loads(INDEX.read_text()):
        for ex in e["examples"]:
            out.setdefault((e["name"], str(ex.get("action"))), ex)
    return out


@pytest.fixture(
    params=[
        pytest.param("in-process", id="in-process"),
        pytest.param("kafka", id="kafka", marks=pytest.mark.kafka),
    ]
)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    kafka = request.getfixturevalue("kafka_bootstrap") if request.param == "kafka" else ""
    return Settings(
        graph_url=f"sqlite:///{tmp_path}/kg/graph.db",
        embed=False,
        history=False,
        kafka_bootstrap=kafka,
        kafka_topic_prefix=f"disc{uuid.uuid4().hex[:10]}.",
        kafka_partitions=2,
    )


@pytest.fixture
async def rt(settings: Settings, tmp_path: Path) -> AsyncIterator[Runtime]:
    root = tmp_path / REPO
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "util.py").write_text(UTIL)
    async with open_runtime(settings) as runtime:
        await runtime.indexer().index(root, REPO)
        yield runtime


@pytest.fixture
async def worker(rt: Runtime) -> AsyncIterator[Worker]:
    source = open_source(rt, f"g{uuid.uuid4().hex[:6]}")
    await source.start()
    w = assemble(rt, source, fetch_wait=0.05)
    # every edit of this test is news: no quiet period per (symbol, rule)
    assert w._insights is not None
    w._insights.config = InsightConfig(dedup_window=0.0)
    yield w
    await source.close()


def webhook(examples: Examples, event: str, action: str, **thread: Any) -> Event:
    """The real example of ``event``/``action``, its thread's fields replaced by ``thread``
    (and a ``comment``/``review`` body by ``thread["text"]``)."""
    body = copy.deepcopy(examples[(event, action)])
    text = thread.pop("text", None)
    target = "issue" if "issue" in body else "pull_request"
    body[target].update(thread)
    for part in ("comment", "review"):
        if part in body and text is not None:
            body[part]["body"] = text
    return Event.of(
        f"discussion.{event}",
        repo=REPO,
        payload={"event": event, "action": action, "body": body},
    )


async def settle(rt: Runtime, worker: Worker, *events: Event) -> None:
    """Step the worker until every event is recorded as processed."""
    async with asyncio.timeout(WAIT):
        for event in events:
            while await rt.store.get_state(REPO, EVENT_STATE + event.id) is None:
                await worker.step()


async def links(rt: Runtime, src: str, kind: RelationKind) -> dict[str, Neighbor]:
    found = (await rt.store.neighbors([src], [kind], "out")).get(src, [])
    return {n.entity.name: n for n in found}


def thread_id(number: int, pull: bool = False) -> str:
    kind = EntityKind.PULL_REQUEST if pull else EntityKind.ISSUE
    return entity_id(kind, REPO, f"#{number}")


def at(minute: int) -> str:
    return f"2024-02-01T10:{minute:02d}:00Z"


def fn(name: str) -> str:
    return entity_id(EntityKind.FUNCTION, REPO, f"pkg/util.py::{name}")


def edit(body: str) -> Event:
    return Event.of("file.changed", repo=REPO, payload={"path": "pkg/util.py", "content": body})


async def test_threads_link_to_code_and_feed_the_open_discussion_insight(
    rt: Runtime, worker: Worker, examples: Examples
) -> None:
    deltas = aiter(rt.bus.subscribe(["graph.delta"]))
    insights = aiter(rt.bus.subscribe(["insight"]))
    # a payload carries its thread as it is now: every one of #1 and #2 says the same text
    text = "`core()` returns None on empty input (pkg/util.py)"
    fix = "Fixes #1 by guarding `core()` for empty input"
    opened = webhook(examples, "issues", "opened", body=text)
    comment = webhook(examples, "issue_comment", "created", body=text, text="`helper()` too")
    pull = webhook(examples, "pull_request", "opened", body=fix)
    review = webhook(examples, "pull_request_review", "submitted", body=fix, text="looks right")
    on_line = copy.deepcopy(examples[("pull_request_review_comment", "created")])
    on_line["comment"].update(path="pkg/util.py", line=2, body="why + 1?")
    on_line["pull_request"]["body"] = fix
    located = Event.of(
        "discussion.pull_request_review_comment",
        repo=REPO,
        payload={"event": "pull_request_review_comment", "action": "created", "body": on_line},
    )
    # On Kafka these five land on four topics and are consumed in any order; "Fixes #1" may be
    # applied before #1 exists, and the issue's arrival back-fills the link.
    for event in (opened, comment, pull, review, located):
        await rt.bus.publish(event)
    await settle(rt, worker, opened, comment, pull, review, located)
    assert worker.stats.discussions == {
        "issues.opened": 1,
        "issue_comment.created": 1,
        "pull_request.opened": 1,
        "pull_request_review.submitted": 1,
        "pull_request_review_comment.created": 1,
    }

    issue = thread_id(1)
    mentions = await links(rt, issue, RelationKind.MENTIONS)
    assert set(mentions) == {"core", "util.py"}
    created = examples[("issues", "opened")]["issue"]["created_at"]
    for n in mentions.values():  # valid from the issue's opening, open-ended while open
        assert n.relation.valid.from_time == datetime.fromisoformat(created)
        assert n.relation.valid.to_time is None
    [author] = (await rt.store.neighbors([issue], [RelationKind.AUTHORED], "in"))[issue]
    assert author.entity.key == "github:Codertocat"
    on_issue = (await rt.store.neighbors([issue], [RelationKind.COMMENTS_ON], "in"))[issue]
    assert [set(await links(rt, n.entity.id, RelationKind.MENTIONS)) for n in on_issue] == [
        {"helper"}
    ]
    pr = thread_id(2, pull=True)
    assert set(await links(rt, pr, RelationKind.CLOSES)) == {"#1"}
    assert set(await links(rt, pr, RelationKind.MENTIONS)) == {"core"}
    assert await rt.store.states(REPO, AWAITS) == {}  # nothing left waiting
    [reviewer] = (await rt.store.neighbors([pr], [RelationKind.REVIEWS], "in"))[pr]
    assert reviewer.relation.attrs["state"] == "commented"
    comment_key = f"review-comment:{on_line['comment']['id']}"
    review_comment = entity_id(EntityKind.COMMENT, REPO, comment_key)
    assert set(await links(rt, review_comment, RelationKind.COMMENTS_ON)) == {
        "#2",
        "util.py",
        "core",  # the symbol whose span holds line 2
    }
    async with asyncio.timeout(WAIT):  # subscribers see the discussion facts arrive
        while issue not in (await anext(deltas)).payload["added"]:
            pass

    changed = edit(
        UTIL.replace("return x + 1", "if x is None:\n        return 0\n    return x + 1")
    )
    await rt.bus.publish(changed)
    await settle(rt, worker, changed)
    got = await first_insight(worker, insights, "open-discussion")
    assert got.evidence.entity_ids[0] == fn("core")
    assert set(got.evidence.entity_ids[1:]) == {issue, pr}
    assert got.evidence.numbers["open"] == 2


async def first_insight(worker: Worker, it: AsyncIterator[Event], rule: str) -> Insight:
    """The first pushed insight of ``rule`` (stepping flushes the held, non-critical ones)."""
    async with asyncio.timeout(WAIT):
        while True:
            pending = asyncio.ensure_future(anext(it))
            while not pending.done():
                await worker.step()
                await asyncio.sleep(0.05)
            got = Insight.model_validate(pending.result().payload)
            if got.rule == rule:
                return got


async def test_edits_closes_and_reopens_replace_the_previous_facts(
    rt: Runtime, worker: Worker, examples: Examples
) -> None:
    issue = thread_id(1)
    opened = webhook(examples, "issues", "opened", body="`core()` is slow", updated_at=at(1))
    edited = webhook(
        examples, "issues", "edited", title="helper is slow", body="`helper()`", updated_at=at(3)
    )
    # sent after the edit but carrying the issue as it was before it (webhooks of different
    # types are not ordered): its comment is new, its older view of the issue is not applied
    comment = webhook(
        examples,
        "issue_comment",
        "created",
        body="`core()` is slow",
        updated_at=at(2),
        text="`spare()` too",
    )
    for event in (opened, edited):
        await rt.bus.publish(event)
    await settle(rt, worker, opened, edited)
    await rt.bus.publish(comment)
    await settle(rt, worker, comment)
    [stored] = await rt.store.get([issue])
    assert stored is not None and stored.attrs["title"] == "helper is slow"
    assert set(await links(rt, issue, RelationKind.MENTIONS)) == {"helper"}  # core: gone

    closed_at = "2024-03-01T10:00:00Z"
    closed = webhook(
        examples,
        "issues",
        "edited",
        state="closed",
        closed_at=closed_at,
        body="`helper()`",
        updated_at=at(4),
    )
    await rt.bus.publish(closed)
    await settle(rt, worker, closed)
    [stored] = await rt.store.get([issue])
    assert stored is not None and stored.attrs["state"] == "closed"
    end = datetime.fromisoformat(closed_at)
    assert (await links(rt, issue, RelationKind.MENTIONS))["helper"].relation.valid.to_time == end
    [on] = (await rt.store.neighbors([issue], [RelationKind.COMMENTS_ON], "in"))[issue]
    spare = (await links(rt, on.entity.id, RelationKind.MENTIONS))["spare"]
    assert spare.relation.valid.to_time == end  # the thread's comments close with it

    changed = edit(UTIL.replace("return core(y) * 2", "return core(y) * 3 if y else 0"))
    await rt.bus.publish(changed)
    await settle(rt, worker, changed)
    stored_insights = await rt.store.neighbors([fn("helper")], [RelationKind.ANNOTATES], "in")
    rules = {str(n.entity.attrs["rule"]) for n in stored_insights.get(fn("helper"), [])}
    assert "open-discussion" not in rules  # the only thread mentioning helper is closed

    # a reopened issue keeps its old closed_at: the state says it is open
    reopened = webhook(examples, "issues", "reopened", body="`helper()`", updated_at=at(5))
    await rt.bus.publish(reopened)
    await rt.bus.publish(closed)  # an at-least-once redelivery of an applied event
    await settle(rt, worker, reopened)
    while worker.stats.duplicates < 1:
        await worker.step()
    [stored] = await rt.store.get([issue])
    assert stored is not None and stored.attrs["state"] == "open"
    assert (await links(rt, issue, RelationKind.MENTIONS))["helper"].relation.valid.is_current
    spare = (await links(rt, on.entity.id, RelationKind.MENTIONS))["spare"]
    assert spare.relation.valid.is_current
    insights = aiter(rt.bus.subscribe(["insight"]))
    longer = "if y is None:\n        return 0\n    return core(y) * 4"
    again = edit(UTIL.replace("return core(y) * 2", longer))
    await rt.bus.publish(again)
    await settle(rt, worker, again)
    got = await first_insight(worker, insights, "open-discussion")  # open again: it fires
    assert got.evidence.entity_ids == [fn("helper"), issue]

    deleted = webhook(examples, "issue_comment", "deleted", body="`helper()`", updated_at=at(6))
    await rt.bus.publish(deleted)
    await settle(rt, worker, deleted)
    gone = entity_id(
        EntityKind.COMMENT, REPO, f"issue-comment:{deleted.payload['body']['comment']['id']}"
    )
    assert (await rt.store.get([gone])) == [None]


async def test_bad_foreign_and_unknown_repo_discussions(
    rt: Runtime, worker: Worker, examples: Examples
) -> None:
    dead = aiter(rt.bus.subscribe([DEAD_LETTER]))
    no_issue = copy.deepcopy(examples[("issues", "opened")])
    del no_issue["issue"]
    bad_number = copy.deepcopy(examples[("issues", "opened")])
    bad_number["issue"]["number"] = "seven"
    star = examples[("star", "created")]
    events = [
        Event.of("discussion.issues", repo=REPO, payload={"event": "issues", "body": no_issue}),
        Event.of("discussion.issues", repo=REPO, payload={"event": "issues", "body": bad_number}),
        Event.of("discussion.star", repo=REPO, payload={"event": "star", "body": star}),
        Event.of(
            "discussion.issues",
            repo="elsewhere",
            payload={"event": "issues", "body": examples[("issues", "opened")]},
        ),
        webhook(examples, "issues", "opened", body="fine"),
    ]
    for event in events:
        await rt.bus.publish(event)
    await settle(rt, worker, events[-1])
    async with asyncio.timeout(WAIT):
        while worker.stats.unknown_repo["elsewhere"] < 1 or worker.stats.dead_lettered < 2:
            await worker.step()
        letters = [DeadLetter.model_validate((await anext(dead)).payload) for _ in range(3)]
    errors = sorted(letter.error for letter in letters)
    assert any("field 'issue' is missing" in e for e in errors)
    assert any("'issue.number'" in e for e in errors)
    assert any("unknown repository 'elsewhere'" in e for e in errors)
    assert worker.stats.discussions_ignored == 1
    assert worker.stats.discussions == {"issues.opened": 1}
    assert (await rt.store.get([thread_id(1)]))[0] is not None


def reviewed(examples: Examples, number: int, opened: str, review_at: str) -> list[Event]:
    """Pull request ``number`` opened, then reviewed by someone else: the two webhooks."""
    pull = webhook(examples, "pull_request", "opened", number=number, created_at=opened)
    body = copy.deepcopy(examples[("pull_request_review", "submitted")])
    body["pull_request"].update(number=number, created_at=opened)
    body["review"].update(id=50_000 + number, submitted_at=review_at, user={"login": "rev"})
    review = Event.of(
        "discussion.pull_request_review",
        repo=REPO,
        payload={"event": "pull_request_review", "action": "submitted", "body": body},
    )
    return [pull, review]


async def test_a_late_first_review_is_pushed_as_a_review_latency_anomaly(
    rt: Runtime, worker: Worker, examples: Examples
) -> None:
    insights = aiter(rt.bus.subscribe(["insight"]))
    events: list[Event] = []
    for i, hours in enumerate([1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 24, 30]):
        events += reviewed(
            examples,
            10 + i,
            "2024-01-01T00:00:00Z",
            f"2024-01-0{1 + hours // 24}T{hours % 24:02d}:00:00Z",
        )
    events += reviewed(examples, 99, "2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z")
    for event in events:
        await rt.bus.publish(event)
    await settle(rt, worker, *events)
    got = await first_insight(worker, insights, "anomaly:review-latency")
    assert got.evidence.entity_ids[0] == thread_id(99, pull=True)
    assert got.evidence.numbers["hours"] == 60 * 24 and got.evidence.numbers["peers"] == 12
    assert got.severity in ("warning", "critical") and "first review" in got.explanation


async def test_a_pull_request_applied_before_its_issue_closes_it_when_the_issue_arrives(
    rt: Runtime, worker: Worker, examples: Examples
) -> None:
    fix = "Fixes #1 by guarding `core()`"  # every payload carries the PR as it is now
    pull = webhook(examples, "pull_request", "opened", body=fix)
    review = webhook(examples, "pull_request_review", "submitted", body=fix, text="same as #1")
    await rt.bus.publish(pull)
    await settle(rt, worker, pull)
    await rt.bus.publish(review)
    await settle(rt, worker, review)
    pr, issue = thread_id(2, pull=True), thread_id(1)
    assert await rt.store.get([issue]) == [None]
    assert await links(rt, pr, RelationKind.CLOSES) == {}
    assert await rt.store.states(REPO, AWAITS) != {}

    opened = webhook(examples, "issues", "opened", body="`core()` fails")
    await rt.bus.publish(opened)
    await settle(rt, worker, opened)
    closes = (await links(rt, pr, RelationKind.CLOSES))["#1"]
    created = examples[("pull_request", "opened")]["pull_request"]["created_at"]
    assert closes.relation.valid.from_time == datetime.fromisoformat(created)
    assert closes.relation.valid.is_current  # the pull request is open
    [on] = (await rt.store.neighbors([pr], [RelationKind.COMMENTS_ON], "in"))[pr]
    assert set(await links(rt, on.entity.id, RelationKind.MENTIONS)) == {"#1"}
    assert set(await links(rt, pr, RelationKind.MENTIONS)) == {"core"}  # its own links kept
    assert await rt.store.states(REPO, AWAITS) == {}


@pytest.fixture
async def history(tmp_path: Path) -> AsyncIterator[tuple[Runtime, Path]]:
    """A runtime that reads git history, and a git repository not indexed yet."""
    root = tmp_path / "git"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "util.py").write_text(UTIL)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Guard core, fixes #3")
    (root / "pkg" / "util.py").write_text(UTIL + "\n\ndef more():\n    return 1\n")
    git(root, "commit", "-q", "-am", "Add more")
    settings = Settings(graph_url=f"sqlite:///{tmp_path}/kg/graph.db", embed=False, history=True)
    async with open_runtime(settings) as runtime:
        yield runtime, root


def git(root: Path, *args: str) -> str:
    who = {"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com"}
    env = {**who, "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"}
    done = subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True, env=env
    )
    return done.stdout.strip()


async def test_threads_and_commits_back_fill_the_links_of_texts_stored_before_them(
    history: tuple[Runtime, Path], examples: Examples
) -> None:
    """Applied directly (no bus): a PR names issue #1 and a commit, both not stored yet, and is
    closed; a commit message names issue #3. Each arrival links the texts that waited for it."""
    rt, root = history
    store = rt.store
    later = git(root, "rev-parse", "HEAD")

    async def apply(event: str, action: str, **thread: Any) -> list[int]:
        body = copy.deepcopy(examples[(event, action)])
        body["issue" if "issue" in body else "pull_request"].update(thread)
        work = plan_discussion(REPO, DiscussionEvent(event=event, action=action, body=body))
        assert work is not None
        return [d.relations_added for d in await apply_discussion(store, work, embedding=None)]

    fix = f"Fixes #1, the cause is {later[:10]}"
    await apply("pull_request", "opened", body=fix)
    await apply("pull_request", "closed", body=fix)
    pr = thread_id(2, pull=True)
    assert await links(rt, pr, RelationKind.CLOSES) == {}
    assert await links(rt, pr, RelationKind.MENTIONS) == {}

    await rt.indexer().index(root, REPO)  # the commits arrive
    [mentioned] = (await links(rt, pr, RelationKind.MENTIONS)).values()
    assert mentioned.entity.key == later
    closed = examples[("pull_request", "closed")]["pull_request"]["closed_at"]
    assert mentioned.relation.valid.to_time == datetime.fromisoformat(closed)

    await apply("issues", "opened")  # #1: the closed PR's CLOSES, valid while the PR was open
    closes = (await links(rt, pr, RelationKind.CLOSES))["#1"].relation.valid
    created = examples[("pull_request", "closed")]["pull_request"]["created_at"]
    assert (closes.from_time, closes.to_time) == tuple(
        datetime.fromisoformat(t) for t in (created, closed)
    )
    first = entity_id(EntityKind.COMMIT, REPO, git(root, "rev-parse", "HEAD~1"))
    assert await links(rt, first, RelationKind.CLOSES) == {}
    await apply("issues", "opened", number=3)
    assert set(await links(rt, first, RelationKind.CLOSES)) == {"#3"}
    assert await store.states(REPO, AWAITS) == {}
    assert sum(await apply("issues", "opened", number=3)) == 0  # a redelivery changes nothing


async def test_a_reference_written_after_its_target_arrived_is_back_filled_once_more(
    history: tuple[Runtime, Path], examples: Examples
) -> None:
    """Two writers: one links "Fixes #1" while #1 is missing, the other stores #1 (and finds
    nothing waiting) before the first writes its links; the first sees #1 on its re-check."""
    rt, _ = history
    store = rt.store
    body = copy.deepcopy(examples[("pull_request", "opened")])
    body["pull_request"]["body"] = "Fixes #1"
    pull = plan_discussion(REPO, DiscussionEvent(event="pull_request", body=body))
    opened = plan_discussion(
        REPO, DiscussionEvent(event="issues", body=examples[("issues", "opened")])
    )
    assert pull is not None and opened is not None
    await store.apply(pull.batch)
    [pr] = await store.get([thread_id(2, pull=True)])
    assert pr is not None
    linked = await link_batch(store, REPO, [pr])  # #1 missing: the PR waits for it
    await apply_discussion(store, opened, embedding=None)  # meanwhile #1, nothing waits yet
    await store.apply(linked)
    assert await links(rt, pr.id, RelationKind.CLOSES) == {}
    arrived = await arrived_meanwhile(store, REPO, linked.state)
    assert [e.id for e in arrived] == [thread_id(1)]
    await store.apply(await backfill_batch(store, REPO, arrived))
    assert set(await links(rt, pr.id, RelationKind.CLOSES)) == {"#1"}
    assert await store.states(REPO, AWAITS) == {}
    assert (await backfill_batch(store, REPO, arrived)).is_empty()
