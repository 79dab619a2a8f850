"""The resolver evaluates a file's repeated uses of an expression once per flow region and
binding: pinned to resolving each reference on its own (no memo shared between them)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from extractors.base import FileExtract, SourceFile
from extractors.code.expr import names_read
from extractors.code.python import PythonExtractor
from extractors.code.resolver import PythonResolver
from extractors.code.scope_index import TableIndex
from kg.model import EntityKind, Relation, RelationKind, entity_id

FIXTURE = Path(__file__).parent.parent / "fixtures" / "pyproj"
REPO = "memo"

REBOUND = b"""\
from os import path as p


class A:
    def m(self):
        return 1


class B:
    def m(self):
        return 2


def f(flag):
    x = A()
    x.m()
    x.m()
    x = B()
    x.m()
    for _ in range(3):
        x.m()
        x = A()
    p.join("a")
    p.join("b")
    return x.m()


def g():
    x = B()
    x.m()
    p.join("c")
"""


def _extract(path: str, data: bytes) -> FileExtract:
    return PythonExtractor().extract_file(SourceFile(REPO, path, data))


def _edges(relations: list[Relation]) -> set[tuple[object, ...]]:
    return {(r.kind, r.src, r.dst, r.confidence, r.provenance) for r in relations}


def _one_by_one(extract: FileExtract, tables: dict[str, object]) -> set[tuple[object, ...]]:
    out: set[tuple[object, ...]] = set()
    for ref in extract.references:
        alone = dataclasses.replace(extract, references=[ref])
        batch = PythonResolver().resolve(REPO, alone, tables)  # type: ignore[arg-type]
        out |= _edges([r for r in batch.relations if r.kind is not RelationKind.IMPORTS])
    return out


def test_rebound_names_are_told_apart_by_flow() -> None:
    ex = _extract("pkg/mod.py", REBOUND)
    tables = {ex.path: ex.symbols}
    batch = PythonResolver().resolve(REPO, ex, tables)
    f = entity_id(EntityKind.FUNCTION, REPO, "pkg/mod.py::f")
    g = entity_id(EntityKind.FUNCTION, REPO, "pkg/mod.py::g")
    a_m = entity_id(EntityKind.FUNCTION, REPO, "pkg/mod.py::A.m")
    b_m = entity_id(EntityKind.FUNCTION, REPO, "pkg/mod.py::B.m")
    calls = {(r.src, r.dst) for r in batch.relations if r.kind is RelationKind.CALLS}
    # f's x is an A, then a B, and in the loop either (the rebinding after the use flows back).
    assert {(f, a_m), (f, b_m), (g, b_m)} <= calls
    assert (g, a_m) not in calls
    refs = _edges([r for r in batch.relations if r.kind is not RelationKind.IMPORTS])
    assert refs == _one_by_one(ex, tables)


def test_fixture_files_resolve_as_each_reference_alone() -> None:
    extracts = {}
    for p in sorted(FIXTURE.rglob("*.py")):
        rel = p.relative_to(FIXTURE).as_posix()
        extracts[rel] = _extract(rel, p.read_bytes())
    tables = {path: e.symbols for path, e in extracts.items()}
    checked = 0
    for ex in extracts.values():
        if len(ex.references) < 2:
            continue
        batch = PythonResolver().resolve(REPO, ex, tables)
        refs = _edges([r for r in batch.relations if r.kind is not RelationKind.IMPORTS])
        assert refs == _one_by_one(ex, tables), ex.path
        checked += 1
    assert checked >= 3


def test_names_read() -> None:
    assert names_read("f(a, k=b.c).d") == (("a", "b", "f"), False)
    assert names_read("(x, y)[0].z") == (("x", "y"), False)
    assert names_read("^.x") == ((), True)
    assert names_read("@..pkg.mod") == ((), False)


def test_flow_marks_bound_each_binding_and_loop() -> None:
    ti = TableIndex(_extract("pkg/mod.py", REBOUND).symbols)
    marks = ti.flow_marks("f", "x")
    # Uses on lines 16 and 17 see the same x (the first A()); 19 sees the B().
    lines = [16, 17, 19]
    regions = [sum(1 for m in marks if m <= line) for line in lines]
    assert regions[0] == regions[1] != regions[2]
    # Names only the module binds: one region for every use in f.
    assert all(m <= 16 for m in ti.flow_marks("f", "p"))
