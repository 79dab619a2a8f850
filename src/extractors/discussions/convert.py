"""Validated GitHub objects -> graph entities, relations and text documents (pure).

Keys: an Issue or PullRequest is ``#<number>`` (GitHub numbers issues, pull requests and
discussions in one sequence; a discussion is an Issue with ``discussion: true``); a comment is
``<type>:<id>`` (``issue-comment``, ``review-comment``, ``review``, ``discussion-comment``,
``commit-comment``); a GitHub user is the Person ``github:<login>``. Each object's facts are
owned by ``gh:<repo>:<key>``, so a newer payload for the same object replaces them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from extractors.discussions.models import Comment, Discussion, Issue, PullRequest, Review, User
from kg.model import (
    AttrValue,
    Batch,
    Document,
    Entity,
    EntityKind,
    Relation,
    RelationKind,
    entity_id,
)

PROVENANCE = "discussion:github"


def gh_scope(repo: str, key: str) -> str:
    return f"gh:{repo}:{key}"


def number_id(repo: str, number: int, pull: bool) -> str:
    kind = EntityKind.PULL_REQUEST if pull else EntityKind.ISSUE
    return entity_id(kind, repo, f"#{number}")


@dataclass(slots=True)
class Converter:
    """Accumulates objects of one payload or export into one batch."""

    repo: str
    batch: Batch = field(init=False)

    def __post_init__(self) -> None:
        self.batch = Batch(repo=self.repo)

    def _person(self, user: User | None, scope: str, target: str) -> None:
        if user is None:
            return
        person = Entity.make(
            EntityKind.PERSON,
            self.repo,
            f"github:{user.login}",
            name=user.login,
            owner=f"gh:{self.repo}:people",
            attrs={"login": user.login},
        )
        self.batch.entities.append(person)
        self.batch.relations.append(
            Relation(RelationKind.AUTHORED, person.id, target, provenance=PROVENANCE, owner=scope)
        )

    def _node(
        self,
        kind: EntityKind,
        key: str,
        name: str,
        text: str,
        user: User | None,
        attrs: dict[str, AttrValue],
    ) -> str:
        scope = gh_scope(self.repo, key)
        entity = Entity.make(
            kind,
            self.repo,
            key,
            name=name,
            owner=scope,
            attrs={**attrs, "author": user.login if user else ""},
        )
        self.batch.entities.append(entity)
        self.batch.replace_scopes.add(scope)
        self._person(user, scope, entity.id)
        if text.strip():
            self.batch.documents.append(
                Document(
                    entity_id=entity.id,
                    repo=self.repo,
                    kind=kind,
                    text=text[:8000],
                    vector="text",
                    payload={"kind": kind.value, "author": user.login if user else ""},
                )
            )
        return entity.id

    def issue(self, i: Issue, *, discussion: bool = False) -> str:
        if i.is_pull:
            return self._numbered(
                EntityKind.PULL_REQUEST,
                i.number,
                i.title,
                i.state,
                i.body,
                i.html_url,
                i.user,
                i.created_at,
                {},
            )
        extra: dict[str, AttrValue] = {"discussion": True} if discussion else {}
        return self._numbered(
            EntityKind.ISSUE,
            i.number,
            i.title,
            i.state,
            i.body,
            i.html_url,
            i.user,
            i.created_at,
            extra,
        )

    def discussion(self, d: Discussion) -> str:
        return self._numbered(
            EntityKind.ISSUE,
            d.number,
            d.title,
            d.state,
            d.body,
            d.html_url,
            d.user,
            d.created_at,
            {"discussion": True},
        )

    def pull(self, p: PullRequest) -> str:
        extra: dict[str, AttrValue] = {
            "merged": p.merged_at is not None,
            "mergeCommit": p.merge_commit_sha or "",
            "headSha": p.head.sha or "" if p.head else "",
        }
        return self._numbered(
            EntityKind.PULL_REQUEST,
            p.number,
            p.title,
            p.state,
            p.body,
            p.html_url,
            p.user,
            p.created_at,
            extra,
        )

    def _numbered(
        self,
        kind: EntityKind,
        number: int,
        title: str,
        state: str,
        body: str | None,
        url: str,
        user: User | None,
        created: str,
        extra: dict[str, AttrValue],
    ) -> str:
        attrs: dict[str, AttrValue] = {
            "number": number,
            "title": title,
            "state": state,
            "body": body or "",
            "url": url,
            "createdAt": created,
            **extra,
        }
        return self._node(kind, f"#{number}", f"#{number}", f"{title}\n\n{body or ''}", user, attrs)

    def comment(self, c: Comment, kind: str, parent: str | None) -> str:
        attrs: dict[str, AttrValue] = {
            "id": c.id,
            "type": kind,
            "body": c.body or "",
            "url": c.html_url,
            "createdAt": c.created_at,
        }
        if c.path is not None:
            attrs["path"] = c.path
            line = c.line if c.line is not None else c.original_line
            if line is not None:
                attrs["line"] = line
            if c.commit_id:
                attrs["commit"] = c.commit_id
        cid = self._node(
            EntityKind.COMMENT, f"{kind}:{c.id}", f"{kind}:{c.id}", c.body or "", c.user, attrs
        )
        self._comments_on(cid, parent, f"{kind}:{c.id}")
        return cid

    def review(self, r: Review, pull: str | None) -> str:
        attrs: dict[str, AttrValue] = {
            "id": r.id,
            "type": "review",
            "state": r.state,
            "body": r.body or "",
            "url": r.html_url,
            "createdAt": r.submitted_at or "",
        }
        rid = self._node(
            EntityKind.COMMENT, f"review:{r.id}", f"review:{r.id}", r.body or "", r.user, attrs
        )
        self._comments_on(rid, pull, f"review:{r.id}")
        if pull is not None and r.user is not None:
            self.batch.relations.append(
                Relation(
                    RelationKind.REVIEWS,
                    entity_id(EntityKind.PERSON, self.repo, f"github:{r.user.login}"),
                    pull,
                    provenance=PROVENANCE,
                    owner=gh_scope(self.repo, f"review:{r.id}"),
                    attrs={"state": r.state, "review": r.id},
                )
            )
        return rid

    def _comments_on(self, src: str, parent: str | None, key: str) -> None:
        if parent is not None:
            self.batch.relations.append(
                Relation(
                    RelationKind.COMMENTS_ON,
                    src,
                    parent,
                    provenance=PROVENANCE,
                    owner=gh_scope(self.repo, key),
                )
            )

    def delete(self, eid: str) -> None:
        """Remove ``eid`` instead of describing it: a ``deleted`` payload still carries the
        object, and a store applies deletions before upserts, so its entity, edges or text
        left in the batch would bring it straight back. Its scope stays replaced, so what it
        owned (edges, links) goes too; the author and the parent thread are still upserted."""
        b = self.batch
        b.entities = [e for e in b.entities if e.id != eid]
        b.relations = [r for r in b.relations if eid not in (r.src, r.dst)]
        b.documents = [d for d in b.documents if d.entity_id != eid]
        b.deletions.append(eid)
