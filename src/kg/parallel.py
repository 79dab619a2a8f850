"""CPU-bound bulk work of the pipeline: the cyclic GC paused, a forked second worker.

Indexing a repository allocates millions of small, long-lived objects (symbol tables, extracts,
resolver memos) and almost no cyclic garbage, so the cyclic collector's full passes over that
growing heap cost a fifth of the CPU while freeing nearly nothing: ``gc_paused`` holds it off
for the duration (reference counting still frees everything acyclic).

``split_fork`` runs one part of a job list in a forked child while the caller does the rest:
the child inherits every input copy-on-write (nothing is pickled on the way in) and returns
plain tuples through a temporary file, a record per chunk of jobs. A child that fails is
reported and what it did not deliver is redone in process, so a result is always complete::

    out = split_fork(jobs, work, weight=len, min_weight=10_000, encode=row, decode=unrow)
    # out == work(jobs), computed on two cores
    stream_fork(jobs, work, ..., deliver=queue.put)  # the same results, as each chunk is done
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
W = TypeVar("W")


class _GcPause:
    """Nested and concurrent pauses share one switch: the last one out restores the collector
    as the first one in found it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._was_enabled = False

    def enter(self) -> None:
        with self._lock:
            if self._holders == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._holders += 1

    def exit(self) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0 and self._was_enabled:
                gc.enable()


_PAUSE = _GcPause()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while bulk work runs (see the module doc)."""
    _PAUSE.enter()
    try:
        yield
    finally:
        _PAUSE.exit()


def can_fork() -> bool:
    return hasattr(os, "fork") and hasattr(os, "waitpid")


def spare_cpu() -> bool:
    """Whether a core is free for a second worker: the last minute's load (this process
    included) leaves at least half a core. On a busy machine a fork only adds its overhead
    (about an eighth more CPU in all): the scheduler shares CPU between sessions, not
    processes, so a second process of ours gets no more of it."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return False
    return load <= (os.cpu_count() or 1) - 0.5


def split_fork(
    jobs: Sequence[T],
    work: Callable[[Sequence[T]], list[R]],
    *,
    weight: Callable[[T], int],
    min_weight: int,
    encode: Callable[[R], W],
    decode: Callable[[W], R],
    child_share: float = 0.5,
    child_timeout: float | None = None,
) -> list[R]:
    """``work(jobs)``, with the jobs after a split point done by a forked child: the results
    of :func:`stream_fork`, collected."""
    out: list[R] = []
    stream_fork(
        jobs,
        work,
        weight=weight,
        min_weight=min_weight,
        encode=encode,
        decode=decode,
        deliver=out.extend,
        chunk=max(1, len(jobs)),
        child_share=child_share,
        child_timeout=child_timeout,
    )
    return out


def stream_fork(
    jobs: Sequence[T],
    work: Callable[[Sequence[T]], list[R]],
    *,
    weight: Callable[[T], int],
    min_weight: int,
    encode: Callable[[R], W],
    decode: Callable[[W], R],
    deliver: Callable[[list[R]], object],
    chunk: int = 32,
    child_share: float = 0.5,
    child_timeout: float | None = None,
) -> None:
    """``work`` over every job, each result handed to ``deliver`` as soon as it is done, in
    job order: ``chunk`` jobs at a time, the caller's own share first, then the child's as it
    writes it, so the caller can consume results while the child still computes.

    ``work`` must be pure computation over what the process already holds (no stores, no event
    loop, no callbacks into the caller) returning one result per job; the child sends each as
    ``encode(result)`` (plain picklable data) and the parent rebuilds it with ``decode``.
    Below ``min_weight`` of total work, where fork is unavailable or while no core is spare
    (:func:`spare_cpu`), all runs in process.
    ``child_share`` of the weight goes to the child (more than half when the caller has other
    work to do meanwhile, less when decoding is dear).
    A child still running ``child_timeout`` seconds after the caller finished its own share
    (default: 20 times that share's time, at least 30 s) is killed: a fork from a threaded
    process could inherit a lock some other thread held. Whatever a failed or killed child did
    not deliver is redone in process, so every job is delivered exactly once. When ``work`` or
    ``deliver`` raises in the caller, the child is killed and the error raised.
    """
    weights = [weight(j) for j in jobs]
    total = sum(weights)
    if len(jobs) < 2 or total < min_weight or not can_fork() or not spare_cpu():
        _in_chunks(jobs, work, deliver, chunk)
        return
    cut, acc, goal = 0, 0, total * (1.0 - child_share)
    while cut < len(jobs) - 1 and acc + weights[cut] <= goal:
        acc += weights[cut]
        cut += 1
    mine, theirs = jobs[:cut], jobs[cut:]
    with tempfile.TemporaryFile(prefix="kg-fork-") as out:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child leaves through os._exit
            _child(out.fileno(), theirs, work, encode, chunk)
        started = time.monotonic()
        try:
            _in_chunks(mine, work, deliver, chunk)
        except BaseException:
            _kill(pid)
            raise
        own = time.monotonic() - started
        timeout = child_timeout if child_timeout is not None else max(30.0, 20 * own)
        try:
            done, code = _collect(pid, out.fileno(), decode, deliver, timeout)
        except BaseException:
            _kill(pid)
            raise
    if done < len(theirs):
        log.warning(
            "forked worker exited with %s: redoing its %d jobs in process", code, len(theirs) - done
        )
        _in_chunks(theirs[done:], work, deliver, chunk)


