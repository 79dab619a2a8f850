"""Differential test of incremental indexing: in every language, edits chosen mechanically over
the multi-file golden projects leave the same graph as a from-scratch index of the same tree.

Each golden test file under ``tests/fixtures/langs/golden`` embeds a small project (read with
the scorer's own parser; Python's is below). It is indexed, then every file is deleted and
restored, and gets each of these edits, each undone: a definition renamed throughout the file
(its readers elsewhere now miss it), a definition's lines dropped, a function copied under a
name another file calls (its callers now bind), and in a function other files use, one use of
a project class or function swapped for another (what it returns changes for its readers).
Which definitions and names are picked comes from a seed per test file. After every step the
entities and code relations (ids, confidences, provenance) equal a fresh index into a new
SQLite database. Steps rotate between the editor path (``update_files`` with the editor's
bytes), a rescan (``index``) and a restarted indexer (its cache read back from the store).
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from extractors.base import FileExtract, SourceFile
from extractors.registry import ExtractorRegistry
from kg.evaluation.resolution import split_sources
from kg.model import EntityKind, RelationKind
from kg.pipeline import FileChange, Indexer
from kg.runtime import Runtime, open_runtime
from kg.settings import Settings
from kg.stores.base import EntityQuery, GraphStore
from kg.stores.sqlite import SqliteGraphStore

GOLDEN = Path(__file__).parents[1] / "fixtures" / "langs" / "golden"
REPO = "diff"
CODE = [
    RelationKind.CALLS,
    RelationKind.IMPORTS,
    RelationKind.INHERITS,
    RelationKind.REFERENCES,
    RelationKind.DEFINES,
    RelationKind.CONTAINS,
]
_WORD = re.compile(r"[A-Za-z_]\w*")
_NAMED = (EntityKind.CLASS, EntityKind.FUNCTION)

Tree = dict[str, str]


@dataclass(frozen=True, slots=True)
class Step:
    what: str
    path: str
    text: str | None  # None: the file is deleted


# Python's golden tests live outside the repository: a project of its import forms here.
PYTHON = """\
# --- path: shop/__init__.py ---
from .model import *
from . import util

# --- path: shop/model.py ---
from .util import clamp


class Item:
    def price(self):
        return 1


class Book(Item):
    def pages(self):
        return 1


def make():
    return Book()

# --- path: shop/util.py ---
def clamp(v):
    return v


LIMIT = 3

# --- path: shop/api.py ---
from .model import make, Item
from . import util


LIMIT = util.LIMIT


def order():
    return make()

# --- path: app.py ---
import shop
from shop.api import order, Item
from shop.util import LIMIT


class Cart(Item):
    def total(self):
        return order().price() + order().pages() + LIMIT


def run():
    return shop.make().pages() + shop.util.clamp(2)

# --- path: cli.py ---
from shop.api import order


def main():
    return order().pages()
