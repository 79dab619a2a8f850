"""Insight rules and engine over a real SQLite graph built by hand (no extractor involved)."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from extractors.discussions.webhook import payload_batch
from kg.events.base import Event
from kg.events.memory import InProcessBus
from kg.events.schema import Insight
from kg.insights.engine import InsightEngine
from kg.insights.rules import InsightConfig
from kg.insights.stats import deviation, severity_for
from kg.model import (
    Batch,
    Entity,
    EntityKind,
    GraphDelta,
    Relation,
    RelationKind,
    Span,
    entity_id,
)
from kg.stores.base import EntityQuery
from kg.stores.sqlite import SqliteGraphStore

REPO = "ins"
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def fn(path: str, name: str, complexity: int = 1, line: int = 1) -> Entity:
    return Entity.make(
        EntityKind.FUNCTION,
        REPO,
        f"{path}::{name}",
        name=name,
        path=path,
        span=Span(line, line + 2),
        attrs={"qualname": name, "complexity": complexity},
    )


def file(path: str) -> Entity:
    return Entity.make(EntityKind.FILE, REPO, path, name=path, path=path)


def commit(n: int, email: str, when: datetime, lines: int = 10, files: int = 1) -> Entity:
    return Entity.make(
        EntityKind.COMMIT,
        REPO,
        f"{n:040x}",
        name=f"{n:012x}",
        attrs={
            "author_email": email,
            "committer_time": when.isoformat(),
            "insertions": lines,
            "deletions": 0,
            "files_changed": files,
        },
    )


def person(email: str) -> Entity:
    return Entity.make(EntityKind.PERSON, REPO, email, name=email, attrs={"email": email})


def rel(kind: RelationKind, src: Entity, dst: Entity, **attrs: int | str) -> Relation:
    return Relation(kind, src.id, dst.id, attrs=dict(attrs))


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteGraphStore]:
    s = SqliteGraphStore(tmp_path / "g.db")
    await s.start()
    yield s
    await s.close()


def engine(
    store: SqliteGraphStore,
    bus: InProcessBus | None = None,
    clock: Clock | None = None,
    **cfg: float,
) -> InsightEngine:
    return InsightEngine(
        store,
        bus,
        InsightConfig(**cfg),  # type: ignore[arg-type]
        clock=clock or Clock(),
        now=lambda: NOW,
    )


async def test_blast_radius_counts_transitive_callers(store: SqliteGraphStore) -> None:
    core = fn("a.py", "core")
    mids = [fn("b.py", f"mid{i}") for i in range(4)]
    tops = [fn("c.py", f"top{i}") for i in range(8)]
    rels = [rel(RelationKind.CALLS, m, core) for m in mids]
    rels += [rel(RelationKind.CALLS, t, mids[i % 4]) for i, t in enumerate(tops)]
    await store.apply(Batch(REPO, entities=[core, *mids, *tops], relations=rels))
    got = await engine(store).observe(GraphDelta(repo=REPO, updated=[core.id], paths=["a.py"]))
    (insight,) = [i for i in got if i.rule == "blast-radius"]
    assert insight.evidence.numbers == {"callers": 12.0, "direct_callers": 4.0, "depth": 3.0}
    assert insight.severity == "warning" and insight.evidence.entity_ids[0] == core.id
    few = await engine(store, blast_callers=13).observe(GraphDelta(repo=REPO, updated=[core.id]))
    assert not [i for i in few if i.rule == "blast-radius"]


async def test_hotspot_needs_rising_complexity_and_churn(store: SqliteGraphStore) -> None:
    f = file("hot.py")
    before = fn("hot.py", "busy", complexity=4)
    after = fn("hot.py", "busy", complexity=9)
    commits = [commit(i, "a@x", NOW) for i in range(5)]
    rels = [rel(RelationKind.MODIFIES, c, f, added=3, removed=1) for c in commits]
    await store.apply(Batch(REPO, entities=[f, after, *commits], relations=rels))
    delta = GraphDelta(repo=REPO, updated=[after.id], paths=["hot.py"])
    got = await engine(store, hotspot_score=30).observe(delta, before={after.id: before})
    (hot,) = [i for i in got if i.rule == "hotspot"]
    assert hot.evidence.numbers == {
        "complexity": 9.0,
        "previous_complexity": 4.0,
        "churn": 5.0,
        "score": 45.0,
    }
    assert hot.severity == "warning"
    same = fn("hot.py", "busy", complexity=9)
    calm = await engine(store).observe(delta, before={after.id: same})  # not rising
    assert not [i for i in calm if i.rule == "hotspot"]


async def test_co_change_partner_left_out(store: SqliteGraphStore) -> None:
    a, b, c = file("a.py"), file("b.py"), file("c.py")
    rels = [
        Relation(RelationKind.CO_CHANGES, a.id, b.id, confidence=0.9, attrs={"weight": 7}),
        Relation(RelationKind.CO_CHANGES, c.id, a.id, confidence=0.8, attrs={"weight": 1}),
    ]
    await store.apply(Batch(REPO, entities=[a, b, c], relations=rels))
    got = await engine(store).observe(GraphDelta(repo=REPO, paths=["a.py"]))
    (co,) = [i for i in got if i.rule == "co-change"]
    assert co.paths == ["a.py", "b.py"] and co.evidence.numbers["shared_commits"] == 7
    both = await engine(store).observe(GraphDelta(repo=REPO, paths=["a.py", "b.py"]))
    assert not [i for i in both if i.rule == "co-change"]  # partner is in the change


async def test_no_co_change_relations_means_no_co_change_insight(
    store: SqliteGraphStore,
) -> None:
    await store.apply(Batch(REPO, entities=[file("solo.py")]))
    got = await engine(store).observe(GraphDelta(repo=REPO, paths=["solo.py"]))
    assert got == []


async def test_ownership_risk_when_the_only_expert_is_inactive(store: SqliteGraphStore) -> None:
    f = file("legacy.py")
    old = NOW - timedelta(days=400)
    commits = [commit(i, "gone@x", old - timedelta(days=i)) for i in range(4)]
    commits.append(commit(99, "new@x", NOW - timedelta(days=1)))
    ada, bob = person("gone@x"), person("new@x")
    rels = [rel(RelationKind.MODIFIES, c, f) for c in commits[:4]]
    rels += [rel(RelationKind.AUTHORED, ada, c) for c in commits[:4]]
    rels += [rel(RelationKind.AUTHORED, bob, commits[4])]
    await store.apply(Batch(REPO, entities=[f, ada, bob, *commits], relations=rels))
    got = await engine(store).observe(GraphDelta(repo=REPO, paths=["legacy.py"]))
    (risk,) = [i for i in got if i.rule == "ownership-risk"]
    assert risk.evidence.entity_ids == [f.id, ada.id]
    assert risk.evidence.numbers["share"] == 1.0 and risk.evidence.numbers["days_inactive"] == 400


async def test_k_sigma_commit_anomaly_scales_severity(store: SqliteGraphStore) -> None:
    sizes = [2, 5, 10, 20, 50, 100]  # a realistic spread: about 1.2 sigma in log units
    peers = [commit(i, "a@x", NOW, lines=sizes[i % 6]) for i in range(30)]
    big = commit(100, "a@x", NOW, lines=2000)
    huge = commit(101, "a@x", NOW, lines=1_000_000)
    await store.apply(Batch(REPO, entities=[*peers, big]))
    got = await engine(store).observe(GraphDelta(repo=REPO, added=[big.id]))
    (a,) = [i for i in got if i.rule == "anomaly:commit-lines"]
    assert a.severity == "warning" and a.evidence.numbers["value"] == 2000
    await store.apply(Batch(REPO, entities=[huge]))
    got = await engine(store).observe(GraphDelta(repo=REPO, added=[huge.id]))
    (b,) = [i for i in got if i.rule == "anomaly:commit-lines"]
    assert b.severity == "critical" and b.evidence.numbers["z"] > a.evidence.numbers["z"]
    normal = commit(102, "a@x", NOW, lines=300)  # large, but within 3 sigma
    await store.apply(Batch(REPO, entities=[normal]))
    assert await engine(store).observe(GraphDelta(repo=REPO, added=[normal.id])) == []


def test_deviation_is_log_scaled_and_needs_peers() -> None:
    assert deviation(1000, [10.0] * 5, 3.0) is None  # too few peers
    dev = deviation(1000, [10.0, 12.0] * 10, 3.0)
    assert dev is not None and dev.z > 3 and 9 < dev.typical < 13
    assert deviation(14, [10.0, 12.0] * 10, 3.0) is None
    assert [severity_for(z, 3) for z in (2, 3, 6)] == ["info", "warning", "critical"]


async def test_open_discussions_mentioning_the_symbol(store: SqliteGraphStore) -> None:
    target = fn("d.py", "parse")
    issue = Entity.make(
        EntityKind.ISSUE, REPO, "#7", name="#7 parse crashes", attrs={"state": "open"}
    )
    closed = Entity.make(EntityKind.ISSUE, REPO, "#3", name="#3 old", attrs={"state": "closed"})
    rels = [rel(RelationKind.MENTIONS, issue, target), rel(RelationKind.MENTIONS, closed, target)]
    await store.apply(Batch(REPO, entities=[target, issue, closed], relations=rels))
    got = await engine(store).observe(GraphDelta(repo=REPO, updated=[target.id]))
    (d,) = [i for i in got if i.rule == "open-discussion"]
    assert d.evidence.entity_ids == [target.id, issue.id] and d.severity == "info"


async def test_dedup_window_batching_and_storage(store: SqliteGraphStore) -> None:
    peers = [commit(i, "a@x", NOW, lines=10) for i in range(20)]
    huge = commit(100, "a@x", NOW, lines=100_000)  # critical
    target = fn("d.py", "parse")
    issue = Entity.make(EntityKind.ISSUE, REPO, "#7", name="#7", attrs={"state": "open"})
    await store.apply(
        Batch(
            REPO,
            entities=[*peers, huge, target, issue],
            relations=[rel(RelationKind.MENTIONS, issue, target)],
        )
    )
    bus, clock = InProcessBus(), Clock()
    sub = bus.subscribe(["insight"])
    eng = engine(store, bus, clock, dedup_window=60, batch_window=0.5)
    await eng.observe(GraphDelta(repo=REPO, added=[huge.id], updated=[target.id]))
    assert sub.dropped == 0
    first = Insight.model_validate((await anext(aiter(sub))).payload)
    assert first.severity == "critical"  # sent at once; the info one is held
    assert eng.published == 1
    clock.t = 0.4
    await eng.flush_due()
    assert eng.published == 1
    clock.t = 0.6
    await eng.flush_due()
    held = Insight.model_validate((await anext(aiter(sub))).payload)
    assert held.rule == "open-discussion" and eng.published == 2
    clock.t = 30  # inside the window: same (entity, rule) is suppressed
    assert await eng.observe(GraphDelta(repo=REPO, updated=[target.id])) == []
    clock.t = 61  # after it: reported again
    assert len(await eng.observe(GraphDelta(repo=REPO, updated=[target.id]))) == 1
    stored = await store.find(EntityQuery(repo=REPO, kinds=[EntityKind.INSIGHT]))
    assert len(stored) == 3 and {e.owner for e in stored} == {f"insights:{REPO}"}
    by_id = {e.id: e for e in stored}
    assert by_id[first.id].attrs["severity"] == "critical"
    assert by_id[first.id].attrs["entity_ids"] == [huge.id]
    annotated = await store.neighbors([target.id], [RelationKind.ANNOTATES], "in")
    assert len(annotated[target.id]) == 2


async def test_a_failing_rule_does_not_stop_the_others(store: SqliteGraphStore) -> None:
    async def broken(*_: object) -> list[object]:
        raise RuntimeError("boom")

    target = fn("d.py", "parse")
    issue = Entity.make(EntityKind.ISSUE, REPO, "#7", name="#7", attrs={"state": "open"})
    await store.apply(
        Batch(REPO, entities=[target, issue], relations=[rel(RelationKind.MENTIONS, issue, target)])
    )
    from kg.insights.rules import open_discussions

    eng = InsightEngine(
        store,
        None,
        rules=[broken, open_discussions],  # type: ignore[list-item]
        now=lambda: NOW,
    )
    got = await eng.observe(GraphDelta(repo=REPO, updated=[target.id]))
    assert [i.rule for i in got] == ["open-discussion"]


async def test_follow_observes_graph_deltas_from_a_subscription(store: SqliteGraphStore) -> None:
    target = fn("d.py", "parse")
    issue = Entity.make(EntityKind.ISSUE, REPO, "#7", name="#7", attrs={"state": "open"})
    await store.apply(
        Batch(REPO, entities=[target, issue], relations=[rel(RelationKind.MENTIONS, issue, target)])
    )
    source, sink = InProcessBus(), InProcessBus()
    out = sink.subscribe(["insight"])
    sub = source.subscribe(["graph.delta"])
    delta = GraphDelta(repo=REPO, updated=[target.id])
    await source.publish(Event.of("graph.delta", repo=REPO, payload=delta.model_dump()))
    await source.close()  # ends `sub` after the queued delta
    await engine(store, bus=sink).follow(sub)  # held insights are flushed when it ends
    got = Insight.model_validate((await anext(aiter(out))).payload)
    assert got.rule == "open-discussion" and got.evidence.entity_ids[0] == target.id


# -- review latency, over real GitHub webhook payload shapes --------------------------------

WEBHOOKS = Path(__file__).parents[2] / ".cache/webhooks-examples-7.6.1/package/api.github.com"


@pytest.fixture(scope="module")
def webhooks() -> dict[tuple[str, str], dict[str, Any]]:
    if not (WEBHOOKS / "index.json").exists():  # fetched through npm by the test command
        script = Path(__file__).parents[2] / "scripts/fetch-webhook-examples.sh"
        subprocess.run(["bash", str(script)], check=True)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for e in json.loads((WEBHOOKS / "index.json").read_text()):
        for ex in e["examples"]:
            out.setdefault((e["name"], str(ex.get("action"))), ex)
    return out


async def pull(
    store: SqliteGraphStore,
    hooks: dict[tuple[str, str], dict[str, Any]],
    number: int,
    opened: datetime,
    reviewed: datetime | None = None,
) -> GraphDelta:
    """Pull request ``number`` opened at ``opened`` and, if given, reviewed at ``reviewed``
    by someone else, as GitHub's pull_request and pull_request_review webhooks carry them."""
    body = copy.deepcopy(hooks[("pull_request", "opened")])
    body["pull_request"].update(number=number, created_at=opened.isoformat())
    batch = payload_batch(REPO, "pull_request", body)
    assert batch is not None
    if reviewed is not None:
        review = copy.deepcopy(hooks[("pull_request_review", "submitted")])
        review["pull_request"].update(number=number, created_at=opened.isoformat())
        review["review"].update(
            id=10_000 + number, submitted_at=reviewed.isoformat(), user={"login": "reviewer"}
        )
        more = payload_batch(REPO, "pull_request_review", review)
        assert more is not None
        batch.extend(more)
    return await store.apply(batch)


