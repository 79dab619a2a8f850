"""The git history extractor: commits, people and what each commit modified.

One ``git log`` subprocess streams the history (parents before children), parsed incrementally
by ``extractors.gitlog``; a first batch carries the authors (identities merged by
``extractors.history.identity``), then batches of ``batch_size`` commits come out with the last
commit's sha as the resume state (``GitState``)::

    git = GitExtractor()
    ok, why = git.applies(RepoContext("codekg", Path(".")))
    for rb in git.extract_repo(RepoContext("codekg", Path(".")), state=None):
        await store.apply(rb.batch)          # then record rb.state

Resuming from ``state`` runs ``<state>..HEAD``. In topological order every ancestor of a commit
comes before it, so no commit is ever lost on resume; side-branch commits emitted before the
state commit may be emitted again, which is harmless (upserts are idempotent).

Renames are followed (``-M``; copies too with ``-C``): MODIFIES carries ``old_path`` and
``similarity``, and a rename adds File(old) -RENAMED_TO-> File(new) with confidence = git's
similarity. Files alive at HEAD that a file extractor claims belong to the code stage; every
other touched path gets a history-owned File (``extractors.history.paths``), so edges to deleted
and renamed files survive. Tags become a ``tags`` attr on their commit; when tags move, the
tagged commits are emitted again.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Literal

from extractors.base import RepoBatch, RepoContext
from extractors.gitlog import LOG_FORMAT, RawCommit, parse_log, split_nul
from extractors.history import gitio
from extractors.history.identity import People
from extractors.history.paths import PathTracker
from extractors.history.state import GitState
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
    version = "2"

    def __init__(
        self,
        *,
        all_branches: bool = False,
        batch_size: int = 500,
        follow_copies: bool = True,
        git: str = "git",
    ) -> None:
        if batch_size < 1:
            raise InvalidInput(f"GitExtractor batch_size must be at least 1, got {batch_size}")
        self.all_branches = all_branches
        self.batch_size = batch_size
        self.follow_copies = follow_copies
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

    def extract_repo(self, ctx: RepoContext, state: str | None) -> Generator[RepoBatch, None, None]:
        status, why = self._probe(ctx)
        if status == "empty":
            return  # an empty repository simply has no history yet
        if status == "not-repo":
            raise ExtractorError(why)
        prev = GitState.parse(state)
        revs, notes = self.revisions(ctx, prev.sha)
        if self._run(ctx, "rev-parse", "--is-shallow-repository").stdout.strip() == "true":
            notes.append("shallow clone: history before the clone depth is missing")
        tag_map = gitio.tags(ctx.root, self._git)
        now = GitState.of(prev.sha, tag_map)
        claimed = ctx.file_extractor or (lambda _path: None)
        run = _Run(
            repo=ctx.repo,
            people=self._people(ctx),
            paths=PathTracker(
                ctx.repo,
                set(gitio.head_tree(ctx.root, self._git)),
                lambda p: claimed(p) is not None,
            ),
            tags=_by_commit(tag_map),
        )
        yield RepoBatch(batch=run.people_batch(), state=None, note="; ".join(notes))
        pending: list[RawCommit] = []
        seen: set[str] = set()
        for commit in self._stream(ctx, revs):
            # Flush only when the next commit arrives, so a batch never holds a commit whose
            # output git may have cut short by failing (checked at the end of the stream).
            if len(pending) >= self.batch_size:
                yield run.batch(pending, GitState(pending[-1].sha, prev.tags, prev.tagged))
                pending = []
            pending.append(commit)
            seen.add(commit.sha)
        last = pending[-1].sha if pending else prev.sha
        if pending:
            yield run.batch(pending, GitState(last, prev.tags, prev.tagged))
        if now.tags != prev.tags and last is not None:
            # Tags moved: commits indexed earlier carry stale ``tags`` attrs; re-emit them.
            again = sorted((set(now.tagged) | set(prev.tagged)) - seen)
            again = [s for s in again if self._is_commit(ctx, s)]
            tagged = list(self._stream(ctx, ["--no-walk=unsorted", *again])) if again else []
            yield run.batch(tagged, GitState(last, now.tags, now.tagged))

    def _people(self, ctx: RepoContext) -> People:
        """Every author of the whole history (cheap: no diffs), so clusters are stable."""
        tip = ["--all"] if self.all_branches else ["HEAD"]
        out = gitio.run_git(
            ctx.root,
            "log",
            "--reverse",
            "--topo-order",
            "-z",
            "--format=%aN%x00%aE%x00%an%x00%ae",
            *tip,
            "--",
            git=self._git,
        )
        people = People()
        fields = out.stdout.split(b"\0")
        for i in range(0, len(fields) - 3, 4):
            name, email, raw_name, raw_email = (
                f.decode("utf-8", "replace").strip("\n") for f in fields[i : i + 4]
            )
            people.add(name, email, raw_name, raw_email)
        return people

    def _is_commit(self, ctx: RepoContext, sha: str) -> bool:
        return (
            bool(_SHA.match(sha))
            and self._run(ctx, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0
        )

    def revisions(self, ctx: RepoContext, state: str | None) -> tuple[list[str], list[str]]:
        """The ``git log`` revision arguments to resume after commit ``state``, and notes when
        that is impossible (history rewritten) and the whole history is walked again."""
        tip = ["--all"] if self.all_branches else ["HEAD"]
        if state is None:
            return tip, []
        if not self._is_commit(ctx, state):
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
            self._git,
            "-C",
            str(ctx.root),
            "-c",
            "core.quotepath=off",
            "-c",
            "log.showSignature=false",
            "-c",
            "diff.renames=true",
            "log",
            "--reverse",
            "--topo-order",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--encoding=UTF-8",
            "--relative",
            "-M",
            *(["-C"] if self.follow_copies else []),
            "--raw",
            "--numstat",
            "-z",
            f"--format={LOG_FORMAT}",
            *revs,
            "--",
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

    def _run(self, ctx: RepoContext, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self._git, "-C", str(ctx.root), *args],
            capture_output=True,
            text=True,
            errors="replace",
            check=False,
        )


@dataclass(slots=True)
class _Run:
    """What one extraction run knows across batches."""

    repo: str
    people: People
    paths: PathTracker
    tags: dict[str, list[str]]

    def people_batch(self) -> Batch:
        scope = people_scope(self.repo)
        return Batch(
            repo=self.repo,
            entities=self.people.entities(self.repo, scope),
            replace_scopes={scope},
        )

    def batch(self, commits: list[RawCommit], state: GitState) -> RepoBatch:
        batch = Batch(repo=self.repo)
        for c in commits:
            _add_commit(batch, self, c)
        return RepoBatch(batch=batch, state=state.dump())


def people_scope(repo: str) -> str:
    """Replace scope (and owner) of the Person entities of a history."""
    return f"git:{repo}:people"


def _by_commit(tag_map: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, sha in sorted(tag_map.items()):
        out.setdefault(sha, []).append(name)
    return out


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


def _add_commit(batch: Batch, run: _Run, c: RawCommit) -> None:
    repo = run.repo
    scope = commit_scope(repo, c.sha)
    when = _time(c.committer_time)
    valid = Validity(from_commit=c.sha, from_time=when)
    cid = entity_id(EntityKind.COMMIT, repo, c.sha)
    insertions = sum(ch.added for ch in c.changes)
    deletions = sum(ch.removed for ch in c.changes)
    attrs: dict[str, AttrValue] = {
        "sha": c.sha,
        "summary": c.summary,
        "message": c.message,
        "author_name": c.mailmap_name or c.author_name,
        "author_email": c.mailmap_email or c.author_email,
        "author_time": c.author_time,
        "committer_name": c.committer_name,
        "committer_email": c.committer_email,
        "committer_time": c.committer_time,
        "parents": list(c.parents),
        "files_changed": len(c.changes),
        "insertions": insertions,
        "deletions": deletions,
        "is_merge": len(c.parents) > 1,
    }
    if c.sha in run.tags:
        attrs["tags"] = run.tags[c.sha]
    batch.entities.append(
        Entity.make(
            EntityKind.COMMIT,
            repo,
            c.sha,
            name=c.sha[:12],
            owner=scope,
            valid=valid,
            attrs=attrs,
        )
    )
    author = c.mailmap_name or c.author_name
    pid = entity_id(
        EntityKind.PERSON, repo, run.people.key_of(author, c.mailmap_email or c.author_email)
    )

    def rel(
        kind: RelationKind,
        src: str,
        dst: str,
        attrs: Attrs | None = None,
        *,
        confidence: float = 1.0,
        provenance: str = PROVENANCE,
    ) -> Relation:
        return Relation(
            kind=kind,
            src=src,
            dst=dst,
            provenance=provenance,
            owner=scope,
            attrs=dict(attrs or {}),
            valid=valid,
            confidence=confidence,
        )

    batch.relations.append(rel(RelationKind.AUTHORED, pid, cid))
    for parent in c.parents:
        batch.relations.append(
            rel(RelationKind.PARENT_OF, entity_id(EntityKind.COMMIT, repo, parent), cid)
        )
    for ch in c.changes:
        batch.entities += run.paths.change(c.sha, when, ch.change, ch.path, ch.old_path)
        mod: dict[str, AttrValue] = {
            "change": ch.change,
            "added": ch.added,
            "removed": ch.removed,
            "binary": ch.binary,
        }
        fid = entity_id(EntityKind.FILE, repo, ch.path)
        if ch.old_path is not None:
            # attrs must be valid UTF-8 for every store; the id keeps the exact bytes
            mod["old_path"] = ch.old_path.encode("utf-8", "replace").decode("utf-8")
            mod["similarity"] = ch.similarity
            if ch.change == "R":
                batch.relations.append(
                    rel(
                        RelationKind.RENAMED_TO,
                        entity_id(EntityKind.FILE, repo, ch.old_path),
                        fid,
                        {"commit": c.sha, "similarity": ch.similarity},
                        confidence=ch.similarity / 100,
                        provenance="git:rename",
                    )
                )
        batch.relations.append(rel(RelationKind.MODIFIES, cid, fid, mod))
    text = c.message if c.message else c.summary
    batch.documents.append(
        Document(
            entity_id=cid,
            repo=repo,
            kind=EntityKind.COMMIT,
            text=text,
            vector="text",
            payload={"kind": "commit", "author": author, "time": c.committer_time},
        )
    )
    batch.replace_scopes.add(scope)
