"""What the generic tree-sitter extractor needs to know about a language besides its queries.

The ``.scm`` files find the nodes (definitions, imports, uses); a :class:`LangSpec` says how
expression nodes of the grammar read in the resolver's expression language
(:mod:`extractors.code.expr`): which node types are names, member accesses, calls, ``new``,
the receiver (``this``/``self``), and which only wrap another expression. Field specs are a
field name, or a named-child position (``"0"``, ``"-1"``) for grammars without fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tree_sitter import Node

from extractors.code.expr import RECEIVER, SUPER, UNKNOWN

_MAX_DEPTH = 12


@dataclass(frozen=True, slots=True)
class LangSpec:
    """Grammar roles of one language (see the module docstring)."""

    name: str
    extensions: frozenset[str]
    module_style: str  # path | package | dir | rust
    import_style: str  # js | java | csharp | go | rust | c | ruby | php
    identifiers: frozenset[str]
    members: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    calls: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    method_calls: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    news: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    transparent: frozenset[str] = frozenset()
    lists: frozenset[str] = frozenset()  # ``a, b := f(), g()`` sides
    receiver_types: frozenset[str] = frozenset()
    receiver_texts: frozenset[str] = frozenset()
    super_types: frozenset[str] = frozenset()
    super_texts: frozenset[str] = frozenset()
    instance_vars: frozenset[str] = frozenset()  # Ruby ``@x``: a member of the receiver
    ctor_method: str = ""  # Ruby ``X.new(...)`` makes an X
    # JavaScript: class bodies whose members (without ``static_keyword``) belong to the
    # instances, not to the class object (``C.m`` of an instance method ``m`` is nothing).
    class_bodies: frozenset[str] = frozenset()
    static_keyword: str = "static"
    # TypeScript: the node type of a generic's type arguments; ``Box<Item>`` is then written
    # ``Box(<0>=Item)`` (type arguments by position), so a ``T`` member of it is an ``Item``.
    type_arguments: str = ""
    # JavaScript: ``this.x = v`` in a function outside any class is a member of the function's
    # instances (``new F()``).
    function_classes: bool = False
    comment_types: frozenset[str] = frozenset({"comment"})
    wrappers: frozenset[str] = frozenset()  # export/decorator nodes a doc comment precedes
    strip_name: str = ""  # characters to strip from written names (PHP ``\\``)
    loops: frozenset[str] = frozenset()  # statements that repeat their body (for flow)
    branches: frozenset[str] = frozenset()  # statements whose arms may not run (for flow)
    sequences: frozenset[str] = frozenset()  # ``(a, b)``: the value of the last one
    casts: frozenset[str] = frozenset()  # ``x as T``: an instance of the last child's type
    tuples: frozenset[str] = frozenset()  # ``[a, b]`` literals: their items by position
    # Object literals (``{ x: 1 }``): written as the anonymous object scope the definitions
    # query makes of them (``<object#2>``, where one was made), so ``f().x`` finds ``x``.
    objects: frozenset[str] = frozenset()
    # ``xs[0]`` / ``o["key"]``: node type → (object field, index field); a number reads an
    # element, a string a member, anything else some element.
    subscripts: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # Destructuring pattern node types → role: object, array, pair (key/value fields), short
    # (``{ a }``: key and name at once), default (``left = right``).
    patterns: Mapping[str, str] = field(default_factory=dict)
    # JavaScript ``arguments``: a name the functions an ``@arguments`` capture marks bind to
    # all the values a call passes (a parameter of index ``ALL_ARGUMENTS``).
    arguments: str = ""
    # Collection types (``List<Item>``) whose instance is written as an instance of their
    # element type (as a Go slice or a Rust array of T is a T): ``for (x in items)`` and
    # lambdas over ``items`` read ``x.name`` as an ``Item``'s.
    containers: frozenset[str] = frozenset()


ALL_ARGUMENTS = -2
# JavaScript ``with (o) { ... }``: the block binds this name to ``o``; a name read in the block
# is ``o``'s member of that name where ``o`` has one.
WITH_OBJECT = "<with>"


def child(node: Node, spec: str) -> Node | None:
    """A child by field name or by named-child position (``"0"``, ``"-1"``)."""
    if spec and (spec[0].isdigit() or spec[0] == "-"):
        named = [c for c in node.named_children if "comment" not in c.type]
        i = int(spec)
        return named[i] if -len(named) <= i < len(named) else None
    return node.child_by_field_name(spec)


class ExprWriter:
    """Writes expression nodes of one file in the resolver's expression language."""

    def __init__(self, spec: LangSpec, src: bytes) -> None:
        self.spec, self.src = spec, src
        # Object literals that have a scope: its name, by start byte (set once scopes exist).
        self.anonymous: dict[int, str] = {}

    def text(self, node: Node) -> str:
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def name(self, node: Node) -> str:
        raw = self.text(node)
        return raw.strip(self.spec.strip_name) if self.spec.strip_name else raw

    def expr(self, node: Node | None, depth: int = 0, callee: bool = False) -> str:
        """``node`` as an expression; ``callee``: a method-call node without its call."""
        if node is None or depth > _MAX_DEPTH:
            return UNKNOWN
        spec, t = self.spec, node.type
        if t in spec.receiver_types:
            return RECEIVER
        if t in spec.super_types:
            return SUPER
        if t in spec.identifiers:
            written = self.name(node)
            if written in spec.receiver_texts:
                return RECEIVER
            return SUPER if written in spec.super_texts else written
        if t in spec.instance_vars:
            return f"{RECEIVER}.{self.text(node)}"
        if t in spec.members:
            obj_f, name_f = spec.members[t]
            obj, name = child(node, obj_f), child(node, name_f)
            if name is None:
                return UNKNOWN
            last = self.expr(name, depth + 1)
            if obj is None or obj == name:  # Kotlin ``x = 1``: a name alone, no member
                first = node.children[0] if node.child_count else None
                if first is not None and first.type in spec.receiver_types | {"this"}:
                    return f"{RECEIVER}.{last}"
                return last
            return f"{self.expr(obj, depth + 1)}.{last}"
        if t in spec.method_calls:
            return self._method_call(node, depth, callee)
        if t in spec.calls:
            fn_f, args_f = spec.calls[t]
            args = self._with_type_args(node, self.args(node, args_f, depth))
            return f"{self.expr(child(node, fn_f), depth + 1)}({args})"
        if t in spec.news:
            type_f, args_f = spec.news[t]
            made = self.type_name(child(node, type_f), depth + 1)
            return f"{made}({self._with_type_args(node, self.args(node, args_f, depth))})"
        if t in spec.casts:
            named = [c for c in node.named_children if c.type not in spec.comment_types]
            # ``as any`` / ``as const`` say nothing of the value: keep what it was.
            named_type = len(named) > 1 and named[-1].type in spec.identifiers | spec.members.keys()
            cast = self.instance_of(named[-1]) if named_type else []
            return cast[0] if cast else self.expr(named[0] if named else None, depth + 1)
        if t in spec.transparent:
            inner = next((c for c in node.named_children if c.type not in spec.comment_types), None)
            return self.expr(inner, depth + 1)
        if t in spec.subscripts:
            obj_f, index_f = spec.subscripts[t]
            base, index = self.expr(child(node, obj_f), depth + 1), child(node, index_f)
            key = self.text(index).strip("'\"`") if index is not None else ""
            if index is not None and index.type == "number" and key.isdigit():
                return f"{base}[{key}]"
            if index is not None and index.type == "string" and key.isidentifier():
                return f"{base}.{key}"
            return f"{base}[?]"
        if t in spec.objects:
            found = self.anonymous.get(node.start_byte)
            if found is not None:
                return found
            line, col = node.start_point
            return f"<object{line + 1}_{col}>"  # a literal no pattern made a scope of
        if t in spec.tuples:
            items = [c for c in node.named_children if c.type not in spec.comment_types]
            if len(items) > 8:
                return UNKNOWN
            return "(" + ",".join(self.expr(c, depth + 1) for c in items) + ",)"
        if t in spec.sequences:
            items = [c for c in node.named_children if c.type not in spec.comment_types]
            return self.expr(items[-1], depth + 1) if items else UNKNOWN
        return UNKNOWN

    def _method_call(self, node: Node, depth: int, callee: bool) -> str:
        obj_f, name_f, args_f = self.spec.method_calls[node.type]
        obj, name = child(node, obj_f), child(node, name_f)
        if name is None:
            return UNKNOWN
        method = self.name(name)
        if obj is None and name.type in self.spec.super_types:  # Ruby ``super(x)``
            method = f"{SUPER}.{self._method_name(node)}"
        elif method == self.spec.ctor_method and not callee:  # a bare ``new(x)``: the receiver's
            made = self.expr(obj, depth + 1) if obj is not None else RECEIVER
            return f"{made}({self.args(node, args_f, depth)})"
        head = f"{self.expr(obj, depth + 1)}.{method}" if obj is not None else method
        return head if callee else f"{head}({self.args(node, args_f, depth)})"

    def _method_name(self, node: Node) -> str:
        """The name of the method ``node`` is written in (what a Ruby ``super`` calls)."""
        up = node.parent
        for _ in range(_MAX_DEPTH * 4):
            if up is None:
                break
            name = up.child_by_field_name("name") if "method" in up.type else None
            if name is not None:
                return self.name(name)
            up = up.parent
        return UNKNOWN

    def args(self, node: Node, spec: str, depth: int) -> str:
        args = child(node, spec) if spec else None
        if args is None:
            return ""
        items = [
            self.expr(a, depth + 1)
            for a in args.named_children
            if a.type not in self.spec.comment_types
        ]
        return ",".join(items)

    def type_name(self, node: Node | None, depth: int = 0) -> str:
        """A type as the name of its class (``List<Foo>`` → ``List``, ``*Foo`` → ``Foo``)."""
        if node is None or depth > _MAX_DEPTH:
            return UNKNOWN
        element = self._element_type(node) if self.spec.containers else None
        if element is not None:
            return self.type_name(element, depth + 1)
        text = self.expr(node, depth)
        if text != UNKNOWN:
            return text
        for c in node.named_children:  # generic and wrapped types: their first name
            if c.type not in self.spec.comment_types:
                return self.type_name(c, depth + 1)
        return UNKNOWN

    def _element_type(self, node: Node) -> Node | None:
        """The last type argument of a container type (``Map<K, V>``: ``V``), else None."""
        named = [c for c in node.named_children if c.type not in self.spec.comment_types]
        if len(named) < 2 or self.text(named[0]) not in self.spec.containers:
            return None
        args = [c for c in named[-1].named_children if c.type not in self.spec.comment_types]
        return args[-1] if "argument" in named[-1].type and args else None

    def instance_of(self, type_node: Node | None) -> list[str]:
        """The value a declaration of this type holds: an instance of the named class (of a
        tuple type ``[A, B]``: a tuple of their instances)."""
        name = self.type_name(type_node)
        if name == UNKNOWN or ("(" in name and not name.startswith("(")):
            return []
        return [RECEIVER] if name == RECEIVER else [name + f"({self._type_args(type_node)})"]

    def _with_type_args(self, node: Node, args: str) -> str:
        """A call's arguments, then its explicit type arguments (``f<A>(x)``)."""
        types = self._type_args(node) if self.spec.type_arguments else ""
        return f"{args},{types}" if args and types else args or types

    def _type_args(self, node: Node | None) -> str:
        """``<0>=A,<1>=B`` of a generic type ``G<A, B>`` (none for a container)."""
        if node is None or not self.spec.type_arguments:
            return ""
        found = next((c for c in node.named_children if c.type == self.spec.type_arguments), None)
        if found is None or self._element_type(node) is not None:
            return ""
        args = [c for c in found.named_children if c.type not in self.spec.comment_types]
        written = [(i, self.type_name(a)) for i, a in enumerate(args[:8])]
        return ",".join(f"<{i}>={t}" for i, t in written if t != UNKNOWN and "(" not in t)
