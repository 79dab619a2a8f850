"""The insights engine: runs the rules over each change, keeps quiet about what it said
recently, stores every insight (queryable history) and publishes them on the bus.

* De-duplicated per (subject entity, rule) within ``dedup_window`` seconds.
* Critical insights are published at once; the others at most once per ``batch_window``
  seconds: right away when nothing was published within the window (an isolated edit is not
  kept waiting), else held and published together when the window has passed
  (``flush_due``), so a burst of edits does not flood subscribers.
* Stored as ``Insight`` entities (attrs: rule, severity, title, explanation, entity_ids,
  numbers as JSON, paths, time), owner ``insights:<repo>``, linked to their subject with
  ANNOTATES; published as ``insight`` events whose payload is ``Insight.model_dump(mode="json")``.

    engine = InsightEngine(store, bus)
    await engine.observe(delta, before=symbols_before, changed_paths=["pkg/a.py"])
    await engine.flush()
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from kg.events.base import Event, EventBus, Subscription
from kg.events.schema import Insight
from kg.insights.review import review_latency
from kg.insights.rules import RULES, Change, Finding, InsightConfig, Rule
from kg.model import (
    SYMBOL_KINDS,
    Batch,
    Entity,
    EntityKind,
    GraphDelta,
    Relation,
    RelationKind,
    entity_id,
)
from kg.stores.base import GraphStore
from kg.telemetry import tracer

log = logging.getLogger(__name__)

MAX_LOOKUP = 2000  # entities of one delta examined (a full re-index is not an edit session)
DEDUP_MEMORY = 100_000
EDIT_ATTRS = ("signature", "complexity", "docstring", "decorators", "bases")
DISCUSSION_KINDS = (EntityKind.ISSUE, EntityKind.PULL_REQUEST, EntityKind.COMMENT)
DEFAULT_RULES: Sequence[Rule] = (*RULES, review_latency)


def insight_scope(repo: str) -> str:
    return f"insights:{repo}"


class InsightEngine:
    def __init__(
        self,
        store: GraphStore,
        bus: EventBus | None,
        config: InsightConfig | None = None,
        *,
        rules: Sequence[Rule] = DEFAULT_RULES,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._bus = bus
        self.config = config or InsightConfig()
        self._rules = rules
        self._clock = clock
        self._now = now
        self._recent: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._pending: list[Insight] = []
        self._last_publish: float | None = None
        self.published = 0
        self.suppressed = 0

    async def observe(
        self,
        delta: GraphDelta,
        *,
        before: Mapping[str, Entity] | None = None,
        changed_paths: Sequence[str] = (),
    ) -> list[Insight]:
        """Run every rule over this change; returns the insights that were not duplicates."""
        with tracer.start_as_current_span("insights.observe", attributes={"repo": delta.repo}):
            change = await self._change(delta, before or {}, changed_paths)
            findings: list[Finding] = []
            for rule in self._rules:
                try:
                    findings += await rule(self._store, change, self.config)
                except Exception:  # a broken rule must not stop the others or the worker
                    log.exception("insight rule %s failed on %s", rule.__name__, delta.repo)
            fresh = [self._insight(delta.repo, f) for f in findings if self._is_new(f)]
            if fresh:
                await self._store_insights(delta.repo, fresh, findings)
                await self._queue(fresh)
            return fresh

    async def _change(
        self, delta: GraphDelta, before: Mapping[str, Entity], changed_paths: Sequence[str]
    ) -> Change:
        ids = (delta.added + delta.updated)[:MAX_LOOKUP]
        entities = [e for e in await self._store.get(ids) if e is not None]
        edited = [e for e in entities if e.kind in SYMBOL_KINDS and _edited(e, before.get(e.id))]
        commits = [e for e in entities if e.kind is EntityKind.COMMIT]
        discussions = [e for e in entities if e.kind in DISCUSSION_KINDS]
        paths = set(delta.paths) | set(changed_paths)
        paths |= {e.path for e in edited if e.path}
        file_ids = [entity_id(EntityKind.FILE, delta.repo, p) for p in sorted(paths)]
        files = [e for e in await self._store.get(file_ids[:MAX_LOOKUP]) if e is not None]
        return Change(delta.repo, edited, files, commits, paths, self._now(), before, discussions)

    def _is_new(self, finding: Finding) -> bool:
        key = (finding.subject, finding.rule)
        now = self._clock()
        last = self._recent.get(key)
        if last is not None and now - last < self.config.dedup_window:
            self.suppressed += 1
            return False
        self._recent[key] = now
        self._recent.move_to_end(key)
        while len(self._recent) > DEDUP_MEMORY:
            self._recent.popitem(last=False)
        return True

    def _insight(self, repo: str, f: Finding) -> Insight:
        when = self._now()
        # every emission is its own record in the history, even within the same instant
        key = f"{f.rule}|{f.subject}|{when.isoformat()}|{uuid.uuid4().hex}"
        iid = entity_id(EntityKind.INSIGHT, repo, key)
        return Insight(
            id=iid,
            repo=repo,
            rule=f.rule,
            severity=f.severity,
            title=f.title,
            explanation=f.explanation,
            evidence=f.evidence,
            paths=[p for p in f.paths if p],
            time=when,
        )

    async def _store_insights(
        self, repo: str, insights: Sequence[Insight], findings: Sequence[Finding]
    ) -> None:
        scope = insight_scope(repo)
        batch = Batch(repo=repo)
        for i in insights:
            batch.entities.append(
                Entity(
                    id=i.id,
                    kind=EntityKind.INSIGHT,
                    repo=repo,
                    key=i.id.split(":", 1)[1],
                    name=i.title,
                    owner=scope,
                    path=i.paths[0] if i.paths else None,
                    attrs={
                        "rule": i.rule,
                        "severity": i.severity,
                        "title": i.title,
                        "explanation": i.explanation,
                        "entity_ids": list(i.evidence.entity_ids),
                        "numbers": json.dumps(i.evidence.numbers, sort_keys=True),
                        "paths": list(i.paths),
                        "time": i.time.isoformat(),
                    },
                )
            )
            for target in i.evidence.entity_ids[:1]:
                batch.relations.append(
                    Relation(
                        RelationKind.ANNOTATES,
                        i.id,
                        target,
                        provenance=f"insights:{i.rule}",
                        owner=scope,
                    )
                )
        await self._store.apply(batch)

    async def _queue(self, insights: Sequence[Insight]) -> None:
        await self._publish([i for i in insights if i.severity == "critical"])
        self._pending += [i for i in insights if i.severity != "critical"]
        await self.flush_due()  # a critical one just published counts: the rest are held

    def _quiet(self) -> bool:
        last = self._last_publish
        return last is None or self._clock() - last >= self.config.batch_window

    async def flush_due(self) -> None:
        """Publish held insights once the batch window since the last publication passed."""
        if self._pending and self._quiet():
            await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        await self._publish(pending)

    async def _publish(self, insights: Sequence[Insight]) -> None:
        if self._bus is None:
            return
        for i in insights:
            payload = i.model_dump(mode="json")
            await self._bus.publish(Event.of("insight", repo=i.repo, payload=payload))
            self.published += 1
        if insights:
            self._last_publish = self._clock()

    async def follow(self, sub: Subscription) -> None:
        """Standalone mode: observe every ``graph.delta`` of a subscription until it ends."""
        async for event in sub:
            if event.type == "graph.delta":
                await self.observe(GraphDelta.model_validate(event.payload))
            await self.flush_due()
        await self.flush()


def _edited(after: Entity, before: Entity | None) -> bool:
    """Added, or its content changed; a symbol merely moved by an edit above it is not."""
    if before is None:
        return True
    if any(after.attrs.get(k) != before.attrs.get(k) for k in EDIT_ATTRS):
        return True
    a, b = after.span, before.span
    if a is None or b is None:
        return a != b
    return (a.end_line - a.start_line) != (b.end_line - b.start_line)
