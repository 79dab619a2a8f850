"""Cross-file resolution over the fixture package: edges, confidence, provenance."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from extractors.base import FileExtract, Resolver, SourceFile, SymbolTable
from extractors.code.python import PythonExtractor
from extractors.code.resolver import PythonResolver
from kg.model import Batch, EntityKind, Relation, RelationKind, entity_id, resolve_scope

FIXTURE = Path(__file__).parent.parent / "fixtures" / "pyproj"
REPO = "pyproj"


def fid(kind: EntityKind, key: str) -> str:
    return entity_id(kind, REPO, key)


@pytest.fixture(scope="module")
def project() -> tuple[dict[str, FileExtract], dict[str, SymbolTable]]:
    ex = PythonExtractor()
    extracts = {}
    for p in sorted(FIXTURE.rglob("*.py")):
        rel = p.relative_to(FIXTURE).as_posix()
        extracts[rel] = ex.extract_file(SourceFile(REPO, rel, p.read_bytes()))
    return extracts, {path: e.symbols for path, e in extracts.items()}


def resolve(project: tuple[dict[str, FileExtract], Mapping[str, SymbolTable]], path: str) -> Batch:
    extracts, tables = project
    return PythonResolver().resolve(REPO, extracts[path], tables)


def edge(batch: Batch, kind: RelationKind, src: str, dst: str) -> Relation:
    found = [r for r in batch.relations if (r.kind, r.src, r.dst) == (kind, src, dst)]
    assert found, f"no {kind} {src} -> {dst}"
    return found[0]


def test_is_a_resolver() -> None:
    assert isinstance(PythonResolver(), Resolver)
    assert isinstance(PythonExtractor().resolver(), PythonResolver)


def test_inheritance_and_calls_across_files(project) -> None:  # type: ignore[no-untyped-def]
    batch = resolve(project, "src/shapes/circle.py")
    circle = fid(EntityKind.CLASS, "src/shapes/circle.py::Circle")
    shape = fid(EntityKind.CLASS, "src/shapes/base.py::Shape")
    inherits = edge(batch, RelationKind.INHERITS, circle, shape)
    assert (inherits.provenance, inherits.confidence) == ("code:import-resolved", 0.95)
    calls = edge(
        batch,
        RelationKind.CALLS,
        fid(EntityKind.FUNCTION, "src/shapes/circle.py::Circle.circumference"),
        fid(EntityKind.FUNCTION, "src/shapes/base.py::tau"),
    )
    assert (calls.provenance, calls.confidence) == ("code:import-resolved", 0.95)
    super_init = edge(
        batch,
        RelationKind.CALLS,
        fid(EntityKind.FUNCTION, "src/shapes/circle.py::Circle.__init__"),
        fid(EntityKind.FUNCTION, "src/shapes/base.py::Shape.__init__"),
    )
    assert (super_init.provenance, super_init.confidence) == ("code:member", 0.85)
    annotated = edge(
        batch,
        RelationKind.CALLS,
        fid(EntityKind.FUNCTION, "src/shapes/circle.py::area_of"),
        fid(EntityKind.FUNCTION, "src/shapes/base.py::Shape.area"),
    )
    assert annotated.provenance == "code:member"
    owner = resolve_scope(REPO, "src/shapes/circle.py")
    assert all(r.owner == owner for r in batch.relations)
    assert batch.replace_scopes == {owner}


def test_self_member_and_reexported_class(project) -> None:  # type: ignore[no-untyped-def]
    base = resolve(project, "src/shapes/base.py")
    describe = fid(EntityKind.FUNCTION, "src/shapes/base.py::Shape.describe")
    area = fid(EntityKind.FUNCTION, "src/shapes/base.py::Shape.area")
    assert edge(base, RelationKind.CALLS, describe, area).provenance == "code:member"
    app = resolve(project, "src/app.py")
    main = fid(EntityKind.FUNCTION, "src/app.py::main")
    # ``from shapes import Circle`` reaches the class through shapes/__init__.py
    circle = fid(EntityKind.CLASS, "src/shapes/circle.py::Circle")
    ctor = edge(app, RelationKind.CALLS, main, circle)
    assert ctor.provenance == "code:import-resolved"
    # c = Circle(2.0); c.describe() finds the inherited method
    inherited = edge(app, RelationKind.CALLS, main, describe)
    assert (inherited.provenance, inherited.confidence) == ("code:member", 0.85)
    tau = fid(EntityKind.FUNCTION, "src/shapes/base.py::tau")
    chained = edge(app, RelationKind.CALLS, main, tau)
    assert chained.provenance == "code:import-resolved"
    local = edge(app, RelationKind.CALLS, main, fid(EntityKind.FUNCTION, "src/app.py::report"))
    assert (local.provenance, local.confidence) == ("code:scope", 0.9)


def test_name_match_and_ambiguous_fallbacks(project) -> None:  # type: ignore[no-untyped-def]
    app = resolve(project, "src/app.py")
    untyped = fid(EntityKind.FUNCTION, "src/app.py::untyped")
    unique = edge(
        app,
        RelationKind.CALLS,
        untyped,
        fid(EntityKind.FUNCTION, "src/shapes/circle.py::Circle.circumference"),
    )
    assert (unique.provenance, unique.confidence) == ("code:name-match", 0.6)
    for key in ("src/shapes/base.py::Shape.area", "src/shapes/circle.py::Circle.area"):
        amb = edge(app, RelationKind.CALLS, untyped, fid(EntityKind.FUNCTION, key))
        assert amb.provenance == "code:ambiguous"
        assert amb.confidence == pytest.approx(0.3)


def test_external_modules_come_back_as_entities(project) -> None:  # type: ignore[no-untyped-def]
    app = resolve(project, "src/app.py")
    json_module = fid(EntityKind.MODULE, "external:json")
    [external] = [e for e in app.entities if e.id == json_module]
    assert external.attrs["external"] is True and external.name == "json"
    module = fid(EntityKind.MODULE, "app")
    imp = edge(app, RelationKind.IMPORTS, module, json_module)
    assert (imp.provenance, imp.confidence) == ("code:external", 0.9)
    report = fid(EntityKind.FUNCTION, "src/app.py::report")
    assert edge(app, RelationKind.CALLS, report, json_module).provenance == "code:external"
    assert (
        edge(app, RelationKind.IMPORTS, module, fid(EntityKind.MODULE, "shapes")).provenance
        == "code:import-resolved"
    )
    # the imported symbol's module, behind the package's re-export
    edge(app, RelationKind.IMPORTS, module, fid(EntityKind.MODULE, "shapes.circle"))


def test_builtins_bind_nothing(project) -> None:  # type: ignore[no-untyped-def]
    app = resolve(project, "src/app.py")
    names = {e.name for e in app.entities}
    assert "print" not in names and "builtins" not in names
    main = fid(EntityKind.FUNCTION, "src/app.py::main")
    assert len([r for r in app.relations if r.src == main and r.kind is RelationKind.CALLS]) == 4


def test_depends_on_follows_reexports(project) -> None:  # type: ignore[no-untyped-def]
    _, tables = project
    resolver = PythonResolver()
    assert resolver.depends_on(tables["src/app.py"], tables) == {
        "src/shapes/__init__.py",
        "src/shapes/base.py",
        "src/shapes/circle.py",
    }
    assert resolver.depends_on(tables["src/shapes/base.py"], tables) == set()


def test_deep_file_resolves_without_overflow() -> None:
    lines = [" " * i + f"def f{i}(x):" for i in range(500)] + [" " * 500 + "return f0(x).y"]
    ex = PythonExtractor()
    out = ex.extract_file(SourceFile(REPO, "deep.py", "\n".join(lines).encode()))
    batch = PythonResolver().resolve(REPO, out, {"deep.py": out.symbols})
    assert any(r.dst == fid(EntityKind.FUNCTION, "deep.py::f0") for r in batch.relations)
