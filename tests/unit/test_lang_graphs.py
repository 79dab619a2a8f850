"""Every built-in tree-sitter language over a small real multi-file project
(``tests/fixtures/langs/<lang>``): definitions with kinds and spans, and resolved cross-file
edges with their confidence and provenance, through the registry the pipeline uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from extractors.base import FileExtract, SourceFile
from extractors.registry import ExtractorRegistry
from kg.model import Entity

FIXTURES = Path(__file__).parent.parent / "fixtures" / "langs"
REGISTRY = ExtractorRegistry.from_entry_points()


@dataclass
class Project:
    extracts: dict[str, FileExtract]
    entities: dict[str, Entity]
    edges: set[tuple[str, str, str, float, str]]  # kind, src key, dst key, confidence, how

    def entity(self, key: str) -> Entity:
        assert key in self.entities, f"no {key}; have {sorted(self.entities)}"
        return self.entities[key]

    def span(self, key: str) -> tuple[int, int]:
        span = self.entity(key).span
        assert span is not None
        return span.start_line, span.end_line

    def edge(self, kind: str, src: str, dst: str) -> tuple[float, str]:
        found = [(c, how) for k, s, d, c, how in self.edges if (k, s, d) == (kind, src, dst)]
        assert found, f"no {kind} {src} -> {dst}; have " + "\n".join(
            f"{k} {s} -> {d}" for k, s, d, _, _ in sorted(self.edges) if k == kind
        )
        return found[0]


def index(lang: str) -> Project:
    """A fixture language's project, or any directory's (``lang`` a path)."""
    root = FIXTURES / lang
    extracts: dict[str, FileExtract] = {}
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = file.relative_to(root).as_posix()
        extractor = REGISTRY.for_path(rel)
        if extractor is not None:
            extracts[rel] = extractor.extract_file(SourceFile(lang, rel, file.read_bytes()))
    tables = {p: e.symbols for p, e in extracts.items()}
    entities = {e.id: e for ex in extracts.values() for e in ex.batch.entities}
    relations = [r for ex in extracts.values() for r in ex.batch.relations]
    for path, ex in extracts.items():
        resolver = REGISTRY.for_path(path).resolver()  # type: ignore[union-attr]
        assert resolver is not None
        batch = resolver.resolve(lang, ex, tables)
        entities.update({e.id: e for e in batch.entities})
        relations += batch.relations
    for ex in extracts.values():
        assert ex.errors == [], ex.errors
    keys = {e.id: e.key for e in entities.values()}
    edges = {
        (r.kind.value, keys.get(r.src, r.src), keys.get(r.dst, r.dst), r.confidence, r.provenance)
        for r in relations
    }
    return Project(extracts, {e.key: e for e in entities.values()}, edges)


IMPORTED = (0.95, "code:import-resolved")
MEMBER = (0.85, "code:member")
SAME_FILE = (0.9, "code:scope")


def test_every_language_is_registered_through_entry_points() -> None:
    names = set(REGISTRY.names())
    assert {
        "code-python",
        "code-javascript",
        "code-typescript",
        "code-tsx",
        "code-go",
        "code-java",
        "code-kotlin",
        "code-csharp",
        "code-rust",
        "code-c",
        "code-cpp",
        "code-ruby",
        "code-php",
    } <= names
    for path in (
        "a.js",
        "a.ts",
        "a.tsx",
        "a.go",
        "A.java",
        "a.kt",
        "A.cs",
        "a.rs",
        "a.c",
        "a.h",
        "a.cpp",
        "a.hpp",
        "a.rb",
        "a.php",
    ):
        assert REGISTRY.for_path(path) is not None, path


def test_javascript() -> None:
    p = index("javascript")
    shape = p.entity("src/lib/geometry.js::Shape")
    assert shape.kind.value == "Class" and p.span(shape.key) == (11, 24)
    area = p.entity("src/lib/geometry.js::circleArea")
    assert area.attrs["signature"] == "function circleArea(r)"
    assert area.attrs["docstring"] == "Area of a circle of radius r."
    assert p.span("src/lib/geometry.js::Shape.describe") == (17, 19)
    assert (
        p.edge("CALLS", "src/lib/circle.js::Circle.area", "src/lib/geometry.js::circleArea")
        == IMPORTED
    )
    assert p.edge("INHERITS", "src/lib/circle.js::Circle", "src/lib/geometry.js::Shape") == IMPORTED
    assert p.edge("CALLS", "src/app.js::main", "src/lib/geometry.js::Shape.describe") == MEMBER
    assert p.edge("CALLS", "src/app.js::main", "src/lib/circle.js::Circle") == IMPORTED
    assert p.edge("IMPORTS", "src/app.js", "external:fs") == (0.9, "code:external")


def test_typescript() -> None:
    p = index("typescript")
    assert p.entity("src/models/shape.ts::Shape").attrs["kind"] == "interface"
    assert p.entity("src/models/shape.ts::Unit").attrs["kind"] == "enum"
    assert p.span("src/models/shape.ts::BaseShape") == (12, 20)
    assert p.entity("src/models/square.ts::makeSquare").attrs["signature"] == (
        "function makeSquare(side: number): Square"
    )
    assert p.edge("CALLS", "src/index.ts", "src/models/square.ts::makeSquare") == IMPORTED
    assert (
        p.edge("INHERITS", "src/models/square.ts::Square", "src/models/shape.ts::BaseShape")
        == IMPORTED
    )
    assert (
        p.edge("INHERITS", "src/models/shape.ts::BaseShape", "src/models/shape.ts::Shape")
        == SAME_FILE
    )
    # sq: Square = makeSquare(3); sq.label() is inherited from BaseShape
    assert p.edge("CALLS", "src/index.ts", "src/models/shape.ts::BaseShape.label") == MEMBER


def test_tsx() -> None:
    p = index("tsx")
    assert p.entity("Button.tsx::Button").attrs["docstring"] == "A button that formats its label."
    assert p.edge("CALLS", "Button.tsx::Button", "format.ts::formatLabel") == IMPORTED
    assert p.edge("CALLS", "App.tsx::App", "Button.tsx::Button") == IMPORTED  # <Button />
    assert p.edge("IMPORTS", "Button.tsx", "external:react") == (0.9, "code:external")


def test_go() -> None:
    p = index("go")
    assert p.entity("internal/geom/shape.go::Circle").attrs["kind"] == "struct"
    area = p.entity("internal/geom/shape.go::Circle.Area")
    assert p.span(area.key) == (22, 24) and area.attrs["is_method"] is True
    assert area.attrs["docstring"] == "Area of the circle."
    assert p.edge("CALLS", "cmd/app/main.go::main", "internal/geom/shape.go::NewCircle") == IMPORTED
    # c := geom.NewCircle(2) returns *Circle: c.Area() is the method
    assert p.edge("CALLS", "cmd/app/main.go::main", "internal/geom/shape.go::Circle.Area") == MEMBER
    # same package, other file
    assert (
        p.edge("CALLS", "internal/geom/shape.go::Circle.Area", "internal/geom/util.go::square")
        == IMPORTED
    )


def test_java() -> None:
    p = index("java")
    base = "src/main/java/com/acme/"
    circle = p.entity(base + "shapes/Circle.java::Circle")
    assert circle.attrs["bases"] == ["AbstractShape", "Shape"] and p.span(circle.key) == (6, 18)
    assert circle.attrs["docstring"] == "A circle."
    assert p.entity(base + "shapes/Shape.java::Shape").attrs["kind"] == "interface"
    assert (
        p.edge(
            "CALLS",
            base + "app/Main.java::Main.main",
            base + "shapes/AbstractShape.java::AbstractShape.describe",
        )
        == MEMBER
    )
    assert (
        p.edge(
            "CALLS",
            base + "shapes/Circle.java::Circle.area",
            base + "shapes/MathUtil.java::MathUtil.square",
        )
        == MEMBER
    )
    assert (
        p.edge("INHERITS", base + "shapes/Circle.java::Circle", base + "shapes/Shape.java::Shape")
        == IMPORTED
    )
    assert (
        p.edge("CALLS", base + "app/Main.java::Main.main", base + "app/Main.java::Main.report")
        == SAME_FILE
    )


def test_kotlin() -> None:
    p = index("kotlin")
    base = "src/main/kotlin/com/acme/"
    assert p.span(base + "shapes/Shape.kt::Circle") == (9, 13)
    assert p.entity(base + "shapes/MathUtil.kt::Registry").attrs["kind"] == "object"
    assert (
        p.edge("CALLS", base + "app/Main.kt::main", base + "shapes/MathUtil.kt::square") == IMPORTED
    )
    assert (
        p.edge("CALLS", base + "app/Main.kt::main", base + "shapes/Shape.kt::Circle.describe")
        == MEMBER
    )
    assert (
        p.edge("CALLS", base + "shapes/Shape.kt::Circle.area", base + "shapes/MathUtil.kt::square")
        == IMPORTED
    )


def test_csharp() -> None:
    p = index("csharp")
    assert p.entity("Shapes/Shape.cs::IShape").attrs["docstring"] == "Anything with an area."
    assert p.span("Shapes/Circle.cs::Circle") == (5, 15)
    assert (
        p.edge("CALLS", "App/Program.cs::Program.Main", "Shapes/Shape.cs::Shape.Describe") == MEMBER
    )
    assert p.edge("CALLS", "App/Program.cs::Program.Main", "Shapes/Circle.cs::Circle") == IMPORTED
    assert p.edge("INHERITS", "Shapes/Circle.cs::Circle", "Shapes/Shape.cs::Shape") == IMPORTED


def test_rust() -> None:
    p = index("rust")
    circle = p.entity("src/shapes/circle.rs::Circle")
    assert circle.attrs["kind"] == "struct" and circle.attrs["docstring"] == "A round shape."
    assert p.span("src/shapes/circle.rs::Circle.new") == (11, 13)
    assert p.entity("src/shapes/mod.rs::Shape").attrs["kind"] == "trait"
    assert p.edge("CALLS", "src/lib.rs::demo", "src/shapes/circle.rs::Circle.new") == MEMBER
    assert (
        p.edge("INHERITS", "src/shapes/circle.rs::Circle", "src/shapes/mod.rs::Shape") == IMPORTED
    )
    assert p.edge("IMPORTS", "src/lib.rs", "src/shapes/circle.rs") == IMPORTED


def test_c() -> None:
    p = index("c")
    assert p.entity("src/geometry.h::point").attrs["kind"] == "struct"
    square = p.entity("src/geometry.c::square")
    assert p.span(square.key) == (5, 7) and square.attrs["docstring"] == "Square of x."
    assert p.edge("CALLS", "src/main.c::main", "src/geometry.c::distance") == IMPORTED
    assert p.edge("CALLS", "src/geometry.c::distance", "src/geometry.c::square") == SAME_FILE
    assert p.edge("IMPORTS", "src/main.c", "src/geometry.h") == IMPORTED


def test_cpp() -> None:
    p = index("cpp")
    assert p.entity("src/shape.hpp::geo").attrs["kind"] == "namespace"
    assert p.entity("src/shape.hpp::geo.Circle").attrs["bases"] == ["Shape"]
    assert p.span("src/shape.cpp::geo.Circle.area") == (10, 12)
    assert p.edge("CALLS", "src/main.cpp::main", "src/shape.cpp::geo.square") == MEMBER
    assert p.edge("CALLS", "src/main.cpp::main", "src/shape.cpp::geo.Shape.describe") == MEMBER
    assert p.edge("INHERITS", "src/shape.hpp::geo.Circle", "src/shape.hpp::geo.Shape") == SAME_FILE


def test_ruby() -> None:
    p = index("ruby")
    assert p.entity("lib/shapes/shape.rb::Shapes").attrs["kind"] == "module"
    assert p.span("lib/shapes/shape.rb::Shapes.Shape.describe") == (9, 11)
    assert (
        p.edge(
            "CALLS",
            "lib/shapes/circle.rb::Shapes.Circle.area",
            "lib/shapes/math_util.rb::MathUtil.square",
        )
        == MEMBER
    )
    assert (
        p.edge("CALLS", "lib/app.rb::main", "lib/shapes/shape.rb::Shapes.Shape.describe") == MEMBER
    )
    assert (
        p.edge(
            "INHERITS", "lib/shapes/circle.rb::Shapes.Circle", "lib/shapes/shape.rb::Shapes.Shape"
        )
        == IMPORTED
    )
    assert p.edge("IMPORTS", "lib/shapes/circle.rb", "lib/shapes/shape.rb") == IMPORTED


def test_php() -> None:
    p = index("php")
    assert p.entity("src/Shapes/Shape.php::Shape").attrs["kind"] == "interface"
    assert p.span("src/Shapes/Circle.php::Circle.area") == (16, 19)
    assert p.entity("src/Shapes/Circle.php::Circle.area").attrs["docstring"] == "Pi r squared."
    assert p.edge("CALLS", "src/App/main.php::run", "src/Shapes/Circle.php::Circle") == IMPORTED
    assert (
        p.edge("CALLS", "src/App/main.php::run", "src/Shapes/AbstractShape.php::MathUtil.square")
        == MEMBER
    )
    assert (
        p.edge(
            "CALLS",
            "src/Shapes/Circle.php::Circle.area",
            "src/Shapes/AbstractShape.php::MathUtil.square",
        )
        == MEMBER
    )


@pytest.mark.parametrize("lang", ["javascript", "go", "java", "rust", "cpp", "ruby"])
def test_depends_on_names_the_files_resolution_read(lang: str) -> None:
    p = index(lang)
    tables = {path: ex.symbols for path, ex in p.extracts.items()}
    deps = {
        path: REGISTRY.for_path(path)
        .resolver()
        .depends_on(  # type: ignore[union-attr]
            ex.symbols, tables
        )
        for path, ex in p.extracts.items()
    }
    assert any(deps.values()), deps
    assert all(path not in d for path, d in deps.items())


def test_javascript_values_reach_the_graph(tmp_path: Path) -> None:
    """Object literal namespaces, renamed exports and destructured members become entities
    and edges, not just golden-test answers."""
    root = tmp_path / "web"
    (root / "lib").mkdir(parents=True)
    (root / "lib/math.js").write_text(
        "function clamp(v) {\n  return v;\n}\n"
        "export { clamp as bound };\n"
        "export const api = {\n  fetch() {\n    return 1;\n  },\n};\n"
    )
    (root / "app.js").write_text(
        "import { bound, api } from './lib/math.js';\n"
        "export function go() {\n"
        "  bound(1);\n"
        "  api.fetch();\n"
        "  const { fetch } = api;\n"
        "  return fetch();\n"
        "}\n"
    )
    p = index(str(root))
    api = p.entity("lib/math.js::api")
    assert api.kind.value == "Class" and api.attrs["kind"] == "object"
    assert p.span("lib/math.js::api.fetch") == (6, 8)
    assert p.edge("CALLS", "app.js::go", "lib/math.js::clamp") == IMPORTED
    assert p.edge("CALLS", "app.js::go", "lib/math.js::api.fetch") == IMPORTED
    calls = {d for k, s, d, _, _ in p.edges if k == "CALLS" and s == "app.js::go"}
    assert calls == {"lib/math.js::clamp", "lib/math.js::api.fetch"}
