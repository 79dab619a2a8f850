"""Bulk CPU work on two cores: a forked child's share comes back complete and equal to
in-process work, a failing child is redone in process, and the GC pause nests."""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from extractors.base import SourceFile
from extractors.code.python import PythonExtractor
from kg import parallel
from kg.model import Entity, EntityKind, Relation, RelationKind, Span, Validity
from kg.parallel import can_fork, gc_paused, split_fork, stream_fork
from kg.wire import (
    entities_from_columns,
    entity_columns,
    extract_from_row,
    extract_row,
    relation_columns,
    relations_from_columns,
)

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(autouse=True)
def spare_core(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork whatever the machine's load (a shared test machine may be busy)."""
    monkeypatch.setattr(parallel, "spare_cpu", lambda: True)


def squares(part: Sequence[int]) -> list[tuple[int, int, int]]:
    return [(n, n * n, os.getpid()) for n in part]


def as_row(r: tuple[int, int, int]) -> tuple[int, int, int]:
    return r


def test_a_forked_share_comes_back_in_job_order() -> None:
    assert can_fork()
    jobs = list(range(1000))
    out = split_fork(jobs, squares, weight=lambda n: 1, min_weight=10, encode=as_row, decode=as_row)
    assert [(n, sq) for n, sq, _ in out] == [(n, n * n) for n in jobs]
    pids = {pid for _, _, pid in out}
    assert os.getpid() in pids and len(pids) == 2  # the parent did a share, one child the rest


def test_small_work_stays_in_process() -> None:
    out = split_fork(
        list(range(10)), squares, weight=lambda n: 1, min_weight=11, encode=as_row, decode=as_row
    )
    assert {pid for _, _, pid in out} == {os.getpid()}


def test_the_split_follows_the_weights() -> None:
    jobs = list(range(100))
    out = split_fork(
        jobs,
        squares,
        weight=lambda n: 100 if n < 10 else 1,  # the first tenth is most of the work
        min_weight=10,
        encode=as_row,
        decode=as_row,
        child_share=0.5,
    )
    parent = os.getpid()
    # 1090 in all: the parent takes jobs up to half of it (5 x 100), the child the rest
    assert [n for n, _, pid in out if pid == parent] == list(range(5))


def test_a_failing_child_is_redone_in_process(caplog: pytest.LogCaptureFixture) -> None:
    parent = os.getpid()

    def fails_in_child(part: Sequence[int]) -> list[tuple[int, int, int]]:
        if os.getpid() != parent:
            raise RuntimeError("boom")
        return squares(part)

    with caplog.at_level(logging.WARNING, logger="kg.parallel"):
        out = split_fork(
            list(range(50)),
            fails_in_child,
            weight=lambda n: 1,
            min_weight=10,
            encode=as_row,
            decode=as_row,
        )
    assert [n for n, _, _ in out] == list(range(50))
    assert {pid for _, _, pid in out} == {parent}
    assert "forked worker exited with 1: redoing its 25 jobs in process" in caplog.text


def test_a_hung_child_is_killed_and_redone_in_process(caplog: pytest.LogCaptureFixture) -> None:
    parent = os.getpid()

    def hangs_in_child(part: Sequence[int]) -> list[tuple[int, int, int]]:
        if os.getpid() != parent:
            time.sleep(600)  # a lock another thread held at fork time would do the same
        return squares(part)

    with caplog.at_level(logging.WARNING, logger="kg.parallel"):
        out = split_fork(
            list(range(50)),
            hangs_in_child,
            weight=lambda n: 1,
            min_weight=10,
            encode=as_row,
            decode=as_row,
            child_timeout=0.5,
        )
    assert [n for n, _, _ in out] == list(range(50))
    assert {pid for _, _, pid in out} == {parent}
    assert "still running after 0.5 s: killing it" in caplog.text
    assert "forked worker exited with -9: redoing its 25 jobs in process" in caplog.text
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left behind


def test_an_error_of_the_parent_share_is_raised_after_the_child_is_reaped() -> None:
    def fails(part: Sequence[int]) -> list[tuple[int, int, int]]:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        split_fork(
            list(range(50)), fails, weight=lambda n: 1, min_weight=10, encode=as_row, decode=as_row
        )
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left behind


def test_a_child_streams_its_results_while_it_still_works(tmp_path: Path) -> None:
    """The child's first chunks reach the caller before its last one is computed: the last
    chunk waits for a flag the caller sets on receiving the child's first."""
    parent = os.getpid()
    flag = tmp_path / "got-first-child-chunk"
    got: list[list[tuple[int, int, int]]] = []

    def work(part: Sequence[int]) -> list[tuple[int, int, int]]:
        if os.getpid() != parent and part[-1] == 99:
            deadline = time.monotonic() + 20
            while not flag.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            return [(n, -1 if not flag.exists() else n * n, os.getpid()) for n in part]
        return squares(part)

    def deliver(results: list[tuple[int, int, int]]) -> None:
        got.append(results)
        if results[0][2] != parent:
            flag.touch()

    stream_fork(
        list(range(100)),
        work,
        weight=lambda n: 1,
        min_weight=10,
        encode=as_row,
        decode=as_row,
        deliver=deliver,
        chunk=10,
    )
    flat = [r for part in got for r in part]
    assert [(n, sq) for n, sq, _ in flat] == [(n, n * n) for n in range(100)]  # none late
    assert [len(part) for part in got] == [10] * 10
    assert [part[0][2] == parent for part in got] == [True] * 5 + [False] * 5


def test_what_a_failing_child_delivered_is_kept_and_only_the_rest_redone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    parent = os.getpid()

    def fails_late_in_child(part: Sequence[int]) -> list[tuple[int, int, int]]:
        if os.getpid() != parent and part[0] >= 80:
            os._exit(3)  # a crash, not an exception: no clean-up runs
        return squares(part)

    got: list[tuple[int, int, int]] = []
    with caplog.at_level(logging.WARNING, logger="kg.parallel"):
        stream_fork(
            list(range(100)),
            fails_late_in_child,
            weight=lambda n: 1,
            min_weight=10,
            encode=as_row,
            decode=as_row,
            deliver=got.extend,
            chunk=10,
        )
    assert [n for n, _, _ in got] == list(range(100))  # each job exactly once, in order
    child = [n for n, _, pid in got if pid not in (parent,)]
    assert child == list(range(50, 80))
    assert "forked worker exited with 3: redoing its 20 jobs in process" in caplog.text


def test_a_failing_reader_kills_the_child_and_raises() -> None:
    parent = os.getpid()

    def deliver(results: list[tuple[int, int, int]]) -> None:
        if results[0][2] != parent:
            raise ValueError("store down")

    def slow_in_child(part: Sequence[int]) -> list[tuple[int, int, int]]:
        if os.getpid() != parent and part[0] > 50:
            time.sleep(600)
        return squares(part)

    started = time.monotonic()
    with pytest.raises(ValueError, match="store down"):
        stream_fork(
            list(range(100)),
            slow_in_child,
            weight=lambda n: 1,
            min_weight=10,
            encode=as_row,
            decode=as_row,
            deliver=deliver,
            chunk=1,
        )
    assert time.monotonic() - started < 60  # the sleeping child was not waited for
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left behind


def test_gc_pause_nests_and_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a collector the caller had off stays off
    finally:
        gc.enable()


def test_model_rows_round_trip() -> None:
    entity = Entity.make(
        EntityKind.FUNCTION,
        "r",
        "a.py::f",
        name="f",
        owner="file:r:a.py",
        path="a.py",
        span=Span(1, 3, 0, 4),
        language="python",
        attrs={"signature": "f(x)", "n": 2},
        valid=Validity(from_commit="abc"),
    )
    relation = Relation(RelationKind.CALLS, "x", "y", 0.6, "code:name-match", "resolve:r:a.py")
    assert entities_from_columns(entity_columns([entity])) == [entity]
    assert relations_from_columns(relation_columns([relation])) == [relation]


@pytest.mark.parametrize("rel", ["kg/pipeline.py", "extractors/code/evaluate.py"])
def test_extract_rows_round_trip_on_real_code(rel: str) -> None:
    extract = PythonExtractor().extract_file(
        SourceFile(repo="r", path=rel, data=(SRC / rel).read_bytes())
    )
    back = extract_from_row(extract_row(extract))
    assert extract.references and extract.symbols.definitions
    assert back.symbols == extract.symbols
    assert back.symbols.interface_digest() == extract.symbols.interface_digest()
    assert back.batch == extract.batch
    assert back.references == extract.references
    assert (back.path, back.language, back.errors) == (
        extract.path,
        extract.language,
        extract.errors,
    )


def test_a_busy_machine_runs_everything_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    cores = os.cpu_count() or 1
    monkeypatch.setattr(os, "getloadavg", lambda: (cores + 2.0, 0.0, 0.0))
    assert not parallel.spare_cpu()
    out = split_fork(
        list(range(100)), squares, weight=lambda n: 1, min_weight=10, encode=as_row, decode=as_row
    )
    assert {pid for _, _, pid in out} == {os.getpid()}
    monkeypatch.setattr(os, "getloadavg", lambda: (cores - 1.0, 0.0, 0.0))
    assert parallel.spare_cpu()
