"""``kg watch``: follow a working tree and emit ``file.changed`` for every saved file.

Polling with (mtime, size) signatures: portable, no extra dependency, and cheap (one
``scandir`` walk of a 1,000-file tree takes a few milliseconds). A change is emitted once the
file has kept the same signature for ``debounce`` seconds, so an editor's write-rename-chmod
sequence, or a formatter rewriting the file right after save, produces one event.

    watcher = TreeWatcher(Path("."))
    async for changes in watcher.changes(stop):
        ...  # [FileChanged(path="pkg/a.py", root="/abs/root"), ...]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from kg.events.base import Event, EventBus
from kg.events.schema import FileChanged

IGNORED_DIRS = frozenset(
    {"node_modules", "__pycache__", "venv", "build", "dist", "target", "site-packages"}
)

Signature = tuple[int, int]  # (mtime_ns, size)


def scan_tree(root: Path) -> dict[str, Signature]:
    """Every regular file under ``root`` (hidden and build directories skipped)."""
    out: dict[str, Signature] = {}
    stack = [("", str(root))]
    while stack:
        rel, path = stack.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue  # vanished or unreadable: not a crash, just nothing to report
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name in IGNORED_DIRS:
                continue
            child = f"{rel}{name}"
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((child + "/", entry.path))
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    out[child] = (st.st_mtime_ns, st.st_size)
            except OSError:
                continue
    return out


@dataclass(slots=True)
class _Pending:
    signature: Signature | None  # None: deleted
    since: float


class TreeWatcher:
    def __init__(
        self,
        root: Path,
        *,
        interval: float = 0.1,
        debounce: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = root.resolve()
        self.interval = interval
        self.debounce = debounce
        self._clock = clock
        self._known: dict[str, Signature] | None = None
        self._pending: dict[str, _Pending] = {}

    async def poll(self) -> list[FileChanged]:
        """One scan; the changes that have settled since the previous polls."""
        current = await asyncio.to_thread(scan_tree, self.root)
        now = self._clock()
        if self._known is None:
            self._known = current
            return []
        known = self._known
        for path in current.keys() | known.keys():
            sig = current.get(path)
            if sig != known.get(path):
                pending = self._pending.get(path)
                if pending is None or pending.signature != sig:
                    self._pending[path] = _Pending(sig, now)
        self._known = current
        ready: list[FileChanged] = []
        for path, pending in list(self._pending.items()):
            if now - pending.since >= self.debounce:
                del self._pending[path]
                ready.append(
                    FileChanged(path=path, deleted=pending.signature is None, root=str(self.root))
                )
        return sorted(ready, key=lambda c: c.path)

    def next_wait(self) -> float:
        """Seconds until the next poll: ``interval``, or sooner when a pending change settles
        sooner (a save is then emitted ``debounce`` after it was seen, not up to a whole
        interval later)."""
        if not self._pending:
            return self.interval
        settles = min(p.since for p in self._pending.values()) + self.debounce
        return max(0.0, min(self.interval, settles - self._clock()))

    async def changes(self, stop: asyncio.Event) -> AsyncIterator[list[FileChanged]]:
        while not stop.is_set():
            ready = await self.poll()
            if ready:
                yield ready
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.next_wait())


async def watch(watcher: TreeWatcher, bus: EventBus, repo: str, stop: asyncio.Event) -> int:
    """Publish ``file.changed`` for every settled change until ``stop``; returns how many."""
    sent = 0
    await watcher.poll()  # the baseline: what exists now is not a change
    async for changes in watcher.changes(stop):
        for change in changes:
            await bus.publish(
                Event.of("file.changed", repo=repo, payload=change.model_dump(exclude_none=True))
            )
            sent += 1
    return sent
