"""The Extractor contract, run over every file extractor the entry-point registry loads.

A plugin author's extractor is held to the same rules as the built-ins: it never raises on bad
source, ids are deterministic, everything it emits is owned by the file's scope, relations join
entities it emitted (or ids it may legitimately point at), spans lie inside the file, and its
symbol table survives a JSON round trip (the pipeline persists it).
"""

from __future__ import annotations

import pytest

from extractors.base import FileExtract, FileExtractor, SourceFile, SymbolTable
from extractors.registry import ExtractorRegistry
from kg.model import EntityKind, entity_id, file_scope

REGISTRY = ExtractorRegistry.from_entry_points()
FILE_EXTRACTORS = REGISTRY.file_extractors()
REPO = "contract"

# Inputs no extractor may crash on, whatever its language.
HOSTILE: dict[str, bytes] = {
    "empty": b"",
    "whitespace": b"  \n\t\n",
    "garbage": bytes(range(32, 127)) * 20,
    "unbalanced": b"{[(" * 2000,
    "deep": b"(" * 5000 + b"x" + b")" * 5000,
    "invalid-utf8": b"def \xff\xfe(x):\n  return \xc3\x28\n",
    "long-line": b"a = " + b"1 + " * 20000 + b"1\n",
    "nul": b"abc\x00def\n",
}


def _path(extractor: FileExtractor, stem: str) -> str:
    ext = sorted(extractor.extensions)[0]
    return f"src/{stem}{ext}" if ext.startswith(".") else f"src/{ext}"


def _extract(extractor: FileExtractor, path: str, data: bytes) -> FileExtract:
    return extractor.extract_file(SourceFile(repo=REPO, path=path, data=data))


def test_the_builtins_register_through_entry_points() -> None:
    assert "git" in REGISTRY.names()
    assert REGISTRY.for_path("src/x.py") is not None


@pytest.fixture(params=FILE_EXTRACTORS, ids=lambda e: e.name)
def extractor(request: pytest.FixtureRequest) -> FileExtractor:
    ex: FileExtractor = request.param
    return ex


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_bad_source_never_raises(extractor: FileExtractor, case: str) -> None:
    path = _path(extractor, case.replace("-", "_"))
    out = _extract(extractor, path, HOSTILE[case])
    assert out.path == path
    _check_invariants(out, path, HOSTILE[case])


def test_extraction_is_deterministic(extractor: FileExtractor) -> None:
    path = _path(extractor, "same")
    data = HOSTILE["garbage"] + b"\n" + HOSTILE["invalid-utf8"]
    a, b = _extract(extractor, path, data), _extract(extractor, path, data)
    assert [e.id for e in a.batch.entities] == [e.id for e in b.batch.entities]
    assert [r.id for r in a.batch.relations] == [r.id for r in b.batch.relations]


def test_file_entity_is_keyed_by_path(extractor: FileExtractor) -> None:
    path = _path(extractor, "keyed")
    out = _extract(extractor, path, b"\n")
    files = [e for e in out.batch.entities if e.kind is EntityKind.FILE]
    assert [f.id for f in files] == [entity_id(EntityKind.FILE, REPO, path)]


def _check_invariants(out: FileExtract, path: str, data: bytes) -> None:
    scope = file_scope(REPO, path)
    ids = {e.id for e in out.batch.entities}
    assert len(ids) == len(out.batch.entities), "duplicate entity ids"
    n_lines = data.count(b"\n") + 1
    for e in out.batch.entities:
        assert e.owner == scope, e
        assert e.repo == REPO
        assert e.id == entity_id(e.kind, REPO, e.key)
        if e.span is not None:
            assert 1 <= e.span.start_line <= e.span.end_line <= n_lines, e
    for r in out.batch.relations:
        assert r.owner == scope, r
        assert 0.0 <= r.confidence <= 1.0
        assert r.provenance, r
        assert r.src in ids, r
    for d in out.batch.documents:
        assert d.entity_id in ids, d
    table = SymbolTable.model_validate_json(out.symbols.model_dump_json())
    assert table == out.symbols
    assert out.symbols.path == path
    for ref in out.references:
        assert ref.src in ids, ref
