"""What the generic syntax walker (``generic_syntax.py``) finds in one file: scopes,
definitions, imports and references, plus the helpers every stage of the walk reads captures
and names with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from extractors.code.lang_spec import LangSpec, child
from kg.model import RelationKind

Captures = dict[str, list[Node]]
Span = tuple[int, int]
Flow = tuple[Span | None, Span | None]  # lines of a binding's branch and loop
CLASS_KINDS = frozenset(
    {
        "class",
        "interface",
        "struct",
        "enum",
        "trait",
        "union",
        "record",
        "object",
        "namespace",
        "module",
    }
)
FUNCTION_KINDS = frozenset({"function", "method", "constructor"})
MAX_PATTERN = 64


@dataclass(slots=True)
class GScope:
    qualname: str
    kind: str  # module | class kinds | function kinds | impl | lambda
    start: int
    end: int
    node: Node | None = None
    name: str = ""
    prefix: str = ""  # a qualifier the name carries (``Foo`` of ``Foo::bar``, Go receivers)
    parent: int = -1
    caps: Captures = field(default_factory=dict)
    defn: GDef | None = None


@dataclass(slots=True)
class GDef:
    name: str
    kind: str  # class | function | variable | local | parameter | attribute
    scope: int
    scope_name: str
    line: int
    col: int
    values: list[str] = field(default_factory=list)
    value_scope: str | None = None
    index: int = -1
    node: Node | None = None
    bases: list[str] = field(default_factory=list)
    detail: str = ""  # the declared kind (interface, struct, ...) of a class-like definition
    alias: bool = False  # a name for another definition (``export default``): no entity
    block: tuple[int, int] | None = None  # lines of the branch that may not run it
    loop: tuple[int, int] | None = None  # lines of the outermost loop repeating it
    rebinds: bool = False  # an assignment (``@rebind``), not a declaration
    instance: bool = False  # a member of instances only (``LangSpec.class_bodies``)


@dataclass(slots=True)
class GImport:
    """An import as written: ``source`` text, imported ``name``, ``alias``, flags."""

    source: str
    name: str = ""
    alias: str = ""
    wildcard: bool = False
    default: bool = False
    namespace: bool = False
    line: int = 0
    scope: str = ""
    node: Node | None = None
    name_node: Node | None = None  # where the imported name is written (for its reference)
    scope_index: int = 0


@dataclass(slots=True)
class GRef:
    name: str
    kind: RelationKind
    line: int
    col: int
    scope: int
    owner: int = -1


@dataclass(slots=True)
class GSyntax:
    scopes: list[GScope]
    defs: list[GDef] = field(default_factory=list)
    imports: list[GImport] = field(default_factory=list)
    refs: list[GRef] = field(default_factory=list)
    package: str | None = None
    exports: set[str] | None = None  # what importers see (None: every top-level name)


def capture(caps: Captures, name: str) -> Node | None:
    found = caps.get(name)
    return found[0] if found else None


def last_name(spec: LangSpec, node: Node) -> Node:
    """The identifier a (possibly qualified or generic) name ends with, for positions."""
    current = node
    for _ in range(MAX_PATTERN):
        if current.type in spec.identifiers:
            return current
        if current.type in spec.members:
            nxt = child(current, spec.members[current.type][1])
        else:
            nxt = next(
                (c for c in current.named_children if c.type not in spec.comment_types), None
            )
        if nxt is None:
            return current
        current = nxt
    return current
