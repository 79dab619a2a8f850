"""The golden-test scorer: a handmade file that passes and one that fails, then the shared
Python suite (stack-graphs' tests) at the level the resolver reaches."""

from __future__ import annotations

from pathlib import Path

from kg.evaluation.resolution import score_directory, split_sources

SUITE = Path(__file__).resolve().parents[3] / "shared" / "eval" / "name-resolution" / "python"

GOOD = """\
#--- path: lib.py ---#
def helper():
    return 1

#--- path: main.py ---#
from lib import helper

helper()
# ^ defined: 6, 2

unknown()
# ^ defined:
"""

BAD = """\
x = 1

print(x)
#     ^ defined: 2
"""


def test_split_keeps_line_numbers_and_finds_assertions() -> None:
    files, assertions = split_sources(GOOD, "golden.py")
    assert list(files) == ["lib.py", "main.py"]
    assert files["lib.py"].split("\n")[1] == "def helper():"
    assert files["main.py"].split("\n")[7] == "helper()"
    assert files["main.py"].split("\n")[1] == ""
    assert [(a.line, a.col, sorted(a.expected)) for a in assertions] == [
        (8, 2, [2, 6]), (11, 2, [])]


def test_scores_a_passing_and_a_failing_file(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text(BAD)
    (tmp_path / "notes.txt").write_text("not a source file")
    score = score_directory(tmp_path)
    assert set(score.per_file) == {"good.py", "bad.py"}
    assert (score.per_file["good.py"].passed, score.per_file["good.py"].total) == (2, 2)
    bad = score.per_file["bad.py"]
    assert (bad.passed, bad.total) == (0, 1)
    assert bad.failures == ["bad.py:4: expected [2], got [1]"]
    assert (score.passed, score.total) == (2, 3)


def test_shared_python_suite_scores_high() -> None:
    score = score_directory(SUITE)
    assert score.total >= 160
    failures = [f for s in score.per_file.values() for f in s.failures]
    assert score.ratio >= 0.97, failures
