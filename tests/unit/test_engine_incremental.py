"""The resolver's repository index follows edits file by file, and equals a fresh build; the
interface fingerprint tells a body edit (dependents unaffected) from an interface change;
query files can inherit another language's patterns."""

from __future__ import annotations

from pathlib import Path

from extractors.base import FileExtract, SourceFile, SymbolTable
from extractors.code.engine import QueryEngine
from extractors.code.python import PythonExtractor
from extractors.code.resolver import (
    PYTHON,
    ScopeResolver,
    shared_resolver,
)
from extractors.code.scope_index import IndexCache, RepoIndex
from extractors.registry import ExtractorRegistry

FIXTURE = Path(__file__).parent.parent / "fixtures" / "pyproj"
LANGS = Path(__file__).parent.parent / "fixtures" / "langs"


def _extract(path: str, data: bytes) -> FileExtract:
    return PythonExtractor().extract_file(SourceFile("r", path, data))


def _project() -> dict[str, FileExtract]:
    return {
        p.relative_to(FIXTURE).as_posix(): _extract(
            p.relative_to(FIXTURE).as_posix(), p.read_bytes()
        )
        for p in sorted(FIXTURE.rglob("*.py"))
    }


def _shape(index: RepoIndex) -> tuple[object, ...]:
    scoped = {k: sorted(p for p, _ in v) for k, v in index._scoped.items()}
    named = {k: sorted(p for p, _ in v) for k, v in index._by_name.items()}
    suffix = {k: sorted(v) for k, v in index.by_suffix.items()}
    return (sorted(index.tables), index.by_module, index.packages, suffix, scoped, named)


def test_one_changed_table_updates_the_index_in_place() -> None:
    extracts = _project()
    tables: dict[str, SymbolTable] = {p: e.symbols for p, e in extracts.items()}
    cache = IndexCache(frozenset({"python"}))
    index = cache.get(tables)
    version = index.version
    edited = _extract("src/shapes/circle.py", b"class Oval:\n    pass\n")
    tables["src/shapes/circle.py"] = edited.symbols
    tables["src/shapes/extra.py"] = _extract("src/shapes/extra.py", b"def f():\n    pass\n").symbols
    del tables["src/app.py"]
    again = cache.get(tables)
    assert again is index and again.version > version
    assert _shape(again) == _shape(RepoIndex(tables, frozenset({"python"})))
    assert [p for p, _ in again.by_name("Oval")] == ["src/shapes/circle.py"]
    assert again.by_name("Circle") == []


def test_resolution_after_edits_equals_resolution_from_scratch() -> None:
    extracts = _project()
    tables = {p: e.symbols for p, e in extracts.items()}
    resolver = shared_resolver(PYTHON)
    before = {p: _edges(resolver, e, tables) for p, e in extracts.items()}
    old_circle = next(
        d.id for d in tables["src/shapes/circle.py"].definitions if d.qualname == "Circle"
    )
    assert old_circle in {dst for _, _, dst, _ in before["src/app.py"]}
    # rename Circle (an interface change) and delete nothing else
    source = (FIXTURE / "src/shapes/circle.py").read_bytes().replace(b"Circle", b"Round")
    extracts["src/shapes/circle.py"] = _extract("src/shapes/circle.py", source)
    tables["src/shapes/circle.py"] = extracts["src/shapes/circle.py"].symbols
    incremental = {p: _edges(resolver, e, tables) for p, e in extracts.items()}
    fresh = ScopeResolver(PYTHON)
    scratch = {p: _edges(fresh, e, dict(tables)) for p, e in extracts.items()}
    assert incremental == scratch
    assert old_circle not in {dst for _, _, dst, _ in incremental["src/app.py"]}
    # then delete a module: again the same as from scratch
    del extracts["src/shapes/base.py"], tables["src/shapes/base.py"]
    incremental = {p: _edges(resolver, e, tables) for p, e in extracts.items()}
    scratch = {p: _edges(ScopeResolver(PYTHON), e, dict(tables)) for p, e in extracts.items()}
    assert incremental == scratch


def _edges(
    resolver: ScopeResolver, ex: FileExtract, tables: dict[str, SymbolTable]
) -> set[tuple[str, str, str, float]]:
    return {
        (r.kind.value, r.src, r.dst, r.confidence)
        for r in resolver.resolve("r", ex, tables).relations
    }


def test_interface_fingerprint_ignores_positions_but_not_names() -> None:
    base = b"def f(x):\n    return (lambda y: y)(x)\n"
    fp = _extract("a.py", base).symbols.interface_digest()
    shifted = b"\n\n# a comment\n" + base.replace(b"return", b"z = 1\n    return")
    assert _extract("a.py", shifted).symbols.interface_digest() != fp  # new local z
    moved = b"\n\n\n" + base
    assert _extract("a.py", moved).symbols.interface_digest() == fp
    renamed = base.replace(b"def f", b"def g")
    assert _extract("a.py", renamed).symbols.interface_digest() != fp


def test_query_files_inherit_another_language() -> None:
    tsx = QueryEngine.for_language("tsx")
    ts = QueryEngine.for_language("typescript")
    assert set(tsx.queries) == set(ts.queries)
    assert tsx.queries["definitions"].pattern_count == ts.queries["definitions"].pattern_count
    assert tsx.queries["references"].pattern_count > ts.queries["references"].pattern_count


def test_one_shared_resolver_per_language_family() -> None:
    registry = ExtractorRegistry.from_entry_points()
    js, ts = registry.get("code-javascript"), registry.get("code-typescript")
    assert js.resolver() is ts.resolver()  # type: ignore[union-attr]
    assert registry.get("code-go").resolver() is not js.resolver()  # type: ignore[union-attr]
    assert registry.get("code-python").resolver() is shared_resolver(PYTHON)  # type: ignore[union-attr]
    assert (LANGS / "golden").is_dir()
