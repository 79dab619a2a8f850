"""GitHub webhook payloads -> one Batch each (pure; validated before anything is built).

    batch = payload_batch("codekg", "issue_comment", json.loads(body))   # None: not ours

Events read: issues, issue_comment, pull_request, pull_request_review,
pull_request_review_comment, pull_request_review_thread, discussion, discussion_comment,
commit_comment. Any other event (push, star, ...) yields None. A payload that lacks what its
event needs, or has a field of the wrong type, raises ``InvalidInput`` naming the field; since
the batch is only returned whole, a rejected payload writes nothing. A ``deleted`` action yields
a batch that removes the object and what it owned, and does not describe it again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from extractors.discussions.convert import Converter
from extractors.discussions.models import Payload
from kg.errors import InvalidInput
from kg.model import Batch, EntityKind, entity_id

EVENTS: dict[str, tuple[str, ...]] = {
    "issues": ("issue",),
    "issue_comment": ("issue", "comment"),
    "pull_request": ("pull_request",),
    "pull_request_review": ("pull_request", "review"),
    "pull_request_review_comment": ("pull_request", "comment"),
    "pull_request_review_thread": ("pull_request", "thread"),
    "discussion": ("discussion",),
    "discussion_comment": ("discussion", "comment"),
    "commit_comment": ("comment",),
}


def validation_message(what: str, exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "payload"
    return f"{what} rejected, nothing written: field {where!r}: {first['msg']}"


def parse_payload(event: str, body: Mapping[str, Any]) -> Payload | None:
    """The validated payload, or None for an event codekg does not read."""
    needs = EVENTS.get(event)
    if needs is None:
        return None
    if not isinstance(body, Mapping):
        raise InvalidInput(
            f"{event} payload rejected: expected a JSON object, got {type(body).__name__}"
        )
    try:
        payload = Payload.model_validate(body)
    except ValidationError as exc:
        raise InvalidInput(validation_message(f"{event} payload", exc)) from exc
    for name in needs:
        if getattr(payload, name) is None:
            raise InvalidInput(
                f"{event} payload rejected, nothing written: field {name!r} is missing; a "
                f"{event} webhook always carries it (is the X-GitHub-Event header right?)"
            )
    return payload


def payload_batch(repo: str, event: str, body: Mapping[str, Any]) -> Batch | None:
    payload = parse_payload(event, body)
    if payload is None:
        return None
    conv = Converter(repo)
    _HANDLERS[event](conv, payload)
    return conv.batch


def _deleted(p: Payload) -> bool:
    return p.action == "deleted"


def _issues(conv: Converter, p: Payload) -> None:
    assert p.issue is not None
    iid = conv.issue(p.issue)
    if _deleted(p):
        conv.delete(iid)


def _commented(kind: str) -> Callable[[Converter, Payload], None]:
    def handle(conv: Converter, p: Payload) -> None:
        assert p.comment is not None
        if p.issue is not None:
            parent: str | None = conv.issue(p.issue)
        elif p.pull_request is not None:
            parent = conv.pull(p.pull_request)
        elif p.discussion is not None:
            parent = conv.discussion(p.discussion)
        else:  # a commit comment: on the commit, if the history knows it
            sha = p.comment.commit_id
            parent = entity_id(EntityKind.COMMIT, conv.repo, sha) if sha else None
        cid = conv.comment(p.comment, kind, parent)
        if _deleted(p):
            conv.delete(cid)

    return handle


def _pull(conv: Converter, p: Payload) -> None:
    assert p.pull_request is not None
    conv.pull(p.pull_request)


def _review(conv: Converter, p: Payload) -> None:
    assert p.pull_request is not None and p.review is not None
    conv.review(p.review, conv.pull(p.pull_request))


def _thread(conv: Converter, p: Payload) -> None:
    assert p.pull_request is not None and p.thread is not None
    pid = conv.pull(p.pull_request)
    for c in p.thread.comments:
        conv.comment(c, "review-comment", pid)


def _discussion(conv: Converter, p: Payload) -> None:
    assert p.discussion is not None
    did = conv.discussion(p.discussion)
    if _deleted(p):
        conv.delete(did)


_HANDLERS: dict[str, Callable[[Converter, Payload], None]] = {
    "issues": _issues,
    "issue_comment": _commented("issue-comment"),
    "pull_request": _pull,
    "pull_request_review": _review,
    "pull_request_review_comment": _commented("review-comment"),
    "pull_request_review_thread": _thread,
    "discussion": _discussion,
    "discussion_comment": _commented("discussion-comment"),
    "commit_comment": _commented("commit-comment"),
}
