"""Streaming parser for ``git log --raw --numstat -z`` with codekg's header format.

Kept apart from ``extractors.git`` so the byte grammar can be read (and tested) on its own.
One ``git log`` process writes NUL-separated tokens; for each commit:

* a header token starting with ``HEADER_MARK`` followed by ``len(FIELDS) - 1`` more tokens
  (the message is last, because it is the only free-form field);
* an empty token (the end of the format plus the ``-z`` terminator);
* raw entries ``:<modes> <shas> <status>`` followed by one path (two for renames/copies), the
  first one prefixed by a newline;
* numstat entries ``<added>\\t<removed>\\t<path>``, or ``<added>\\t<removed>\\t`` followed by
  the old and new path for renames; binary files show ``-`` for both counts.

Paths are consumed positionally, so a path that looks like an entry or a header is harmless.
Nothing here decodes lossily by accident: messages and names are decoded with ``replace``
(git stores arbitrary bytes there); paths with ``surrogateescape`` so that ids computed from
them match what the file system reports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

HEADER_MARK = b"\x1eC"
# ``%aN``/``%aE`` are the author after ``.mailmap``; ``%an``/``%ae`` as recorded (an alias).
FIELDS = ("sha", "parents", "an", "ae", "amn", "ame", "at", "cn", "ce", "ct", "message")
LOG_FORMAT = "%x1eC" + "%x00".join(
    ("%H", "%P", "%an", "%ae", "%aN", "%aE", "%aI", "%cn", "%ce", "%cI", "%B")
)
MESSAGE_LIMIT = 10_000

_NUMSTAT = re.compile(rb"^(\d+|-)\t(\d+|-)\t")


@dataclass(frozen=True, slots=True)
class FileChange:
    """One file a commit touched: status letter A/M/D/R/C/T, line counts, rename source and
    git's similarity score (0-100) for renames and copies."""

    path: str
    change: str
    old_path: str | None = None
    added: int = 0
    removed: int = 0
    binary: bool = False
    similarity: int = 100


@dataclass(slots=True)
class RawCommit:
    sha: str
    parents: list[str]
    author_name: str
    author_email: str
    author_time: str
    committer_name: str
    committer_email: str
    committer_time: str
    message: str
    changes: list[FileChange] = field(default_factory=list)
    mailmap_name: str = ""
    mailmap_email: str = ""

    @property
    def summary(self) -> str:
        return self.message.split("\n", 1)[0].strip()


def split_nul(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """NUL-separated tokens from a stream of byte chunks (a trailing partial token included)."""
    rest = b""
    for chunk in chunks:
        parts = (rest + chunk).split(b"\0")
        rest = parts.pop()
        yield from parts
    if rest:
        yield rest


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _path(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


class _CommitBuilder:
    """Collects one commit's raw and numstat entries and joins them by path."""

    def __init__(self, fields: list[bytes]) -> None:
        sha, parents, an, ae, amn, ame, at, cn, ce, ct, message = fields
        self.commit = RawCommit(
            sha=_text(sha).strip(),
            parents=_text(parents).split(),
            author_name=_text(an),
            author_email=_text(ae),
            author_time=_text(at),
            committer_name=_text(cn),
            committer_email=_text(ce),
            committer_time=_text(ct),
            message=_text(message).strip()[:MESSAGE_LIMIT],
            mailmap_name=_text(amn),
            mailmap_email=_text(ame),
        )
        self._status: dict[bytes, tuple[str, int, bytes | None]] = {}
        self._order: list[bytes] = []
        self._stats: dict[bytes, tuple[int, int, bool]] = {}

    def add_raw(self, letter: str, score: int, old: bytes | None, new: bytes) -> None:
        if new not in self._status:
            self._order.append(new)
        self._status[new] = (letter, score, old)

    def add_stat(self, added: bytes, removed: bytes, new: bytes) -> None:
        binary = added == b"-" or removed == b"-"
        self._stats[new] = (0 if binary else int(added), 0 if binary else int(removed), binary)

    def finish(self) -> RawCommit:
        for new in self._order:
            letter, score, old = self._status[new]
            added, removed, binary = self._stats.get(new, (0, 0, False))
            self.commit.changes.append(
                FileChange(
                    path=_path(new),
                    change=letter,
                    old_path=_path(old) if old is not None else None,
                    added=added,
                    removed=removed,
                    binary=binary,
                    similarity=score,
                )
            )
        return self.commit


def parse_log(tokens: Iterable[bytes]) -> Iterator[RawCommit]:
    """Commits, in output order, from the token stream of ``git log --format=LOG_FORMAT``.

    A commit is yielded once the next header (or the end of the stream) is seen, so a commit
    is only ever yielded complete.
    """
    it = iter(tokens)
    builder: _CommitBuilder | None = None
    for token in it:
        if token.startswith(HEADER_MARK):
            if builder is not None:
                yield builder.finish()
            rest = [next(it, b"") for _ in range(len(FIELDS) - 1)]
            builder = _CommitBuilder([token[len(HEADER_MARK) :], *rest])
            continue
        if builder is None:
            continue  # nothing precedes the first header in practice; ignore noise
        token = token.lstrip(b"\n")
        if token.startswith(b":"):
            status = token[token.rfind(b" ") + 1 :]
            letter = _text(status[:1]) or "M"
            score = int(status[1:]) if status[1:].isdigit() else 100
            if letter in ("R", "C"):
                old = next(it, b"")
                builder.add_raw(letter, score, old, next(it, b""))
            else:
                builder.add_raw(letter, score, None, next(it, b""))
        elif (m := _NUMSTAT.match(token)) is not None:
            tail = token[m.end() :]
            if not tail:  # rename/copy: old and new path follow as their own tokens
                next(it, b"")
                tail = next(it, b"")
            builder.add_stat(m.group(1), m.group(2), tail)
        # anything else (the empty separator token) carries no information
    if builder is not None:
        yield builder.finish()
