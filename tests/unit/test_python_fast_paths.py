"""The shortcuts of Python extraction give what the long way gives.

Plain member chains take their source text instead of a walk (calls are walked), the three
query files run as one query, a symbol's document decodes only the code it can show; the
expected values here are what the long ways produce.
"""

from __future__ import annotations

import pytest

from extractors.base import SourceFile
from extractors.code.documents import DOC_LIMIT, code_prefix, symbol_document
from extractors.code.python import PythonExtractor
from extractors.code.python_defs import expr_text
from kg.model import AttrValue, Entity, EntityKind, RelationKind


def _value(source: bytes) -> str:
    """The expression text of the right-hand side of ``x = <source>``."""
    src = b"x = " + source + b"\n"
    tree = PythonExtractor().engine.parse(src)
    value = tree.root_node.named_child(0)
    while value is not None and value.type != "assignment":
        value = value.named_child(0)
    assert value is not None
    right = value.child_by_field_name("right")
    assert right is not None
    return expr_text(right, src)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (b"a.b.c", "a.b.c"),
        (b"a . b", "a.b"),  # spaces: the walk drops them
        (b"None.__class__", "?.__class__"),  # a literal, not a name
        (b"True.real.x", "?.real.x"),
        (b"Nonesuch.y", "Nonesuch.y"),
        (b"print.x", "print.x"),
        ("\u00e9t\u00e9.x".encode(), "\u00e9t\u00e9.x"),  # beyond ASCII: the walk
        (b"a.b.c.d.e.f.g.h.i.j.k", "a.b.c.d.e.f.g.h.i.j.k"),  # ten dots: within the cap
        (b"a.b.c.d.e.f.g.h.i.j.k.l", "?.?.c.d.e.f.g.h.i.j.k.l"),  # eleven: the cap cuts
        (b"f(a.b, k=c.d)", "f(a.b,k=c.d)"),
        (b"(a.b).c", "a.b.c"),
    ],
)
def test_member_chain_text(source: bytes, expected: str) -> None:
    assert _value(source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (b"f(a, k = b.c,)", "f(a,k=b.c)"),
        (b"f ( a )", "f(a)"),
        (b"f(\n    a,\n    b.c,\n)", "f(a,b.c)"),
        (b"super().m", "^^.m"),
        (b"super(A, self).m", "^^.m"),
        (b"super(A)", "^^"),
        (b"f(None)", "f(?)"),
        (b"None(x)", "?(x)"),
        (b"f(a=None)", "f(a=?)"),
        (b"f(*a)", "f()"),
        (b"f(a)(b)", "f(a)(b)"),
        (b"f(a, # c\n b)", "f(a,b)"),
        (b"a.b.c.d.e.f.g.h.i.j(x)", "a.b.c.d.e.f.g.h.i.j(x)"),
        (b"a.b.c.d.e.f.g.h.i.j.k(x)", "?.?.c.d.e.f.g.h.i.j.k(x)"),
        (b"f()", "f()"),
        (b"f(1)", "f(?)"),
    ],
)
def test_call_text(source: bytes, expected: str) -> None:
    assert _value(source) == expected


def test_chains_in_a_broken_file() -> None:
    src = b"x = a.b.c\ndef (:\n"
    out = PythonExtractor().extract_file(SourceFile("r", "m.py", src))
    assert out.errors
    assert [d.values for d in out.symbols.definitions if d.qualname == "x"] == [["a.b.c"]]


def test_references_of_every_query_file_come_out() -> None:
    src = (
        b"import os.path as p\n"
        b"from .pkg import thing\n"
        b"class A(Base):\n"
        b"    def m(self):\n"
        b"        return p.join(self.v, thing)\n"
    )
    out = PythonExtractor().extract_file(SourceFile("r", "m.py", src))
    got = {(r.name, r.kind, r.line) for r in out.references}
    assert ("@os", RelationKind.REFERENCES, 1) in got  # imports.scm
    assert ("@.pkg.thing", RelationKind.REFERENCES, 2) in got
    assert ("Base", RelationKind.INHERITS, 3) in got  # references.scm
    assert ("p.join", RelationKind.CALLS, 5) in got
    assert ("self.v", RelationKind.REFERENCES, 5) in got
    assert ("thing", RelationKind.REFERENCES, 5) in got
    names = {d.qualname for d in out.symbols.definitions}  # definitions.scm
    assert {"A", "A.m"} <= names
    assert [(b.local, b.target) for b in out.symbols.imports] == [
        ("p", "os.path"),
        ("thing", "pkg.thing"),
    ]


@pytest.mark.parametrize("doc", ["", "Find it.", "Only after the cut.", "\u00e9t\u00e9 " * 3])
@pytest.mark.parametrize("size", [10, DOC_LIMIT, 4 * DOC_LIMIT + 3, 6 * DOC_LIMIT])
def test_a_code_prefix_makes_the_same_document(doc: str, size: int) -> None:
    """Multi-byte characters across the cut, the docstring's line before or after it."""
    body = "def f():\n    '''Find it.'''\n" + "\u20ac" * size + "\nOnly after the cut.\n"
    src = ("# head\n" + body + "# tail\n").encode()
    start = len(b"# head\n")
    end = start + len(body.encode())
    entity = Entity.make(EntityKind.FUNCTION, "r", "m.py::f", name="f", owner="o")
    attrs: dict[str, AttrValue] = {"docstring": doc}
    full = symbol_document(entity, "C.f", "m.py", "python", attrs, body)
    short = code_prefix(src, start, end, doc)
    assert symbol_document(entity, "C.f", "m.py", "python", attrs, short).text == full.text
    assert len(short) >= min(len(body), DOC_LIMIT)
