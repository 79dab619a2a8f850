"""File entities the history owns: paths no code extractor will ever produce.

The store drops a relation whose endpoint does not exist, and the code stage creates File
entities only for files present in the working tree that an extractor claims. So the history
creates (owner ``git:<repo>:files``) the File of every path it touches that is not both alive at
HEAD and claimed by a file extractor: deleted and renamed-away files (``historical: true``, valid
until the commit that removed them), and files nobody parses (docs, data). MODIFIES and
RENAMED_TO edges to them therefore survive, and the history of a deleted file stays queryable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import PurePosixPath

from kg.model import Entity, EntityKind, Validity


def files_scope(repo: str) -> str:
    return f"git:{repo}:files"


def historical_file(
    repo: str, path: str, *, alive: bool, gone_at: tuple[str, datetime | None] | None
) -> Entity:
    valid = (
        Validity()
        if alive or gone_at is None
        else Validity(to_commit=gone_at[0], to_time=gone_at[1])
    )
    return Entity.make(
        EntityKind.FILE,
        repo,
        path,
        name=PurePosixPath(path).name,
        owner=files_scope(repo),
        path=path,
        attrs={"historical": not alive},
        valid=valid,
    )


class PathTracker:
    """Which File entities a batch must carry; each emitted once per run, again on change."""

    def __init__(self, repo: str, alive: set[str], claimed: Callable[[str], bool]) -> None:
        self._repo = repo
        self._alive = alive
        self._claimed = claimed
        self._gone: dict[str, tuple[str, datetime | None] | None] = {}
        self._emitted: dict[str, tuple[str, datetime | None] | None] = {}

    def owns(self, path: str) -> bool:
        return not (path in self._alive and self._claimed(path))

    def change(
        self, sha: str, when: datetime | None, letter: str, path: str, old: str | None
    ) -> list[Entity]:
        """Record one file change of commit ``sha``; the entities to emit for it."""
        if letter == "R" and old is not None:
            self._gone[old] = (sha, when)
        self._gone[path] = (sha, when) if letter == "D" else None
        return [e for p in (old, path) if p is not None and (e := self._entity(p)) is not None]

    def _entity(self, path: str) -> Entity | None:
        if not self.owns(path):
            return None
        gone = self._gone.get(path)
        if path in self._emitted and self._emitted[path] == gone:
            return None
        self._emitted[path] = gone
        return historical_file(self._repo, path, alive=path in self._alive, gone_at=gone)
