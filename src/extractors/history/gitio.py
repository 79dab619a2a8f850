"""Small git plumbing shared by the history extractors: one-shot commands, the tree at HEAD,
tags, and a long-lived ``git cat-file --batch`` for reading many blobs fast."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import TracebackType

from kg.errors import ExtractorError


def run_git(root: Path, *args: str, git: str = "git") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([git, "-C", str(root), *args], capture_output=True, check=False)


def head_tree(root: Path, git: str = "git") -> dict[str, str]:
    """``{path: blob sha}`` of HEAD below ``root`` (paths relative to it); empty without HEAD."""
    out = run_git(root, "ls-tree", "-r", "-z", "HEAD", git=git)
    tree: dict[str, str] = {}
    if out.returncode != 0:
        return tree
    for entry in out.stdout.split(b"\0"):
        meta, tab, path = entry.partition(b"\t")
        parts = meta.split()
        if tab and len(parts) == 3 and parts[1] == b"blob":
            tree[path.decode("utf-8", "surrogateescape")] = parts[2].decode()
    return tree


def tags(root: Path, git: str = "git") -> dict[str, str]:
    """``{tag name: commit sha}``; annotated tags are peeled to their commit."""
    fmt = "%(refname:short)%00%(objectname)%00%(*objectname)%00%(objecttype)%00%(*objecttype)"
    out = run_git(root, "for-each-ref", f"--format={fmt}", "refs/tags", git=git)
    found: dict[str, str] = {}
    for line in out.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split("\0")
        if len(parts) != 5:
            continue
        name, obj, peeled, kind, peeled_kind = parts
        if kind == "commit":
            found[name] = obj
        elif kind == "tag" and peeled_kind == "commit":
            found[name] = peeled
    return found


class BlobReader:
    """Reads blobs by sha through one ``git cat-file --batch`` process (a context manager)."""

    def __init__(self, root: Path, git: str = "git") -> None:
        self._root = root
        self._proc = subprocess.Popen(
            [git, "-C", str(root), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def read(self, sha: str) -> bytes | None:
        """The blob's bytes, or None when git does not have it (e.g. a submodule commit)."""
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(sha.encode() + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline()
        if not header:
            raise ExtractorError(f"git cat-file stopped while reading {sha} in {self._root}")
        parts = header.split()
        if len(parts) != 3 or parts[1] != b"blob":
            return None  # "<sha> missing", or not a blob
        data = proc.stdout.read(int(parts[2]))
        proc.stdout.read(1)  # the newline after the content
        return data

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
