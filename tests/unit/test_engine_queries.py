"""QueryEngine.matches_all: one pass over the tree gives each query file's own matches."""

from __future__ import annotations

import pytest
from tree_sitter import Node

from extractors.base import SourceFile
from extractors.code.engine import Captures, QueryEngine
from extractors.code.languages import PhpExtractor
from kg.model import RelationKind

SNIPPETS = {
    "typescript": b"""
import { a as b, c } from "./m";
export * from "./n";
const { x, y: z } = require("./r");
class Shape extends Base implements Drawable {
  area(): number { return this.w * helper(b, c); }
}
export function make(kind: string): Shape { const s = new Shape(); return s; }
""",
    "rust": b"""
use crate::a::{b, c as d};
mod inner;
struct Point { x: i32 }
impl Display for Point {
    fn fmt(&self, f: &mut Formatter) -> Result { write!(f, "{}", self.x); helper(d) }
}
fn main() { let p = Point { x: 1 }; for i in 0..3 { p.fmt(i); } }
""",
    "java": b"""
package a.b;
import java.util.List;
public class Circle extends Shape implements Comparable<Circle> {
  private final double r;
  Circle(double r) { this.r = r; }
  double area() { return Math.PI * r * r + helper(List.of(r)); }
}
""",
    "python": b"""
from .a import b as c
import os.path
class K(Base):
    def m(self, x):
        return c(os.path.join(x, self.y))
""",
}


def _shape(matches: list[tuple[int, Captures]]) -> list[tuple[int, list[tuple[str, list[int]]]]]:
    def spans(nodes: list[Node]) -> list[int]:
        return [n.start_byte for n in nodes] + [n.end_byte for n in nodes]

    return [(p, sorted((k, spans(v)) for k, v in caps.items())) for p, caps in matches]


@pytest.mark.parametrize("language", sorted(SNIPPETS))
def test_matches_all_equals_each_query_alone(language: str) -> None:
    engine = QueryEngine.for_language(language)
    root = engine.parse(SNIPPETS[language]).root_node
    every = engine.matches_all(root)
    assert sorted(every) == sorted(engine.queries)
    for kind in engine.queries:
        alone = engine.matches(kind, root)
        assert alone, f"{language} {kind}.scm matches nothing in the snippet"
        assert _shape(every[kind]) == _shape(alone)


def test_query_files_inherit_and_count_patterns_alone() -> None:
    """TSX inherits TypeScript's definitions: both count the same patterns, and TSX's
    combined query splits its patterns at the same places."""
    tsx, ts = QueryEngine.for_language("tsx"), QueryEngine.for_language("typescript")
    source = b"export const f = () => <div>{g(1)}</div>;\nfunction g(x: number) { return x }\n"
    root = tsx.parse(source).root_node
    assert len(tsx.queries) == len(ts.queries)
    for kind in tsx.queries:
        assert _shape(tsx.matches_all(root)[kind]) == _shape(tsx.matches(kind, root))


def test_a_node_two_reference_patterns_capture_is_one_use() -> None:
    """PHP captures a parameter's type both as a ``(name)`` and as a ``(named_type (name))``:
    one query pass over every pattern still makes one use of it."""
    source = b"<?php\nfunction f(Foo $x) { return new Foo(); }\n"
    out = PhpExtractor().extract_file(SourceFile("r", "a.php", source))
    uses = [(r.name, r.kind, r.line, r.col) for r in out.references if r.name == "Foo"]
    assert uses == [
        ("Foo", RelationKind.REFERENCES, 2, 11),
        ("Foo", RelationKind.CALLS, 2, 32),
    ]