async def test_review_latency_k_sigma_scales_severity_with_the_wait(
    store: SqliteGraphStore, webhooks: dict[tuple[str, str], dict[str, Any]]
) -> None:
    start = NOW - timedelta(days=400)
    hours = [0.5, 1, 2, 3, 5, 8, 12, 20, 26, 30]  # how long real reviews take: a wide spread
    for i, h in enumerate(hours * 2):
        await pull(store, webhooks, 100 + i, start, start + timedelta(hours=h))
    ordinary = await pull(store, webhooks, 1, start, start + timedelta(hours=6))
    assert await engine(store).observe(ordinary) == []
    # an open pull request nobody has reviewed for almost a year: judged on its age so far
    waiting = await pull(store, webhooks, 3, NOW - timedelta(days=360))
    (crit,) = [i for i in await engine(store).observe(waiting) if i.rule.endswith("latency")]
    assert crit.severity == "critical" and crit.evidence.numbers["z"] >= 6
    assert crit.evidence.numbers["waiting"] == 1 and "still waiting" in crit.title
    slow = await pull(store, webhooks, 2, start, start + timedelta(days=12))
    (warn,) = [i for i in await engine(store).observe(slow) if i.rule.endswith("review-latency")]
    n = warn.evidence.numbers
    assert warn.severity == "warning" and n["hours"] == 288 and n["peers"] == 21
    assert 3 <= n["z"] < crit.evidence.numbers["z"] and 3 < n["typical_hours"] < 12
    assert "waited 12.0 days for a first review" in warn.explanation and n["waiting"] == 0
    assert warn.evidence.entity_ids[0] == entity_id(EntityKind.PULL_REQUEST, REPO, "#2")


