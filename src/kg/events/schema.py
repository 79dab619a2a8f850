"""Versioned, validated event payloads: what flows on the bus besides the envelope.

Source events (into the pipeline): ``commit.pushed``, ``file.changed``, ``discussion.*``,
``ingest.requested``. Output events: ``graph.delta`` (payload = ``kg.model.GraphDelta``),
``ingest.progress`` and ``insight``. ``parse_payload`` validates an envelope's payload against
the model for its type and version and raises ``InvalidInput`` naming the failing field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kg.errors import InvalidInput
from kg.events.base import Event
from kg.model import GraphDelta

Severity = Literal["info", "warning", "critical"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FileChanged(_Payload):
    """A saved file: ``content`` given by an editor, or read from disk when None."""

    path: str
    content: str | None = None
    deleted: bool = False
    root: str | None = None


class CommitPushed(_Payload):
    ref: str = "HEAD"
    after: str
    before: str | None = None
    root: str | None = None


class IngestRequested(_Payload):
    source: str
    job: str | None = None


class DiscussionEvent(_Payload):
    """A GitHub webhook payload as received (``event`` is the X-GitHub-Event header)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event: str
    action: str | None = None
    body: dict[str, Any]


class IngestProgress(_Payload):
    job: str
    stage: str
    done: int
    total: int
    state: Literal["queued", "running", "succeeded", "failed"] = "running"
    message: str = ""


class Evidence(_Payload):
    entity_ids: list[str] = Field(default_factory=list)
    numbers: dict[str, float] = Field(default_factory=dict)


class Insight(_Payload):
    """Something a developer should know about a change, with why and how sure."""

    id: str
    repo: str
    rule: str
    severity: Severity
    title: str
    explanation: str
    evidence: Evidence = Field(default_factory=Evidence)
    paths: list[str] = Field(default_factory=list)
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))


DEAD_LETTER = "event.dead"
# What a worker consumes; ``discussion.<name>`` events are matched by prefix.
SOURCE_TYPES: tuple[str, ...] = ("file.changed", "commit.pushed", "ingest.requested")
DISCUSSION_PREFIX = "discussion."


def is_source_event(event: Event) -> bool:
    """Whether a worker consumes this event type."""
    return event.type in SOURCE_TYPES or event.type.startswith(DISCUSSION_PREFIX)


class DeadLetter(_Payload):
    """A poison event parked with why it was rejected (``raw`` when not even an envelope)."""

    error: str
    source: str
    event: dict[str, Any] | None = None
    raw: str | None = None
    topic: str = ""
    partition: int = -1
    offset: int = -1


PAYLOADS: dict[tuple[str, int], type[BaseModel]] = {
    ("file.changed", 1): FileChanged,
    ("commit.pushed", 1): CommitPushed,
    ("ingest.requested", 1): IngestRequested,
    ("ingest.progress", 1): IngestProgress,
    ("graph.delta", 1): GraphDelta,
    ("insight", 1): Insight,
    (DEAD_LETTER, 1): DeadLetter,
}


def parse_payload(event: Event) -> BaseModel:
    """The typed payload of ``event``; ``discussion.<name>`` events are DiscussionEvent."""
    model: type[BaseModel] | None = PAYLOADS.get((event.type, event.version))
    if model is None and event.type.startswith("discussion.") and event.version == 1:
        model = DiscussionEvent
    if model is None:
        raise InvalidInput(
            f"unknown event type/version {event.type!r} v{event.version}; known: "
            + ", ".join(sorted(f"{t} v{v}" for t, v in PAYLOADS))
        )
    try:
        return model.model_validate(event.payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        raise InvalidInput(
            f"{event.type} v{event.version}: field {where!r}: {first['msg']}"
        ) from exc
