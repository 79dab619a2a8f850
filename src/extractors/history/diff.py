"""Streaming parser for ``git log -p -U0 --full-index`` with a one-line commit header.

Only hunk headers are read (``@@ -a,b +c,d @@``): with zero context lines they say exactly which
old and new lines a change covers, which is all per-symbol history needs. Content lines always
start with ``+``, ``-``, `` `` or ``\\``, so a line starting with ``HEADER`` is unambiguous.
Merge commits carry no diff in this mode (their changes are attributed to the commits that made
them on their branches).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

HEADER = b"\x1eH"
LOG_FORMAT = "%x1eH%H %ct %P"
_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_INDEX = re.compile(rb"^index ([0-9a-f]+)\.\.([0-9a-f]+)")
_ZERO = re.compile(r"^0+$")


@dataclass(frozen=True, slots=True)
class Hunk:
    """Old lines ``old_start .. old_start+old_count-1`` became the new ones likewise."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int


@dataclass(slots=True)
class FileDiff:
    old_path: str | None
    new_path: str | None
    old_blob: str | None = None
    new_blob: str | None = None
    binary: bool = False
    hunks: list[Hunk] = field(default_factory=list)


@dataclass(slots=True)
class CommitDiff:
    sha: str
    time: int
    parents: list[str]
    files: list[FileDiff] = field(default_factory=list)


def _unquote(raw: bytes) -> str:
    """A path as git prints it: C-quoted when it holds special bytes."""
    if raw.startswith(b'"') and raw.endswith(b'"'):
        body = raw[1:-1]
        out = bytearray()
        i = 0
        simple = {b"n": 10, b"t": 9, b'"': 34, b"\\": 92, b"a": 7, b"b": 8, b"f": 12, b"v": 11}
        while i < len(body):
            ch = body[i : i + 1]
            if ch == b"\\" and i + 1 < len(body):
                nxt = body[i + 1 : i + 2]
                if nxt in simple:
                    out.append(simple[nxt])
                    i += 2
                    continue
                if body[i + 1 : i + 4].isdigit():
                    out.append(int(body[i + 1 : i + 4], 8))
                    i += 4
                    continue
            out += ch
            i += 1
        raw = bytes(out)
    return raw.decode("utf-8", "surrogateescape")


def _side(raw: bytes, prefix: bytes) -> str | None:
    # git ends ``---``/``+++`` paths that hold a space with a tab
    raw = raw.rstrip(b"\r\n").removesuffix(b"\t")
    if raw == b"/dev/null":
        return None
    path = _unquote(raw)
    return path[len(prefix) :] if path.startswith(prefix.decode()) else path


def _blob(raw: bytes) -> str | None:
    sha = raw.decode()
    return None if _ZERO.match(sha) else sha


def _header(line: bytes) -> CommitDiff:
    parts = line[len(HEADER) :].decode("ascii", "replace").split()
    return CommitDiff(sha=parts[0], time=int(parts[1]) if len(parts) > 1 else 0, parents=parts[2:])


def _git_line(line: bytes) -> FileDiff:
    # "diff --git a/X b/Y": exact paths come from later lines; this guess covers binary files
    rest = line[len(b"diff --git ") :].rstrip(b"\n")
    half = (len(rest) - 1) // 2
    old, new = rest[:half], rest[half + 1 :]
    return FileDiff(old_path=_side(old, b"a/"), new_path=_side(new, b"b/"))


def parse_patches(lines: Iterable[bytes]) -> Iterator[CommitDiff]:
    """Commits with their file diffs, each yielded once complete."""
    commit: CommitDiff | None = None
    current: FileDiff | None = None
    for line in lines:
        first = line[:1]
        if first in (b"+", b"-", b" ", b"\\") and current is not None and current.hunks:
            continue  # content (with -U0 only + and -), skipped: the hunk header said it all
        if line.startswith(HEADER):
            if commit is not None:
                yield commit
            commit, current = _header(line), None
        elif commit is None:
            continue
        elif line.startswith(b"diff --git "):
            current = _git_line(line)
            commit.files.append(current)
        elif current is None:
            continue
        elif (m := _HUNK.match(line)) is not None:
            a, b, c, d = m.groups()
            current.hunks.append(
                Hunk(int(a), 1 if b is None else int(b), int(c), 1 if d is None else int(d))
            )
        elif (m := _INDEX.match(line)) is not None:
            current.old_blob, current.new_blob = _blob(m.group(1)), _blob(m.group(2))
        elif line.startswith(b"--- "):
            current.old_path = _side(line[4:], b"a/")
        elif line.startswith(b"+++ "):
            current.new_path = _side(line[4:], b"b/")
        elif line.startswith(b"rename from "):
            current.old_path = _unquote(line[12:].rstrip(b"\n"))
        elif line.startswith(b"rename to "):
            current.new_path = _unquote(line[10:].rstrip(b"\n"))
        elif line.startswith(b"new file mode"):
            current.old_path = None
        elif line.startswith(b"deleted file mode"):
            current.new_path = None
        elif line.startswith(b"Binary files ") or line.startswith(b"GIT binary patch"):
            current.binary = True
    if commit is not None:
        yield commit
