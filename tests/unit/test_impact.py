"""Which names an edit changes: per-name digests of real extracted Python, closed over the
expressions that mention a changed name."""

from __future__ import annotations

from extractors.base import FileExtract, SourceFile, SymbolTable
from extractors.code.python import PythonExtractor
from kg.impact import RepoCache, changed_names, relayed_names, renamed_entities, uses_of

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


def test_names_entering_or_leaving_the_export_list_are_the_changed_names() -> None:
    listed = BASE + "__all__ = ['Box']\n"
    wider = changed_names(table(listed), table(BASE + "__all__ = ['Box', 'helper']\n"))
    assert wider is not None and wider - {"__all__"} == {"helper"}  # Box's readers stay
    narrower = changed_names(table(listed), table(BASE + "__all__ = ['helper']\n"))
    assert narrower is not None and narrower - {"__all__"} == {"Box", "helper"}


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


def test_a_file_relays_the_names_it_imports_and_what_mentions_them() -> None:
    relay = extract(
        "from core import alpha as a\nfrom util import beta\n\n\ndef use():\n    return a(1)\n"
    )
    names = relayed_names(relay.symbols, frozenset({"alpha"}))
    assert {"alpha", "a", "use"} <= names and "beta" not in names
    assert relayed_names(relay.symbols, frozenset({"gamma"})) == {"gamma"}


def test_readers_of_a_relaying_file_are_re_resolved() -> None:
    """core.alpha changes; mid.py imports it and b.py imports it from mid.py, which did not
    change: b.py's binding goes through mid.py, so it is re-resolved too."""
    cache = RepoCache()
    files = {
        "core.py": "def alpha():\n    return 1\n",
        "mid.py": "from core import alpha\n",
        "b.py": "from mid import alpha\n\nalpha()\n",
        "c.py": "from mid import alpha\n",
    }
    for path, text in files.items():
        ex = extract(text, path)
        cache.tables[path], cache.uses[path] = ex.symbols, uses_of(ex)
    cache.deps = {"mid.py": {"core.py"}, "b.py": {"mid.py"}, "c.py": {"mid.py"}}
    assert cache.dependents({"core.py": frozenset({"alpha"})}, set()) == {"mid.py", "b.py", "c.py"}
    assert cache.dependents({"core.py": frozenset({"omega"})}, set()) == set()


def test_a_file_that_appears_or_vanishes_renames_its_module() -> None:
    mod = table(BASE)
    assert "m" in renamed_entities(None, mod) and "m" in renamed_entities(mod, None)
    assert "m" not in renamed_entities(mod, mod)


def test_an_external_module_no_file_points_at_is_an_orphan() -> None:
    cache = RepoCache(deps={"a.py": set(), "b.py": set()})
    cache.point("a.py", frozenset({"Module:np", "Module:os"}))
    cache.point("b.py", frozenset({"Module:os"}))
    cache.point("a.py", frozenset())
    assert cache.orphans() == ["Module:np"]
    cache.forget(["b.py"])
    assert cache.orphans() == ["Module:os"]
    # While a resolved file's externals are unknown (an older store), nothing is dropped.
    cache = RepoCache(deps={"a.py": set(), "old.py": set()})
    cache.point("a.py", frozenset({"Module:np"}))
    cache.point("a.py", frozenset())
    assert cache.orphans() == []


def test_a_new_file_is_read_by_its_namespace_mates_and_relative_importers() -> None:
    cache = RepoCache()
    files = {
        "foo/__init__.py": "FOO = 1\n",
        "foo/test.py": "from . import FOO\n",
        "bar.py": "import os\n",
    }
    for path, text in files.items():
        cache.tables[path] = table_at(text, path)
    assert cache.importers(["foo/__init__.py"]) == {"foo/test.py"}
    mate = cache.tables["bar.py"].model_copy(update={"path": "baz.py"})
    cache.tables["baz.py"] = mate  # a second file of module bar (a Java package, a namespace)
    assert cache.importers(["baz.py"]) == {"bar.py"}


def table_at(text: str, path: str) -> SymbolTable:
    return extract(text, path).symbols
