"""The git history extractor: commits, people and what each commit modified.

One ``git log`` subprocess streams the history (parents before children), parsed incrementally
by ``extractors.gitlog``; batches of ``batch_size`` commits come out with the last commit's sha
as the resume state::

    git = GitExtractor()
    ok, why = git.applies(RepoContext("codekg", Path(".")))
    for rb in git.extract_repo(RepoContext("codekg", Path(".")), state=None):
        await store.apply(rb.batch)          # then record rb.state

Resuming from ``state`` runs ``<state>..HEAD``. In topological order every ancestor of a commit
comes before it, so no commit is ever lost on resume; side-branch commits emitted before the
state commit may be emitted again, which is harmless (upserts are idempotent).

File entities belong to the code extractor: MODIFIES points at ``entity_id(FILE, repo, path)``
and the store drops it when that file does not exist (e.g. deleted later in history).
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Generator, Iterator
from datetime import datetime
from typing import IO, Literal

from extractors.base import RepoBatch, RepoContext
from extractors.gitlog import LOG_FORMAT, RawCommit, parse_log, split_nul
from kg.errors import ExtractorError, InvalidInput
from kg.model import (
    Attrs,
    AttrValue,
    Batch,
    Document,
    Entity,
    EntityKind,
    Relation,
    RelationKind,
    Validity,
    entity_id,
)

PROVENANCE = "git:log"
_SHA = re.compile(r"^[0-9a-fA-F]{4,64}$")
_CHUNK = 1 << 16


def commit_scope(repo: str, sha: str) -> str:
    """Replace scope (and owner) of everything one commit produces."""
    return f"git:{repo}:{sha}"


class GitExtractor:
    """``RepoExtractor`` over ``git log``; ``all_branches`` walks every ref instead of HEAD."""

    name = "git"
    version = "1"

    def __init__(
        self, *, all_branches: bool = False, batch_size: int = 500, git: str = "git"
    ) -> None:
        if batch_size < 1:
            raise InvalidInput(f"GitExtractor batch_size must be at least 1, got {batch_size}")
        self.all_branches = all_branches
        self.batch_size = batch_size
        self._git = git

    # -- applies ---------------------------------------------------------------------------

    def applies(self, ctx: RepoContext) -> tuple[bool, str]:
        status, why = self._probe(ctx)
        return status == "ok", why

    def _probe(self, ctx: RepoContext) -> tuple[Literal["ok", "not-repo", "empty"], str]:
        if not ctx.root.is_dir():
            return "not-repo", f"not a git repository: {ctx.root} (no such directory)"
        try:
            probe = self._run(ctx, "rev-parse", "--git-dir")
        except FileNotFoundError:
            return "not-repo", (
                f"cannot read the history of {ctx.root}: the git executable {self._git!r} was "
                "not found; install git or put it on PATH"
            )
        if probe.returncode != 0:
            why = _first_line(probe.stderr)
            return "not-repo", (
                f"not a git repository: {ctx.root}; indexing code without history ({why})"
            )
        if not self._has_commits(ctx):
            return "empty", f"git repository {ctx.root} has no commits yet; no history to index"
        return "ok", ""

    def _has_commits(self, ctx: RepoContext) -> bool:
        if self.all_branches:
            out = self._run(ctx, "rev-list", "-n", "1", "--all")
            return out.returncode == 0 and bool(out.stdout.strip())
        return self._run(ctx, "rev-parse", "--verify", "-q", "HEAD^{commit}").returncode == 0

    # -- extract ---------------------------------------------------------------------------

    def extract_repo(
        self, ctx: RepoContext, state: str | None
    ) -> Generator[RepoBatch, None, None]:
        status, why = self._probe(ctx)
        if status == "empty":
            return  # an empty repository simply has no history yet
        if status == "not-repo":
            raise ExtractorError(why)
        revs, notes = self._revisions(ctx, state)
        if self._run(ctx, "rev-parse", "--is-shallow-repository").stdout.strip() == "true":
            notes.append("shallow clone: history before the clone depth is missing")
        note = "; ".join(notes)
        pending: list[RawCommit] = []
        for commit in self._stream(ctx, revs):
            # Flush only when the next commit arrives, so a batch never holds a commit whose
            # output git may have cut short by failing (checked at the end of the stream).
            if len(pending) >= self.batch_size:
                yield self._to_batch(ctx.repo, pending, note)
                note, pending = "", []
            pending.append(commit)
        if pending:
            yield self._to_batch(ctx.repo, pending, note)

    def _revisions(self, ctx: RepoContext, state: str | None) -> tuple[list[str], list[str]]:
        tip = ["--all"] if self.all_branches else ["HEAD"]
        if state is None:
            return tip, []
        if not _SHA.match(state) or self._run(
            ctx, "cat-file", "-e", f"{state}^{{commit}}"
        ).returncode != 0:
            return tip, [
                f"last indexed commit {state} no longer exists (history rewritten?); "
                "re-scanning the full history"
            ]
        if not self.all_branches:
            anc = self._run(ctx, "merge-base", "--is-ancestor", state, "HEAD")
            if anc.returncode != 0:
                return tip, [
                    f"last indexed commit {state} is not an ancestor of HEAD (force-push or "
                    "rebase?); re-scanning the full history"
                ]
        return [*tip, "--not", state], []

    def _stream(self, ctx: RepoContext, revs: list[str]) -> Iterator[RawCommit]:
        cmd = [
            self._git, "-C", str(ctx.root), "-c", "core.quotepath=off",
            "-c", "log.showSignature=false", "-c", "diff.renames=true",
            "log", "--reverse", "--topo-order", "--no-color", "--no-ext-diff", "--no-textconv",
            "--encoding=UTF-8", "--relative", "-M", "--raw", "--numstat", "-z",
            f"--format={LOG_FORMAT}", *revs, "--",
        ]
        with tempfile.TemporaryFile() as err:
            # stderr goes to a file: a pipe nobody reads could fill up and stall git
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
            assert proc.stdout is not None
            try:
                yield from parse_log(split_nul(_chunks(proc.stdout)))
                rc = proc.wait()
            finally:
                if proc.poll() is None:  # the consumer stopped early
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
            if rc != 0:
                err.seek(0)
                detail = _first_line(err.read().decode("utf-8", "replace"))
                raise ExtractorError(
                    f"git log failed in repository {ctx.repo!r} at {ctx.root}: {detail}; "
                    "run `git fsck` there to find broken objects"
                )

    def _to_batch(self, repo: str, commits: list[RawCommit], note: str) -> RepoBatch:
        batch = Batch(repo=repo)
        people: dict[str, Entity] = {}
        for c in commits:
            _add_commit(batch, people, repo, c)
        batch.entities.extend(people.values())
        return RepoBatch(batch=batch, state=commits[-1].sha, note=note)

    def _run(self, ctx: RepoContext, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self._git, "-C", str(ctx.root), *args],
            capture_output=True, text=True, errors="replace", check=False,
        )


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(_CHUNK):
        yield chunk


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0] if lines else "no error output"


def _time(iso: str) -> datetime | None:
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return None


def _add_commit(batch: Batch, people: dict[str, Entity], repo: str, c: RawCommit) -> None:
    scope = commit_scope(repo, c.sha)
    valid = Validity(from_commit=c.sha, from_time=_time(c.committer_time))
    cid = entity_id(EntityKind.COMMIT, repo, c.sha)
    insertions = sum(ch.added for ch in c.changes)
    deletions = sum(ch.removed for ch in c.changes)
    batch.entities.append(Entity.make(
        EntityKind.COMMIT, repo, c.sha, name=c.sha[:12], owner=scope, valid=valid,
        attrs={
            "sha": c.sha, "summary": c.summary, "message": c.message,
            "author_name": c.author_name, "author_email": c.author_email,
            "author_time": c.author_time, "committer_name": c.committer_name,
            "committer_email": c.committer_email, "committer_time": c.committer_time,
            "parents": list(c.parents), "files_changed": len(c.changes),
            "insertions": insertions, "deletions": deletions, "is_merge": len(c.parents) > 1,
        },
    ))
    email = c.author_email.strip().lower()
    key = email or f"name:{c.author_name.strip().lower()}"  # some imports carry no email
    person = Entity.make(
        EntityKind.PERSON, repo, key, name=c.author_name or email, owner=scope,
        attrs={"email": email},
    )
    people[key] = person  # latest commit wins: its name is the newest spelling

    def rel(kind: RelationKind, src: str, dst: str, attrs: Attrs | None = None) -> Relation:
        return Relation(
            kind=kind, src=src, dst=dst, provenance=PROVENANCE, owner=scope,
            attrs=dict(attrs or {}), valid=valid,
        )

    batch.relations.append(rel(RelationKind.AUTHORED, person.id, cid))
    for parent in c.parents:
        batch.relations.append(
            rel(RelationKind.PARENT_OF, entity_id(EntityKind.COMMIT, repo, parent), cid)
        )
    for ch in c.changes:
        attrs: dict[str, AttrValue] = {
            "change": ch.change, "added": ch.added, "removed": ch.removed, "binary": ch.binary,
        }
        if ch.old_path is not None:
            # attrs must be valid UTF-8 for every store; the id keeps the exact bytes
            attrs["old_path"] = ch.old_path.encode("utf-8", "replace").decode("utf-8")
        fid = entity_id(EntityKind.FILE, repo, ch.path)
        batch.relations.append(rel(RelationKind.MODIFIES, cid, fid, attrs))
    text = c.message if c.message else c.summary
    batch.documents.append(Document(
        entity_id=cid, repo=repo, kind=EntityKind.COMMIT, text=text, vector="text",
        payload={"kind": "commit", "author": c.author_name, "time": c.committer_time},
    ))
    batch.replace_scopes.add(scope)
