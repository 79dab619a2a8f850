"""REST API JSON exports on disk -> one Batch (pure; the whole export is validated first).

An export is either ``{"issues": [...], "pulls": [...], "comments": [...],
"review_comments": [...], "reviews": [...]}`` (what ``extractors.discussions.github`` writes) or
one REST listing (a JSON array) whose objects are recognised by their fields. A webhook payload
file may also be given as ``{"event": "<X-GitHub-Event>", "payload": {...}}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from extractors.discussions.convert import Converter, number_id
from extractors.discussions.models import Comment, Issue, PullRequest, Review
from extractors.discussions.webhook import payload_batch, validation_message
from kg.errors import InvalidInput
from kg.model import Batch

SECTIONS = ("issues", "pulls", "comments", "review_comments", "reviews")
_NUMBER = re.compile(r"/(?:issues|pulls)/(\d+)$")


def _kind(item: Mapping[str, Any]) -> str:
    if "head" in item and "number" in item:
        return "pulls"
    if "number" in item:
        return "issues"
    if "submitted_at" in item or ("state" in item and "pull_request_url" in item):
        return "reviews"
    if "path" in item and "pull_request_url" in item:
        return "review_comments"
    return "comments"


_MODELS: dict[str, type[BaseModel]] = {
    "issues": Issue,
    "pulls": PullRequest,
    "comments": Comment,
    "review_comments": Comment,
    "reviews": Review,
}


def _validated(sections: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for name, items in sections.items():
        model = _MODELS[name]
        out[name] = []
        for i, item in enumerate(items):
            try:
                out[name].append(model.model_validate(item))
            except ValidationError as exc:
                raise InvalidInput(validation_message(f"export section {name}[{i}]", exc)) from exc
    return out


def _number(url: str | None) -> int | None:
    m = _NUMBER.search(url or "")
    return int(m.group(1)) if m else None


def export_batch(repo: str, data: Any) -> Batch:
    """The batch of one export (see the module doc); ``InvalidInput`` names what is wrong."""
    if isinstance(data, Mapping) and "event" in data and "payload" in data:
        batch = payload_batch(repo, str(data["event"]), data["payload"])
        return batch if batch is not None else Batch(repo=repo)
    if isinstance(data, list):
        sections: dict[str, list[Any]] = {s: [] for s in SECTIONS}
        for item in data:
            if not isinstance(item, Mapping):
                raise InvalidInput("export rejected: a listing must hold JSON objects")
            sections[_kind(item)].append(item)
    elif isinstance(data, Mapping) and set(data) & set(SECTIONS):
        sections = {s: list(data.get(s) or []) for s in SECTIONS}
    else:
        raise InvalidInput(
            "export rejected: expected a REST listing (JSON array) or an object with any of "
            f"{', '.join(SECTIONS)}"
        )
    return _convert(repo, _validated(sections))


def _convert(repo: str, s: dict[str, list[Any]]) -> Batch:
    conv = Converter(repo)
    pulls = {p.number for p in s["pulls"]} | {i.number for i in s["issues"] if i.is_pull}
    for p in s["pulls"]:
        conv.pull(p)
    for i in s["issues"]:
        if not (i.is_pull and i.number in {p.number for p in s["pulls"]}):
            conv.issue(i)
    for c in s["comments"]:
        n = _number(c.issue_url)
        conv.comment(c, "issue-comment", None if n is None else number_id(repo, n, n in pulls))
    for c in s["review_comments"]:
        n = _number(c.pull_request_url)
        conv.comment(c, "review-comment", None if n is None else number_id(repo, n, True))
    for r in s["reviews"]:
        n = _number(r.pull_request_url)
        conv.review(r, None if n is None else number_id(repo, n, True))
    return conv.batch
