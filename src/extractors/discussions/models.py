"""Pydantic models of the GitHub objects codekg reads; unknown fields are ignored.

Only what the graph uses is declared, so the same models validate webhook payloads and REST
responses; a missing or mistyped field raises with its path (``issue.number``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class User(_Model):
    login: str
    id: int | None = None


class Issue(_Model):
    number: int
    title: str
    state: str = "open"
    body: str | None = None
    html_url: str = ""
    user: User | None = None
    created_at: str = ""
    closed_at: str | None = None
    pull_request: dict[str, Any] | None = None  # set when a REST issue is really a PR

    @property
    def is_pull(self) -> bool:
        return self.pull_request is not None


class Ref(_Model):
    sha: str | None = None
    ref: str | None = None


class PullRequest(_Model):
    number: int
    title: str
    state: str = "open"
    body: str | None = None
    html_url: str = ""
    user: User | None = None
    created_at: str = ""
    merged_at: str | None = None
    merge_commit_sha: str | None = None
    head: Ref | None = None


class Comment(_Model):
    """An issue comment, a pull request review comment, a commit or discussion comment."""

    id: int
    body: str | None = None
    html_url: str = ""
    user: User | None = None
    created_at: str = ""
    # review comments: where in the diff
    path: str | None = None
    line: int | None = None
    original_line: int | None = None
    commit_id: str | None = None
    pull_request_review_id: int | None = None
    # REST listings say what a comment belongs to by URL
    issue_url: str | None = None
    pull_request_url: str | None = None


class Review(_Model):
    id: int
    state: str = ""
    body: str | None = None
    html_url: str = ""
    user: User | None = None
    submitted_at: str | None = None
    commit_id: str | None = None
    pull_request_url: str | None = None


class Discussion(_Model):
    number: int
    title: str
    body: str | None = None
    html_url: str = ""
    user: User | None = None
    created_at: str = ""
    state: str = "open"


class Thread(_Model):
    comments: list[Comment] = Field(default_factory=list)


class Payload(_Model):
    """A webhook payload: the objects of the events codekg reads, all optional here; which one
    is required depends on the event (checked in ``webhook``)."""

    action: str | None = None
    issue: Issue | None = None
    pull_request: PullRequest | None = None
    comment: Comment | None = None
    review: Review | None = None
    discussion: Discussion | None = None
    thread: Thread | None = None
