"""The scopes stage of the generic syntax walker: every scope a file's definitions open, and
the definitions naming them (classes, functions, namespaces, ``impl`` bases)."""

from __future__ import annotations

from tree_sitter import Node

from extractors.code.engine import QueryEngine
from extractors.code.expr import UNKNOWN
from extractors.code.generic_model import (
    CLASS_KINDS,
    FUNCTION_KINDS,
    MAX_PATTERN,
    Captures,
    Flow,
    GDef,
    GScope,
    GSyntax,
    capture,
    last_name,
)
from extractors.code.lang_spec import ExprWriter, LangSpec
from extractors.code.spans import Spans


class ScopeCollector:
    """One file's scopes and the definitions naming them; state the later stages share."""

    def __init__(
        self, spec: LangSpec, engine: QueryEngine, root: Node, src: bytes, errors: Spans
    ) -> None:
        self.spec, self.engine, self.root, self.src = spec, engine, root, src
        self.w = ExprWriter(spec, src)
        self.errors = errors
        end = max(len(src), root.end_byte) + 1
        self.out = GSyntax([GScope("", "module", 0, end, root)])
        self.spans = Spans([(0, end)])
        self.def_sites: set[int] = set()
        self.bases: dict[tuple[int, int], int] = {}  # base node → class scope index
        self._param_count: dict[int, int] = {}
        self._typeparam_count: dict[int, int] = {}
        self.heritage: dict[int, list[Node]] = {}  # class node start → its base nodes
        self.extends: dict[int, list[Node]] = {}  # extension method start → extended types
        self.impls: list[Captures] = []
        self.declared: set[tuple[int, str]] = set()
        # Names a class/function definition took (``const f = () => 1``): no second binding.
        self.scope_names: set[int] = set()
        self.literal: list[bool] = []  # by scope: an object literal's
        self.read_in: list[int] = []  # by scope: the scope its uses are read in
        self._flows: dict[tuple[int, int], Flow] = {}  # (node, scope node) → flow above it

    def in_error(self, pos: int) -> bool:
        return bool(self.errors.spans) and self.errors.at(pos) >= 0

    def scope_at(self, pos: int) -> int:
        return max(self.spans.at(pos), 0)

    def _scopes(self, matches: list[tuple[int, Captures]]) -> list[tuple[str, Captures]]:
        rest: list[tuple[str, Captures]] = []
        lambdas: list[tuple[str, Node, Captures]] = []
        for _, caps in matches:
            primary = next((k for k in caps if k.startswith("definition.")), None)
            if primary is None and "heritage" in caps:
                owner = caps["heritage"][0]
                if "receiver" in caps:  # ``impl Trait for Type``: the type is declared apart
                    self.impls.append(caps)
                else:
                    self.heritage.setdefault(owner.start_byte, []).extend(caps.get("base", ()))
                    self.extends.setdefault(owner.start_byte, []).extend(caps.get("extends", ()))
                continue
            if primary is None:
                kind = next((k for k in caps if k in _BINDINGS), None)
                if kind is not None:
                    rest.append((kind, caps))
                continue
            # A definition the pattern matched is whole even inside an ERROR node (the
            # parser's recovery keeps valid subtrees): keep it.
            lambdas.append((primary[len("definition.") :], caps[primary][0], caps))
        # A function or object bound by a declaration (``const f = () => 1``) is that one
        # scope: the anonymous pattern matching it too makes none.
        claimed = {
            n.start_byte
            for kind, _, caps in lambdas
            if not _anonymous(kind, caps)
            for n in caps.get("body", ())
        }
        for kind, node, caps in lambdas:
            body = capture(caps, "body")
            starts = {node.start_byte, body.start_byte if body is not None else -1}
            if not _anonymous(kind, caps) or not starts & claimed:
                self._add_scope(kind, node, caps)
        scopes = self.out.scopes
        self.spans = Spans([(s.start, s.end) for s in scopes])
        self._literals(scopes)
        for i, scope in enumerate(scopes[1:], start=1):
            scope.parent = max(self.spans.parent[i], 0)
            # An anonymous object (``return { v: 1 }`` in any block) is named by its position,
            # unique in the file: it belongs to its function, where return values are read.
            if scope.kind in CLASS_KINDS and scope.name.startswith("<"):
                while scopes[scope.parent].kind == "block" or self._literal(scope.parent):
                    scope.parent = scopes[scope.parent].parent
        self._number_anonymous(scopes)
        for scope in scopes[1:]:  # parents precede children: spans sorted by start
            outer = scopes[scope.parent].qualname
            parts = [p for p in (outer, scope.prefix, scope.name) if p]
            scope.qualname = ".".join(parts)
        return rest

    def _number_anonymous(self, scopes: list[GScope]) -> None:
        """Anonymous scopes are numbered within their parent (``<lambda#2>``), not named by
        position: a line inserted above leaves their qualified names, the ids of what they
        hold and the file's interface digest as they were (dependents need no re-resolution).
        Object literals written as values take the same name (``ExprWriter.anonymous``)."""
        count: dict[tuple[int, str], int] = {}
        for scope in scopes[1:]:
            if not scope.name.startswith("<") or scope.node is None:
                continue
            n = count[(scope.parent, scope.kind)] = count.get((scope.parent, scope.kind), 0) + 1
            scope.name = f"<{scope.kind}#{n}>"
            self.w.anonymous[scope.node.start_byte] = scope.name

    def _add_scope(self, kind: str, node: Node, caps: Captures) -> None:
        name_node = capture(caps, "name")
        name, prefix = "", ""
        if name_node is not None:
            written = self.w.expr(name_node)
            if written == UNKNOWN or "(" in written:
                written = self.w.name(name_node)
            prefix, _, name = written.rpartition(".")
        receiver = capture(caps, "receiver")
        if receiver is not None:
            owner = self.w.type_name(receiver)
            if owner != UNKNOWN and "(" not in owner:
                if kind == "impl":
                    name = owner
                else:
                    prefix = owner
        if kind in _ANONYMOUS or not name:
            if kind not in _ANONYMOUS and kind != "impl" and kind not in CLASS_KINDS:
                return
            line, col = node.start_point
            name = name or f"<{kind}{line + 1}_{col}>"
        start_node = capture(caps, "params") or capture(caps, "body")
        start = start_node.start_byte if start_node is not None else node.start_byte
        if receiver is not None and kind != "impl" and receiver.parent is not None:
            start = min(start, receiver.parent.start_byte)  # Go: ``func (r *T) M()`` binds r
        self.out.scopes.append(
            GScope(name, kind, start, node.end_byte, node, name, prefix, caps=caps)
        )
        if name_node is not None:
            self.def_sites.add(last_name(self.spec, name_node).start_byte)
            self.scope_names.add(name_node.start_byte)

    def _scope_def(self, index: int) -> None:
        scope = self.out.scopes[index]
        if scope.kind == "impl" or scope.kind in _ANONYMOUS:
            return
        outer = self.out.scopes[scope.parent].qualname
        owner = ".".join(p for p in (outer, scope.prefix) if p)
        node = scope.node
        assert node is not None
        name_node = capture(scope.caps, "name") or node
        line, col = last_name(self.spec, name_node).start_point
        kind = "class" if scope.kind in CLASS_KINDS else "function"
        # ``new Circle()`` names the class, not this body; a function named as the class it
        # is declared in (or qualified by: C++ ``Circle::Circle``) is its constructor.
        owner_name = scope.prefix.rpartition(".")[2] or self._class_name(scope.parent)
        if scope.kind in FUNCTION_KINDS and scope.name == owner_name:
            kind = "constructor"
        d = GDef(scope.name, kind, scope.parent, owner, line + 1, col, node=node, detail=scope.kind)
        d.instance = self._instance_member(node)
        scope.defn = d
        for base in [*scope.caps.get("base", ()), *self.heritage.get(node.start_byte, ())]:
            text = self.w.type_name(base)
            if text != UNKNOWN and "(" not in text:
                d.bases.append(text)
                self.bases[(base.start_byte, base.end_byte)] = index
                last = last_name(self.spec, base)
                self.bases[(last.start_byte, last.end_byte)] = index
        for receiver in self.extends.get(node.start_byte, ()):  # C# ``Tax(this Order o)``
            text = self.w.type_name(receiver)
            if text != UNKNOWN and "(" not in text:
                d.bases.append(text)
        returns = capture(scope.caps, "returns")
        if returns is not None:
            d.values += self.w.instance_of(returns)
        self.out.defs.append(d)
        if "extension" in scope.caps and scope.prefix:  # importable where it is written too
            alias = GDef(scope.name, "export", scope.parent, outer, line + 1, col, alias=True)
            alias.values.append(f"{scope.prefix}.{scope.name}")
            self.out.defs.append(alias)
        if scope.kind == "namespace" and scope.prefix and "receiver" not in scope.caps:
            self._outer_namespaces(scope, outer, name_node)

    def _outer_namespaces(self, scope: GScope, outer: str, name_node: Node) -> None:
        """``namespace a.b.c { }`` declares ``a`` and ``a.b`` too (no entities of their own)."""
        found: list[Node] = []
        stack = [name_node]
        while stack and len(found) < MAX_PATTERN:
            n = stack.pop()
            if n.type in self.spec.identifiers:
                found.append(n)
            else:
                stack.extend(n.named_children)
        found.sort(key=lambda n: n.start_byte)
        parts = scope.prefix.split(".")
        if [self.w.name(n) for n in found[:-1]] != parts:
            return
        for i, (part, n) in enumerate(zip(parts, found, strict=False)):
            line, col = n.start_point
            owner = ".".join(p for p in (outer, *parts[:i]) if p)
            self.out.defs.append(
                GDef(part, "class", scope.parent, owner, line + 1, col, detail=scope.kind)
            )
            self.def_sites.add(n.start_byte)

    def _impls(self) -> None:
        """Bases named where a type is implemented (``impl Trait for Type``) join the type's
        definition when it is in this file."""
        classes = {
            s.qualname: i
            for i, s in enumerate(self.out.scopes)
            if s.defn is not None and s.defn.kind == "class"
        }
        for caps in self.impls:
            owner = self.w.type_name(caps["receiver"][0])
            index = classes.get(owner, -1)
            for base in caps.get("base", ()):
                text = self.w.type_name(base)
                if text == UNKNOWN or "(" in text:
                    continue
                defn = self.out.scopes[index].defn if index >= 0 else None
                if defn is not None:
                    defn.bases.append(text)
                self.bases[(base.start_byte, base.end_byte)] = index
                last = last_name(self.spec, base)
                self.bases[(last.start_byte, last.end_byte)] = index

    def _literal(self, scope: int) -> bool:
        """An object literal's scope: its keys are not names its values can see."""
        return self.literal[scope]

    def _literals(self, scopes: list[GScope]) -> None:
        """Which scopes are object literals, and where each scope's uses are read."""
        objects = self.spec.objects
        self.literal = [False] * len(scopes)
        for i, here in enumerate(scopes[1:], start=1):
            body = capture(here.caps, "body") or here.node
            self.literal[i] = body is not None and body.type in objects
        # ``{ k: v }``: ``v`` is read where the literal is, in the scope around it.
        self.read_in = []
        for i in range(len(scopes)):
            outer = i
            while self.literal[outer]:
                outer = max(self.spans.parent[outer], 0)
            self.read_in.append(outer)

    def _class_name(self, scope: int) -> str:
        here = self.out.scopes[scope]
        return here.name if here.kind in CLASS_KINDS else ""

    def _instance_member(self, node: Node) -> bool:
        """Declared in a class body without the static keyword: a member of instances only."""
        spec = self.spec
        if (
            not spec.class_bodies
            or node.parent is None
            or node.parent.type not in spec.class_bodies
        ):
            return False
        return not any(c.type == spec.static_keyword for c in node.children)


_ANONYMOUS = frozenset({"lambda", "block"})


def _anonymous(kind: str, caps: Captures) -> bool:
    """A function or class-like definition without a name of its own (a lambda, ``{ }``)."""
    return kind == "lambda" or (kind in CLASS_KINDS and "name" not in caps)


_BINDINGS = frozenset(
    {
        "local",
        "field",
        "param",
        "typeparam",
        "export",
        "self",
        "assign",
        "return",
        "default",
        "package",
        "arguments",
        "with",
        "global",
    }
)