def _in_chunks(
    jobs: Sequence[T],
    work: Callable[[Sequence[T]], list[R]],
    deliver: Callable[[list[R]], object],
    chunk: int,
) -> None:
    for start in range(0, len(jobs), chunk):
        deliver(work(jobs[start : start + chunk]))


# A child's results: records of an 8-byte little-endian length and a pickled list of rows.
_HEADER = 8


def _collect(
    pid: int,
    fd: int,
    decode: Callable[[W], R],
    deliver: Callable[[list[R]], object],
    timeout: float,
) -> tuple[int, int]:
    """Deliver the child's records as they complete until it exits (or is killed past
    ``timeout`` seconds); the number of jobs delivered and the child's exit code."""
    deadline = time.monotonic() + timeout
    offset = delivered = 0
    delay = 0.001
    while True:
        finished, status = os.waitpid(pid, os.WNOHANG)
        # Read after the exit check: a record written just before the exit is still taken.
        while (record := _record(fd, offset)) is not None:
            offset += _HEADER + len(record)
            try:
                rows: list[W] = pickle.loads(record)
                results = [decode(row) for row in rows]
            except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as err:
                log.warning("forked worker wrote unreadable results (%s): redoing in process", err)
                if not finished:
                    _kill(pid)
                return delivered, 1
            deliver(results)
            delivered += len(results)
            delay = 0.001
        if finished:
            return delivered, os.waitstatus_to_exitcode(status)
        if time.monotonic() >= deadline:
            log.warning("forked worker still running after %.1f s: killing it", timeout)
            return delivered, _kill(pid)
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


def _record(fd: int, offset: int) -> bytes | None:
    """The complete record at ``offset`` of the child's file, or None while it is not yet."""
    header = os.pread(fd, _HEADER, offset)
    if len(header) < _HEADER:
        return None
    size = int.from_bytes(header, "little")
    payload = os.pread(fd, size, offset + _HEADER)
    return payload if len(payload) == size else None


def _kill(pid: int) -> int:
    """Stop the child now and reap it; its exit code."""
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def _child(
    fd: int,
    jobs: Sequence[T],
    work: Callable[[Sequence[T]], list[R]],
    encode: Callable[[R], W],
    chunk: int,
) -> None:  # pragma: no cover - runs in the child
    code = 1
    try:
        # The parent's event loop owns the signal wake-up fd; a signal here must not wake it.
        with suppress(ValueError):
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        gc.disable()  # a short-lived process: its garbage goes with it
        for start in range(0, len(jobs), chunk):
            rows = [encode(r) for r in work(jobs[start : start + chunk])]
            data = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
            # One write of header and payload: the parent takes a record only once it is whole.
            view = memoryview(len(data).to_bytes(_HEADER, "little") + data)
            while view:
                view = view[os.write(fd, view) :]
        code = 0
    except BaseException:
        code = 1
    finally:
        os._exit(code)