"""


def projects() -> list[tuple[str, Tree]]:
    """(test file, its embedded files) of every golden test that holds several files."""
    registry = ExtractorRegistry.from_entry_points(strict=False)
    out: list[tuple[str, Tree]] = [("python/shop.py", split_sources(PYTHON, "shop.py")[0])]
    for test in sorted(p for p in GOLDEN.rglob("*") if p.is_file()):
        if registry.for_path(test.name) is None:
            continue
        files, _ = split_sources(test.read_text(encoding="utf-8"), test.name)
        if sum(registry.for_path(p) is not None for p in files) >= 2:
            out.append((str(test.relative_to(GOLDEN)), files))
    return out


def extracts(tree: Tree, registry: ExtractorRegistry) -> dict[str, FileExtract]:
    out: dict[str, FileExtract] = {}
    for path, text in sorted(tree.items()):
        extractor = registry.for_path(path)
        if extractor is not None:
            out[path] = extractor.extract_file(SourceFile(REPO, path, text.encode()))
    return out


def edits(name: str, tree: Tree, registry: ExtractorRegistry, per_file: int = 5) -> Iterator[Step]:
    """Per file, ``per_file`` edits of different kinds (which ones and what they change
    chosen by a seed from the test's name), each undone."""
    rng = random.Random(zlib.crc32(name.encode()))
    found = extracts(tree, registry)
    for path, ex in found.items():
        text = tree[path]
        others = " ".join(t for p, t in tree.items() if p != path)
        made = [
            rename(path, text, ex, others, rng),
            drop(path, text, ex, others, rng),
            add(path, text, ex, found, rng),
            retarget(tree, path, ex, found, rng),
        ]
        rng.shuffle(made)
        # Every file is deleted and restored: what a new file means to others is the
        # hardest to tell (it was in no one's dependencies).
        kept = [Step("delete", path, None)]
        kept += [step for step in made if step is not None and step.text != text]
        for step in kept[:per_file]:
            yield step
            yield Step(f"undo {step.what}", path, text)


def _defined(ex: FileExtract) -> list[tuple[str, int, int]]:
    """(name, first line, last line) of the file's classes and functions."""
    return sorted(
        (e.name, e.span.start_line, e.span.end_line)
        for e in ex.batch.entities
        if e.kind in _NAMED and e.span is not None and _WORD.fullmatch(e.name)
    )


def _pick(
    defs: list[tuple[str, int, int]], others: str, rng: random.Random
) -> tuple[str, int, int] | None:
    """A definition, preferably one whose name another file spells."""
    spelled = set(_WORD.findall(others))
    pool = [d for d in defs if d[0] in spelled] or defs
    return rng.choice(pool) if pool else None


def rename(path: str, text: str, ex: FileExtract, others: str, rng: random.Random) -> Step | None:
    picked = _pick(_defined(ex), others, rng)
    if picked is None:
        return None
    name = picked[0]
    return Step(f"rename {name}", path, re.sub(rf"\b{name}\b", f"{name}Renamed", text))


def drop(path: str, text: str, ex: FileExtract, others: str, rng: random.Random) -> Step | None:
    picked = _pick(_defined(ex), others, rng)
    if picked is None:
        return None
    name, first, last = picked
    lines = text.split("\n")
    return Step(f"drop {name}", path, "\n".join(lines[: first - 1] + lines[last:]))


def add(
    path: str, text: str, ex: FileExtract, found: dict[str, FileExtract], rng: random.Random
) -> Step | None:
    """A copy of one of the file's functions, named as a call in another file."""
    functions = [
        (e.name, e.span.start_line, e.span.end_line)
        for e in ex.batch.entities
        if e.kind is EntityKind.FUNCTION and e.span is not None and _WORD.fullmatch(e.name)
    ]
    defined = {name for name, _, _ in _defined(ex)}
    called = sorted(
        {
            last
            for p, other in found.items()
            if p != path
            for ref in other.references
            if ref.kind is RelationKind.CALLS
            and _WORD.fullmatch(last := ref.name.rpartition(".")[2])
            and last not in defined
        }
    )
    if not functions or not called:
        return None
    name, first, last_line = rng.choice(sorted(functions))
    target = rng.choice(called)
    lines = text.split("\n")
    copy = lines[first - 1 : last_line]
    copy[0] = re.sub(rf"\b{name}\b", target, copy[0], count=1)
    return Step(f"add {target}", path, "\n".join(lines[:last_line] + copy + lines[last_line:]))


def retarget(
    tree: Tree, path: str, ex: FileExtract, found: dict[str, FileExtract], rng: random.Random
) -> Step | None:
    """In one function's body, one use of a project class or function made another's: what
    the function calls or returns changes, so do its callers' bindings."""
    names = sorted({name for other in found.values() for name, _, _ in _defined(other)})
    functions = [
        (e.name, e.span.start_line, e.span.end_line)
        for e in ex.batch.entities
        if e.kind is EntityKind.FUNCTION and e.span is not None
    ]
    # Preferably a function other files spell: its readers see what it returns change.
    spelled = set(_WORD.findall(" ".join(t for p, t in tree.items() if p != path)))
    spans = [(a, b) for n, a, b in functions if n in spelled] or [(a, b) for _, a, b in functions]
    lines = tree[path].split("\n")
    sites = [
        (i, m)
        for first, last in sorted(spans)
        for i in range(first, last)  # the body: the lines after the declaration's first
        for m in _WORD.finditer(lines[i])
        if m.group() in names
    ]
    if not sites or len(names) < 2:
        return None
    i, m = rng.choice(sites)
    other = rng.choice([n for n in names if n != m.group()])
    lines[i] = lines[i][: m.start()] + other + lines[i][m.end() :]
    return Step(f"retarget {m.group()} -> {other}", path, "\n".join(lines))


def write(root: Path, path: str, text: str | None) -> None:
    target = root / path
    if text is None:
        target.unlink(missing_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


Snapshot = tuple[set[tuple[object, ...]], set[tuple[object, ...]]]


async def snapshot(store: GraphStore) -> Snapshot:
    entities: set[tuple[object, ...]] = {
        (e.id, e.kind, e.key, e.name, e.path, e.span)
        for e in await store.find(EntityQuery(repo=REPO, limit=100_000))
    }
    relations: set[tuple[object, ...]] = {
        (r.id, r.kind, round(r.confidence, 6), r.provenance)
        for r in await store.relations(REPO, CODE)
    }
    return entities, relations


def settings(db: Path) -> Settings:
    return Settings(graph_url=f"sqlite:///{db}", embed=False, history=False)


async def fresh_snapshot(root: Path, db: Path, registry: ExtractorRegistry) -> Snapshot:
    """The graph of a from-scratch index of ``root`` into a new database."""
    store = SqliteGraphStore(db)
    await store.start()
    try:
        await Indexer(store, registry, history=False).index(root, REPO)
        return await snapshot(store)
    finally:
        await store.close()


def describe(got: Snapshot, want: Snapshot) -> str:
    lines = []
    for label, g, w in (("entities", got[0], want[0]), ("relations", got[1], want[1])):
        for item in sorted(g - w, key=str):
            lines.append(f"  extra {label[:-1]}: {item}")
        for item in sorted(w - g, key=str):
            lines.append(f"  missing {label[:-1]}: {item}")
    return "\n".join(lines)


async def apply(
    rt: Runtime, indexer: Indexer, root: Path, step: Step, mode: int
) -> tuple[Indexer, list[str]]:
    """Applies one step by the editor path, a rescan or a restarted indexer's rescan; the
    indexer to use next and the files it resolved."""
    write(root, step.path, step.text)
    if mode == 0:
        data = None if step.text is None else step.text.encode()
        change = FileChange(step.path, data, deleted=step.text is None)
        report = await indexer.update_files(root, [change], REPO)
    else:
        if mode == 2:
            indexer = rt.indexer(embed=False)
        report = await indexer.index(root, REPO)
    return indexer, report.resolved


async def differences(
    name: str, tree: Tree, tmp: Path, per_file: int = 5, resolved: list[int] | None = None
) -> list[str]:
    """Every step of the project's edits at which the graph differs from a fresh index
    (``resolved`` collects how many files each step re-resolved)."""
    root = tmp / "repo"
    for path, text in tree.items():
        write(root, path, text)
    out: list[str] = []
    async with open_runtime(settings(tmp / "inc.db")) as rt:
        indexer = rt.indexer(embed=False)
        await indexer.index(root, REPO)
        original = await fresh_snapshot(root, tmp / "fresh.db", rt.registry)
        assert await snapshot(rt.store) == original
        for k, step in enumerate(edits(name, tree, rt.registry, per_file)):
            # An edit and its undo take different paths; over the pairs, each path meets
            # each kind of edit.
            mode = (k // 2 + k % 2) % 3
            indexer, paths = await apply(rt, indexer, root, step, mode)
            if resolved is not None:
                resolved.append(len(paths))
            got = await snapshot(rt.store)
            # Every undo step brings back the original tree.
            want = (
                original if k % 2 else await fresh_snapshot(root, tmp / f"fresh{k}.db", rt.registry)
            )
            if got != want:
                out.append(f"{name} step {k} ({step.what} in {step.path}, mode {mode}):")
                out.append(describe(got, want))
    return out


PROJECTS = projects()


def group(name: str) -> str:
    """The language directory of a golden test (or the language of one at the top level)."""
    if "/" in name:
        return name.partition("/")[0]
    return "typescript" if name.endswith((".ts", ".tsx")) else "javascript"


@pytest.mark.slow
@pytest.mark.parametrize("lang", sorted({group(name) for name, _ in PROJECTS}))
async def test_edits_of_golden_projects_match_a_fresh_index(lang: str, tmp_path: Path) -> None:
    found: list[str] = []
    for k, (name, tree) in enumerate(PROJECTS):
        if group(name) == lang:
            found += await differences(name, tree, tmp_path / str(k))
    assert not found, "\n".join(found)
