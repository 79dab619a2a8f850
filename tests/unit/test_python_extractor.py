"""The Python extractor over real files: the fixture package and hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.base import FileExtract, FileExtractor, ImportBinding, SourceFile
from extractors.code.python import PythonExtractor
from kg.model import EntityKind, RelationKind, entity_id, file_scope

FIXTURE = Path(__file__).parent.parent / "fixtures" / "pyproj"


def extract(path: str, data: bytes | None = None) -> FileExtract:
    raw = data if data is not None else (FIXTURE / path).read_bytes()
    return PythonExtractor().extract_file(SourceFile("pyproj", path, raw))


def entity(out: FileExtract, key: str):  # type: ignore[no-untyped-def]
    found = [e for e in out.batch.entities if e.key == key]
    assert found, f"no entity {key}; have {[e.key for e in out.batch.entities]}"
    return found[0]


def test_is_a_file_extractor() -> None:
    ex = PythonExtractor()
    assert isinstance(ex, FileExtractor)
    assert ex.name == "code-python"
    assert ex.extensions == frozenset({".py", ".pyi"})


def test_file_module_and_symbols_of_a_real_module() -> None:
    out = extract("src/shapes/circle.py")
    assert out.errors == []
    f = entity(out, "src/shapes/circle.py")
    assert f.kind is EntityKind.FILE and f.attrs["language"] == "python"
    assert f.attrs["loc"] == 26 and f.attrs["size"] == len((FIXTURE / f.key).read_bytes())
    module = entity(out, "shapes.circle")
    assert module.kind is EntityKind.MODULE and module.attrs["qualname"] == "shapes.circle"
    circle = entity(out, "src/shapes/circle.py::Circle")
    assert circle.kind is EntityKind.CLASS
    assert (circle.span.start_line, circle.span.end_line) == (8, 19)  # type: ignore[union-attr]
    assert circle.attrs["docstring"] == "A circle."
    assert circle.attrs["bases"] == ["Shape"]
    area = entity(out, "src/shapes/circle.py::Circle.area")
    assert area.attrs["signature"] == "area(self) -> float"
    assert area.attrs["qualname"] == "shapes.circle.Circle.area"
    assert area.attrs["is_method"] is True and area.attrs["is_async"] is False
    area_of = entity(out, "src/shapes/circle.py::area_of")
    assert area_of.attrs["is_async"] is True and area_of.attrs["is_method"] is False
    assert area_of.attrs["docstring"] == "Area of any shape, 0 for none."
    assert area_of.attrs["complexity"] == 3  # if + boolean operator + 1


def test_structure_relations_are_syntax_facts_owned_by_the_file() -> None:
    out = extract("src/shapes/circle.py")
    ids = {e.key: e.id for e in out.batch.entities}
    edges = {(r.kind, r.src, r.dst) for r in out.batch.relations}
    assert (RelationKind.CONTAINS, ids["src/shapes/circle.py"], ids["shapes.circle"]) in edges
    circle = ids["src/shapes/circle.py::Circle"]
    assert (RelationKind.DEFINES, ids["shapes.circle"], circle) in edges
    assert (
        RelationKind.DEFINES,
        ids["src/shapes/circle.py::Circle"],
        ids["src/shapes/circle.py::Circle.area"],
    ) in edges
    assert all(r.confidence == 1.0 and r.provenance == "code:syntax" for r in out.batch.relations)
    owner = file_scope("pyproj", "src/shapes/circle.py")
    assert all(r.owner == owner for r in out.batch.relations)
    assert all(e.owner == owner for e in out.batch.entities)
    assert out.batch.replace_scopes == {owner}


def test_documents_per_symbol_and_per_file() -> None:
    out = extract("src/shapes/base.py")
    by_name = {d.payload["name"]: d for d in out.batch.documents}
    assert set(by_name) == {
        "Shape",
        "Shape.__init__",
        "Shape.area",
        "Shape.describe",
        "tau",
        "src/shapes/base.py",
    }
    area = by_name["Shape.area"]
    # The enclosing class, then the code as written (signature and docstring are in it).
    assert area.text.startswith('Shape\ndef area(self) -> float:\n        """Area of the shape."""')
    assert area.payload["kind"] == "Function" and area.payload["path"] == "src/shapes/base.py"
    assert area.vector == "code"
    whole = by_name["src/shapes/base.py"]
    assert "Base classes for shapes." in whole.text and "describe" in whole.text


def test_symbol_table_imports_and_all() -> None:
    init = extract("src/shapes/__init__.py")
    table = init.symbols
    assert (table.module, table.is_package) == ("shapes", True)
    assert table.all_names == ["Circle", "Shape", "area_of"]
    assert (
        ImportBinding(local="Shape", target="base.Shape", level=1, symbol=True, line=3)
        in table.imports
    )
    app = extract("src/app.py").symbols
    assert ImportBinding(local="json", target="json", line=3) in app.imports
    assert ImportBinding(local="Circle", target="shapes.Circle", symbol=True, line=6) in app.imports
    defs = {d.qualname: d for d in extract("src/shapes/base.py").symbols.definitions}
    assert defs["Shape"].kind == "class" and defs["Shape"].line == 6
    assert defs["Shape.area"].id == entity_id(
        EntityKind.FUNCTION, "pyproj", "src/shapes/base.py::Shape.area"
    )
    assert defs["Shape.name"].kind == "attribute"  # self.name = name in __init__


def test_import_forms_and_local_scope() -> None:
    src = (
        b"import a.b\nimport c.d as e\nfrom . import m\nfrom ..p import q as r\n"
        b"from x import *\n\ndef f():\n    import os\n"
    )
    table = extract("pkg/sub/mod.py", src).symbols
    got = {(b.local, b.target, b.level, b.symbol, b.scope) for b in table.imports}
    assert got == {
        ("a.b", "a.b", 0, False, ""),
        ("e", "c.d", 0, False, ""),
        ("m", "m", 1, True, ""),
        ("r", "p.q", 2, True, ""),
        ("*", "x", 0, False, ""),
        ("os", "os", 0, False, "f"),
    }
    assert table.wildcard_imports == ["x"]


def test_references_calls_bases_and_scopes() -> None:
    out = extract("src/shapes/circle.py")
    refs = {(r.name, r.kind, r.scope) for r in out.references}
    assert ("tau", RelationKind.CALLS, "Circle.circumference") in refs
    assert ("Shape", RelationKind.INHERITS, "") in refs
    assert ("shape.area", RelationKind.CALLS, "area_of") in refs
    assert ("math.pi", RelationKind.REFERENCES, "Circle.area") in refs
    inherits = next(r for r in out.references if r.kind is RelationKind.INHERITS)
    assert inherits.src == entity(out, "src/shapes/circle.py::Circle").id
    assert (inherits.line, inherits.col) == (8, 13)


def test_syntax_errors_keep_what_parses() -> None:
    src = b"def ok():\n    return 1\n\ndef broken(:\n    pass\n\nclass After:\n    pass\n"
    out = extract("bad.py", src)
    assert out.errors and any(e.startswith("line 4") for e in out.errors)
    keys = {e.key for e in out.batch.entities}
    assert {"bad.py::ok", "bad.py::After"} <= keys


def test_invalid_utf8_is_replaced_and_reported() -> None:
    out = extract("latin.py", b"name = '\xe9t\xe9'\n\ndef f():\n    return name\n")
    assert any("invalid UTF-8" in e for e in out.errors)
    assert "latin.py::f" in {e.key for e in out.batch.entities}


def test_empty_file() -> None:
    out = extract("empty.py", b"")
    assert out.errors == []
    assert {e.kind for e in out.batch.entities} == {EntityKind.FILE, EntityKind.MODULE}
    assert out.references == []


@pytest.mark.parametrize("depth", [5000])
def test_deeply_nested_expression_does_not_overflow(depth: int) -> None:
    src = ("x = " + "(" * depth + "y" + ")" * depth + "\nz = x\n").encode()
    out = extract("deep.py", src)
    assert [d.qualname for d in out.symbols.definitions if d.kind == "variable"] == ["x", "z"]


def test_deeply_nested_definitions_do_not_overflow() -> None:
    lines = [" " * i + f"def f{i}():" for i in range(500)] + [" " * 500 + "return f0"]
    out = extract("nested.py", "\n".join(lines).encode())
    functions = [e for e in out.batch.entities if e.kind is EntityKind.FUNCTION]
    assert len(functions) == 500
    assert functions[-1].attrs["qualname"] == "nested." + ".".join(f"f{i}" for i in range(500))
