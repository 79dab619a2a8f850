"""An interface edit re-resolves only the files that mention a changed name (through imports,
attribute access and star re-exports), and the graph still equals a from-scratch index."""

from __future__ import annotations

from pathlib import Path

from extractors.code.resolver import PYTHON, shared_resolver
from kg.model import RelationKind
from kg.pipeline import FileChange, Indexer
from kg.runtime import open_runtime
from kg.settings import Settings

FILES = {
    "pkg/__init__.py": "from .core import *\n",
    "pkg/core.py": (
        "def alpha(x):\n    return x\n\n\ndef beta(y):\n    return y\n\n\n"
        "class Shape:\n    def area(self):\n        return 0\n\n    def size(self):\n"
        "        return 1\n"
    ),
    "a.py": "from pkg.core import alpha\n\n\ndef use_a():\n    return alpha(1)\n",
    "b.py": "from pkg.core import beta\n\n\ndef use_b():\n    return beta(2)\n",
    "c.py": "import pkg\n\n\ndef use_c():\n    return pkg.alpha(3)\n",
    "d.py": "import pkg\n\n\ndef use_d():\n    return pkg.beta(4)\n",
    "e.py": "from pkg.core import Shape\n\n\ndef use_e():\n    return Shape().area()\n",
    "f.py": "from pkg import core\n\nlater = core.beta\n",
}
CODE = [RelationKind.CALLS, RelationKind.IMPORTS, RelationKind.REFERENCES, RelationKind.INHERITS]


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


async def edit(indexer: Indexer, root: Path, rel: str, text: str) -> list[str]:
    write(root, {rel: text})
    report = await indexer.update_files(root, [FileChange(rel)])
    return report.resolved


async def same_as_fresh(root: Path, tmp: Path, relations: set[str], name: str) -> None:
    settings = Settings(graph_url=f"sqlite:///{tmp}/{name}.db", embed=False, history=False)
    async with open_runtime(settings) as fresh:
        await fresh.indexer(embed=False).index(root)
        assert {r.id for r in await fresh.store.relations(root.name, CODE)} == relations


async def test_only_files_using_a_changed_name_are_re_resolved(tmp_path: Path) -> None:
    root = tmp_path / "names"
    write(root, FILES)
    settings = Settings(graph_url=f"sqlite:///{tmp_path}/g.db", embed=False, history=False)
    async with open_runtime(settings) as rt:
        await rt.indexer(embed=False).index(root)
        indexer = rt.indexer(embed=False)
        core = FILES["pkg/core.py"]

        # a parameter nothing reads is out of other files' reach: the file alone
        core = core.replace("(x)", "(x, z=0)")
        assert await edit(indexer, root, "pkg/core.py", core) == ["pkg/core.py"]

        # what alpha returns changes: its importer and its user through the star re-export
        core = core.replace("    return x\n", "    return [x]\n")
        resolved = await edit(indexer, root, "pkg/core.py", core)
        assert resolved == ["a.py", "c.py", "pkg/core.py"]

        # a new name nobody mentions yet: the file alone
        added = core + "\n\ndef gamma():\n    return 2\n"
        assert await edit(indexer, root, "pkg/core.py", added) == ["pkg/core.py"]

        # a method of a class changes: files mentioning the class or the method
        method = added.replace("return 0", "return self.size()")
        assert await edit(indexer, root, "pkg/core.py", method) == ["e.py", "pkg/core.py"]

        # a rename: the readers of both names, and (name-match) anything calling either
        renamed = method.replace("beta", "delta")
        resolved = await edit(indexer, root, "pkg/core.py", renamed)
        assert resolved == ["b.py", "d.py", "f.py", "pkg/core.py"]
        relations = {r.id for r in await rt.store.relations(root.name, CODE)}
    await same_as_fresh(root, tmp_path, relations, "fresh")


async def test_value_flowing_through_an_alias_counts_as_a_change(tmp_path: Path) -> None:
    root = tmp_path / "alias"
    files = {
        "m.py": "class A:\n    def run(self):\n        return 1\n\n\nclass B:\n    pass\n\n\n"
        "def make():\n    obj = A()\n    return obj\n",
        "user.py": "from m import make\n\n\ndef go():\n    return make().run()\n",
        "other.py": "from m import B\n\n\ndef idle():\n    return B()\n",
    }
    write(root, files)
    settings = Settings(graph_url=f"sqlite:///{tmp_path}/a.db", embed=False, history=False)
    async with open_runtime(settings) as rt:
        await rt.indexer(embed=False).index(root)
        indexer = rt.indexer(embed=False)
        # only a local inside make() changes, yet what make() returns changes with it
        text = files["m.py"].replace("obj = A()", "obj = B()")
        assert await edit(indexer, root, "m.py", text) == ["m.py", "user.py"]
        relations = {r.id for r in await rt.store.relations(root.name, CODE)}
    await same_as_fresh(root, tmp_path, relations, "fresh-alias")


async def test_a_new_indexer_reads_stored_tables_only_once_something_changed(
    tmp_path: Path,
) -> None:
    """``kg index`` starts a new indexer each run: an unchanged tree must not pay for decoding
    every symbol table, and a changed one must still re-resolve exactly the dependents."""
    root = tmp_path / "lazy"
    write(root, FILES)
    settings = Settings(graph_url=f"sqlite:///{tmp_path}/g.db", embed=False, history=False)
    async with open_runtime(settings) as rt:
        await rt.indexer(embed=False).index(root)

        unchanged = rt.indexer(embed=False)
        report = await unchanged.index(root)
        assert report.files_changed == 0 and not report.wrote_anything
        cache = unchanged._caches[root.name]
        assert cache.partial and not cache.tables and not cache.deps
        await unchanged.warm(root.name)  # a long-lived worker reads the rest at start
        assert not cache.partial and set(cache.tables) == set(FILES)
        assert cache.deps["a.py"] >= {"pkg/core.py"}
        # ... and the resolver's index of those very tables is built, not left to the first save
        built = shared_resolver(PYTHON)._cache._snapshot
        assert set(built) == set(FILES) and all(built[p] is cache.tables[p] for p in FILES)

        renamed = FILES["pkg/core.py"].replace("beta", "delta")
        write(root, {"pkg/core.py": renamed})
        report = await rt.indexer(embed=False).index(root)
        assert report.resolved == ["b.py", "d.py", "f.py", "pkg/core.py"]
        relations = {r.id for r in await rt.store.relations(root.name, CODE)}
    await same_as_fresh(root, tmp_path, relations, "fresh")
