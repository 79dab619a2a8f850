"""Resolution read as it is done: the same results in the same order as resolving at once,
on one core or two, and an error raised only after the results delivered before it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

import kg.bulk as bulk
import kg.parallel as parallel
from extractors.base import FileExtract, Resolver, SourceFile, SymbolTable
from extractors.code.python import PythonExtractor
from kg.bulk import Resolution, Resolved, resolve_files
from kg.model import Batch

SRC = Path(__file__).resolve().parents[2] / "src"


def extracts() -> list[tuple[str, FileExtract]]:
    extractor = PythonExtractor()
    paths = sorted(p.relative_to(SRC).as_posix() for p in (SRC / "kg").rglob("*.py"))
    return [
        (p, extractor.extract_file(SourceFile(repo="r", path=p, data=(SRC / p).read_bytes())))
        for p in paths
    ]


def summary(results: list[Resolved]) -> list[tuple[str, list[str], list[str]]]:
    return [
        (r.path, sorted(x.src + x.dst for x in r.relations), sorted(r.deps or ())) for r in results
    ]


@pytest.mark.parametrize("fork", [False, True])
async def test_parts_equal_resolving_at_once(fork: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    items = extracts()
    tables = {p: ex.symbols for p, ex in items}
    resolver = PythonExtractor().resolver()
    resolver_of: dict[str, Resolver | None] = {p: resolver for p, _ in items}
    whole = resolve_files("r", items, tables, resolver_of)
    if fork:
        monkeypatch.setattr(bulk, "FORK_RESOLVE_REFERENCES", 1)
        monkeypatch.setattr(bulk, "CHUNK", 3)
        monkeypatch.setattr(parallel, "spare_cpu", lambda: True)
    parts: list[list[Resolved]] = []
    async with Resolution("r", items, tables, resolver_of) as resolution:
        async for part in resolution.parts(most=4, least=3):
            parts.append(part)
    assert len(items) > 20 and all(3 <= len(p) <= 4 for p in parts[:-1]) and parts[-1]
    assert sum(1 for r in whole if r.relations) > 20
    assert summary([r for p in parts for r in p]) == summary(whole)


class Breaks:
    """A resolver whose language support fails on one file (a bug, not bad input)."""

    def __init__(self, real: Resolver, bad: str) -> None:
        self.real, self.bad = real, bad

    def resolve(self, repo: str, extract: FileExtract, tables: Mapping[str, SymbolTable]) -> Batch:
        if extract.path == self.bad:
            raise RuntimeError(f"cannot resolve {extract.path}")
        return self.real.resolve(repo, extract, tables)

    def depends_on(self, table: SymbolTable, tables: Mapping[str, SymbolTable]) -> set[str]:
        return self.real.depends_on(table, tables)


async def test_an_error_comes_after_the_results_before_it() -> None:
    items = extracts()
    tables = {p: ex.symbols for p, ex in items}
    bad = items[len(items) // 2][0]
    real = PythonExtractor().resolver()
    assert real is not None
    breaks = Breaks(real, bad)
    resolver_of: dict[str, Resolver | None] = {p: breaks for p, _ in items}
    seen: list[str] = []

    async def read() -> None:
        async with Resolution("r", items, tables, resolver_of) as resolution:
            async for part in resolution.parts(most=100):
                seen.extend(r.path for r in part)

    with pytest.raises(RuntimeError, match=f"cannot resolve {bad}"):
        await read()
    # everything before the failing file's chunk was delivered, nothing from it on
    assert seen == [p for p, _ in items][: len(seen)]
    assert bad not in seen
