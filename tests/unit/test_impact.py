"""Which names an edit changes: per-name digests of real extracted Python, closed over the
expressions that mention a changed name."""

from __future__ import annotations

from extractors.base import FileExtract, SourceFile, SymbolTable
from extractors.code.python import PythonExtractor
from kg.impact import changed_names, renamed_entities, uses_of

BASE = (
    "import os\n\n\nclass Box:\n    def open(self, key):\n        return key\n\n\n"
    "def helper(a):\n    tmp = Box()\n    return tmp\n\n\nalias = helper\n"
)


def extract(text: str, path: str = "m.py") -> FileExtract:
    return PythonExtractor().extract_file(SourceFile("r", path, text.encode()))


def table(text: str) -> SymbolTable:
    return extract(text).symbols


def test_moved_lines_change_no_name() -> None:
    assert changed_names(table(BASE), table("# header\n\n" + BASE)) == frozenset()


def test_a_parameter_changes_its_function_not_its_own_name() -> None:
    names = changed_names(table(BASE), table(BASE.replace("open(self, key)", "open(self, k2)")))
    assert names is not None
    assert {"Box", "open"} <= names
    assert "self" not in names and "key" not in names and "helper" not in names


def test_a_local_changes_the_function_and_its_aliases() -> None:
    names = changed_names(table(BASE), table(BASE.replace("tmp = Box()", "tmp = os.sep")))
    assert names is not None
    assert {"helper", "alias"} <= names and "tmp" not in names and "Box" not in names


def test_file_wide_changes_mean_every_name() -> None:
    assert changed_names(table(BASE), table(BASE + "from os.path import *\n")) is None
    assert changed_names(table(BASE), table(BASE + "__all__ = ['Box']\n")) is None


def test_added_and_removed_functions_are_renamed_entities() -> None:
    old, new = table(BASE), table(BASE.replace("def helper", "def assist"))
    assert renamed_entities(old, new) == {"helper", "assist"}
    assert renamed_entities(old, old) == set()


def test_uses_cover_references_imports_and_bound_expressions() -> None:
    uses = uses_of(extract("from pkg.mod import thing as t\n\nx = t.attr\n\n\ndef f():\n    g()\n"))
    assert {"pkg", "mod", "thing", "t", "attr", "g"} <= uses


def test_a_local_that_flows_nowhere_changes_no_name() -> None:
    """A body edit that binds a new local (the editor's most common save) stays inside its
    function: no other file can reach the local, so no dependent needs re-resolving."""
    edited = BASE.replace(
        "    tmp = Box()\n", "    tmp = Box()\n    if probe := None:\n        pass\n"
    )
    names = changed_names(table(BASE), table(edited))
    assert names == frozenset()
    flows = BASE.replace("    return tmp\n", "    probe = tmp\n    return probe\n")
    names = changed_names(table(BASE), table(flows))
    assert names is not None and {"helper", "alias"} <= names
