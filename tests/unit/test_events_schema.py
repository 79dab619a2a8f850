"""Event payload schemas: versioned validation, dead letters, source-event routing."""

from __future__ import annotations

import pytest

from kg.errors import InvalidInput
from kg.events.base import Event
from kg.events.schema import (
    DEAD_LETTER,
    CommitPushed,
    DeadLetter,
    DiscussionEvent,
    FileChanged,
    Insight,
    is_source_event,
    parse_payload,
)
from kg.events.source import Delivery, dead_letter_event


def test_parse_payload_by_type_and_version() -> None:
    ev = Event.of("file.changed", repo="r", payload={"path": "a.py", "content": "x"})
    assert parse_payload(ev) == FileChanged(path="a.py", content="x")
    push = Event.of("commit.pushed", repo="r", payload={"after": "abc"})
    assert parse_payload(push) == CommitPushed(after="abc")
    hook = Event.of("discussion.issues", repo="r", payload={"event": "issues", "body": {}})
    assert isinstance(parse_payload(hook), DiscussionEvent)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (Event(type="file.changed", version=2, repo="r", payload={"path": "a"}), "v2"),
        (Event.of("file.changed", repo="r", payload={}), "field 'path'"),
        (Event.of("file.changed", repo="r", payload={"path": "a", "x": 1}), "field 'x'"),
        (Event.of("nope", repo="r", payload={}), "unknown event type"),
    ],
)
def test_invalid_payloads_name_what_is_wrong(event: Event, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_payload(event)


def test_source_events_are_the_worker_inputs() -> None:
    kinds = ["file.changed", "commit.pushed", "ingest.requested", "discussion.pull_request"]
    assert all(is_source_event(Event.of(k, repo="r", payload={})) for k in kinds)
    assert not any(
        is_source_event(Event.of(k, repo="r", payload={}))
        for k in ("graph.delta", "insight", DEAD_LETTER)
    )


def test_dead_letter_keeps_the_event_or_the_raw_record() -> None:
    original = Event.of("file.changed", repo="r", payload={})
    letter = dead_letter_event(Delivery(original, topic="t", partition=1, offset=5), "bad", "k")
    assert letter.type == DEAD_LETTER and letter.repo == "r"
    parsed = parse_payload(letter)
    assert isinstance(parsed, DeadLetter)
    assert parsed.event is not None and parsed.event["id"] == original.id
    assert (parsed.topic, parsed.partition, parsed.offset) == ("t", 1, 5)
    raw = dead_letter_event(Delivery(None, error="x", raw=b"\xff{"), "not json", "k")
    assert DeadLetter.model_validate(raw.payload).raw == "\ufffd{"


def test_insight_payload_round_trips_as_json() -> None:
    insight = Insight(
        id="Insight:1", repo="r", rule="hotspot", severity="warning", title="t", explanation="e"
    )
    event = Event.of("insight", repo="r", payload=insight.model_dump(mode="json"))
    assert parse_payload(Event.model_validate_json(event.model_dump_json())) == insight
