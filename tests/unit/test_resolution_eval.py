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
        (8, 2, [2, 6]),
        (11, 2, []),
    ]


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


GOLDEN_LANGS = Path(__file__).parent.parent / "fixtures" / "langs" / "golden"


def test_headers_and_assertions_in_any_line_comment_syntax() -> None:
    for lead, header in (
        ("//", "/*--- path: {} ---*/"),
        ("--", "-- --- path: {} ---"),
        (";", "; --- path: {} ---"),
        ("#", "#--- path: {} ---#"),
    ):
        text = "\n".join([header.format("a.x"), "f()", f"{lead} ^ defined: 7, 9"])
        files, assertions = split_sources(text, "t")
        assert list(files) == ["a.x"] and files["a.x"].split("\n")[1] == "f()"
        assert [(a.line, a.col, sorted(a.expected)) for a in assertions] == [
            (2, len(lead) + 1, [7, 9])
        ]


def test_javascript_and_typescript_golden_files_are_scored_by_extension() -> None:
    score = score_directory(GOLDEN_LANGS)
    top = {name: s for name, s in score.per_file.items() if "/" not in name}
    assert set(top) == {"imports.ts", "members.js"}
    assert sum(s.passed for s in top.values()) == sum(s.total for s in top.values()) == 11, {
        name: s.failures for name, s in top.items()
    }


def test_a_wrong_expectation_in_typescript_fails(tmp_path: Path) -> None:
    (tmp_path / "bad.ts").write_text(
        "function f() {}\n\n  f();\n//^ defined: 3\n", encoding="utf-8"
    )
    score = score_directory(tmp_path)
    assert (score.passed, score.total) == (0, 1)
    assert score.per_file["bad.ts"].failures == ["bad.ts:4: expected [3], got [1]"]