async def test_an_isolated_insight_is_pushed_at_once_a_burst_is_grouped(
    store: SqliteGraphStore,
) -> None:
    targets = [fn("d.py", f"f{i}") for i in range(3)]
    issue = Entity.make(EntityKind.ISSUE, REPO, "#7", name="#7", attrs={"state": "open"})
    mentions = [rel(RelationKind.MENTIONS, issue, t) for t in targets]
    await store.apply(Batch(REPO, entities=[*targets, issue], relations=mentions))
    bus, clock = InProcessBus(), Clock()
    sub = bus.subscribe(["insight"])
    eng = engine(store, bus, clock, batch_window=0.5)
    clock.t = 100.0  # an edit after a quiet period: no reason to wait
    await eng.observe(GraphDelta(repo=REPO, updated=[targets[0].id]))
    assert eng.published == 1 and sub.dropped == 0
    clock.t = 100.1  # the next edits of a burst: held, then published together
    await eng.observe(GraphDelta(repo=REPO, updated=[targets[1].id]))
    clock.t = 100.2
    await eng.observe(GraphDelta(repo=REPO, updated=[targets[2].id]))
    await eng.flush_due()
    assert eng.published == 1
    clock.t = 100.6
    await eng.flush_due()
    assert eng.published == 3
    got = [Insight.model_validate((await anext(aiter(sub))).payload) for _ in range(3)]
    assert [i.evidence.entity_ids[0] for i in got] == [t.id for t in targets]
