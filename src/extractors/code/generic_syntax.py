"""Captures of ``queries/<lang>/*.scm`` → scopes, bindings and uses, for any language.

Capture names are the contract between a language's queries and this module:

definitions.scm
    ``@definition.<kind>`` (class, interface, struct, enum, trait, union, record, object,
    namespace, module, impl, function, method, constructor, lambda) with ``@name``, ``@body``,
    ``@params``, ``@base`` (superclasses, interfaces), ``@receiver`` (the type a method or an
    ``impl`` belongs to; ``@extension``: a Kotlin extension, a name of its file's scope too;
    ``@heritage`` with ``@extends``: the type a C# extension method extends, its ``bases``),
    ``@returns`` (return type); ``@typeparam`` (``@name``: a type parameter, seen from its
    generic's members); ``@local``/``@field``/``@param`` with
    ``@name``, ``@type``, ``@value`` (``@promoted``: bound in the enclosing class, ``@outer``:
    in the scope around the one it is written in);
    ``@assign`` (``@target``, ``@value``); ``@return`` (``@value``); ``@default``
    (``@value``, JavaScript ``export default``); ``@package`` (``@name``: the package or
    namespace the file declares).
references.scm
    ``@name`` (identifier uses), ``@member`` (the name of a member access), ``@callee``
    (what a call calls, or a whole method-call node), ``@skip`` (identifiers that are no use).

Nothing recurses over the tree except the expression writer, whose depth is capped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

from extractors.code.engine import QueryEngine
from extractors.code.es_exports import es_exports
from extractors.code.expr import RECEIVER, UNKNOWN, parse
from extractors.code.lang_spec import ALL_ARGUMENTS, WITH_OBJECT, ExprWriter, LangSpec, child
from extractors.code.spans import Spans
from kg.model import RelationKind

Captures = dict[str, list[Node]]
Span = tuple[int, int]
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
_MAX_PATTERN = 64


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


class Collector:
    """One file: scopes first (every binding needs its scope), then bindings, then uses."""

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

    def in_error(self, pos: int) -> bool:
        return bool(self.errors.spans) and self.errors.at(pos) >= 0

    def scope_at(self, pos: int) -> int:
        return max(self.spans.at(pos), 0)

    def run(self) -> GSyntax:
        matches = self.engine.matches("definitions", self.root)
        rest = self._scopes(matches)
        for index in range(1, len(self.out.scopes)):
            self._scope_def(index)
        self._impls()
        for kind, caps in rest:
            if kind != "assign" and "rebind" not in caps:
                self._binding(kind, caps)
        # ``this.x = v`` defines ``x`` only where the class declares no member ``x``; an
        # assignment to a plain name rebinds it in the block that declares it.
        self.declared = {(d.scope, d.name) for d in self.out.defs}
        for kind, caps in rest:
            if kind == "assign" or "rebind" in caps:
                self._binding(kind, caps)
        if "imports" in self.engine.queries:
            self._imports()
        self._references()
        if self.spec.import_style == "js":
            self.out.exports = es_exports(self.root, self.src)
        return self.out

    # -- scopes ------------------------------------------------------------------------------
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
            body = _first(caps, "body")
            starts = {node.start_byte, body.start_byte if body is not None else -1}
            if not _anonymous(kind, caps) or not starts & claimed:
                self._add_scope(kind, node, caps)
        scopes = self.out.scopes
        self.spans = Spans([(s.start, s.end) for s in scopes])
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
        name_node = _first(caps, "name")
        name, prefix = "", ""
        if name_node is not None:
            written = self.w.expr(name_node)
            if written == UNKNOWN or "(" in written:
                written = self.w.name(name_node)
            prefix, _, name = written.rpartition(".")
        receiver = _first(caps, "receiver")
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
        start_node = _first(caps, "params") or _first(caps, "body")
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
        name_node = _first(scope.caps, "name") or node
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
        returns = _first(scope.caps, "returns")
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
        while stack and len(found) < _MAX_PATTERN:
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

    # -- bindings ----------------------------------------------------------------------------
    def _binding(self, kind: str, caps: Captures) -> None:
        anchor = next(iter(caps.values()))[0]
        if self.in_error(anchor.start_byte):
            return
        if kind == "package":
            name = _first(caps, "name")
            if name is not None and self.out.package is None:
                self.out.package = self.w.name(name).replace("::", ".").replace("\\", ".")
                self.def_sites.update(n.start_byte for n in _names_in(self.spec, name))
            return
        if kind == "return":
            self._return(caps)
            return
        if kind == "arguments":
            body = anchor.child_by_field_name("body")
            if body is not None and self.spec.arguments:
                scope = self.scope_at(body.start_byte)
                d = self._bind(self.spec.arguments, "parameter", body, scope, [], mark=False)
                d.index = ALL_ARGUMENTS
            return
        if kind == "global":  # a name of the module every file sees (``export as namespace``)
            name_node = _first(caps, "name")
            if name_node is not None:
                self._bind(self.w.name(name_node), "global", name_node, 0, [])
            return
        if kind == "with":
            value, body = _first(caps, "value"), _first(caps, "body")
            if value is not None and body is not None:
                scope = self.scope_at(body.start_byte)
                self._bind(WITH_OBJECT, "local", body, scope, [self.w.expr(value)], mark=False)
            return
        if kind == "default":
            value = _first(caps, "value")
            if value is not None:
                d = self._bind(
                    "default",
                    "local",
                    anchor,
                    self.scope_at(anchor.start_byte),
                    [self.w.expr(value)],
                    mark=False,
                )
                d.alias = True
            return
        name = _first(caps, "name") or _first(caps, "target")
        if name is None:
            return
        value, type_node = _first(caps, "value"), _first(caps, "type")
        values = [self.w.expr(value)] if value is not None else []
        # A declared type is the static type, whatever the initializer's (``Shape s = c``).
        values = self.w.instance_of(type_node) or [v for v in values if v != UNKNOWN]
        scope = self.scope_at(name.start_byte)
        while kind != "field" and self._literal(scope):  # ``{ k: (x = 1) }`` binds outside
            scope = max(self.spans.parent[scope], 0)
        while "hoist" in caps and self.out.scopes[scope].kind == "block":
            if "rebind" in caps and (scope, self.w.name(name)) in self.declared:
                break
            scope = self.out.scopes[scope].parent  # JavaScript ``var``: its function's
        if "outer" in caps and scope:  # C ``enum { RED }``: RED is a name of the enum's scope
            scope = max(self.spans.parent[scope], 0)
        if "promoted" in caps and self._enclosing_class(scope) >= 0:
            scope = self._enclosing_class(scope)  # ``__construct(private $x)``: a property
        if kind == "typeparam":  # ``<T extends Shape>``: a T is a Shape (its ``@value``)
            bound = [self.w.type_name(value)] if value is not None else []
            d = self._bind(self.w.name(name), "type_parameter", name, scope, bound)
            d.index = self._typeparam_count.get(scope, 0)  # ``Box<A, B>``: A is 0, B is 1
            self._typeparam_count[scope] = d.index + 1
        elif kind == "export":
            # ``export { a as b }``: the module's ``b`` stands for its ``a`` (no entity; a
            # plain ``export { a }`` keeps ``a`` a use of the declaration it exports).
            value = _first(caps, "value")
            same = value is not None and value.start_byte == name.start_byte
            d = self._bind(self.w.name(name), "export", name, 0, values, mark=not same)
            d.alias = True
        elif kind == "param":
            self._param(name, scope, values)
        elif kind == "self":
            self._param(name, scope, [RECEIVER])
        elif (
            name.type in self.spec.identifiers
            and kind == "local"
            and name.start_byte in self.scope_names
        ):
            return
        elif name.type in self.spec.identifiers:
            # ``x++`` both reads and writes ``x`` (``@keep``: its site stays a use), and so
            # does a shorthand key ``{ x }`` (the name is its own value).
            same = value is not None and value.start_byte == name.start_byte
            keep = "keep" in caps or same
            d = self._bind(self.w.name(name), "local", name, scope, values, not keep)
            d.rebinds = "rebind" in caps
            d.instance = kind == "field" and self._instance_member(_first(caps, kind) or anchor)
            if kind == "field" and self._literal(scope):
                d.value_scope = self.out.scopes[max(self.spans.parent[scope], 0)].qualname
        else:
            self._target(name, value, scope, values)

    def _param(self, name: Node, scope: int, values: list[str]) -> None:
        position = self._param_count.get(scope, 0)
        self._param_count[scope] = position + 1
        if name.type in self.spec.identifiers:
            d = self._bind(self.w.name(name), "parameter", name, scope, values)
            d.index = position
        else:
            for n in _names_in(self.spec, name):
                self._bind(self.w.name(n), "parameter", n, scope, [])

    def _target(self, node: Node, value: Node | None, scope: int, values: list[str]) -> None:
        """An assignment target that is no plain name: a receiver member, or a pattern."""
        written = self.w.expr(node)
        if written.startswith(RECEIVER + ".") and written.count(".") == 1:
            cls, declared = self._enclosing_class(scope), self.declared
            if cls < 0 and self.spec.function_classes:
                # A function's parameters and locals are no members of its instances.
                cls, declared = self._enclosing_function(scope), set()
            if cls >= 0 and (cls, written[2:]) not in declared:
                last = last_name(self.spec, node)
                d = self._bind(written[2:], "attribute", last, cls, values)
                d.instance = bool(self.spec.class_bodies) and not self._static_code(scope, cls)
                d.value_scope = self.out.scopes[scope].qualname
            return
        if node.type in self.spec.lists and value is not None and value.type in self.spec.lists:
            names = [c for c in node.named_children if c.type not in self.spec.comment_types]
            vals = [c for c in value.named_children if c.type not in self.spec.comment_types]
            if len(names) == len(vals):
                for n, v in zip(names, vals, strict=True):
                    if n.type in self.spec.identifiers:
                        self._bind(self.w.name(n), "local", n, scope, [self.w.expr(v)])
                return
        if node.type in self.spec.patterns:
            self._destructure(node, values[0] if values else None, scope)
            return
        for n in _names_in(self.spec, node):
            self._bind(self.w.name(n), "local", n, scope, [])

    def _destructure(self, pattern: Node, value: str | None, scope: int) -> None:
        """The names a destructuring pattern binds, each to its part of ``value``:
        ``{ a, b: c, d = 1 } = v`` binds ``a`` to ``v.a``, ``c`` to ``v.b``, ``d`` to ``v.d``;
        ``[x, y] = v`` binds ``x`` to ``v[0]`` (a default ``d = 1`` is a value of ``d`` too).
        Bounded, without recursion."""
        roles, bound = self.spec.patterns, 0
        stack: list[tuple[Node, str | None, list[str]]] = [(pattern, value, [])]
        while stack and bound < _MAX_PATTERN:
            node, v, defaults = stack.pop()
            role = roles.get(node.type, "")
            if node.type in self.spec.identifiers or role == "short":
                name = self.w.name(node)
                part = v if role != "short" else (f"{v}.{name}" if v else None)
                self._bind(name, "local", node, scope, [part, *defaults] if part else defaults)
                bound += 1
                continue
            children = [c for c in node.named_children if c.type not in self.spec.comment_types]
            if role == "object":
                stack += [(c, v, []) for c in reversed(children)]
            elif role == "array":
                stack += [
                    (c, f"{v}[{i}]" if v else None, []) for i, c in reversed([*enumerate(children)])
                ]
            elif role == "pair":
                key, inner = node.child_by_field_name("key"), node.child_by_field_name("value")
                text = self.w.name(key).strip("'\"`") if key is not None else ""
                if inner is not None:
                    part = f"{v}.{text}" if v and text.isidentifier() else None
                    stack.append((inner, part, []))
            elif role == "default":
                left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
                if left is not None:
                    stack.append((left, v, [self.w.expr(right)] if right is not None else []))
            else:  # a rest element, or something else: its names, values unknown
                for n in _names_in(self.spec, node):
                    self._bind(self.w.name(n), "local", n, scope, [])
                    bound += 1

    def _bind(
        self, name: str, kind: str, site: Node, scope: int, values: list[str], mark: bool = True
    ) -> GDef:
        here = self.out.scopes[scope]
        if kind == "local" and (
            here.kind == "module" or here.kind in CLASS_KINDS or here.kind == "impl"
        ):
            kind = "variable"
        line, col = site.start_point
        d = GDef(
            name,
            kind,
            scope,
            here.qualname,
            line + 1,
            col,
            values=[v for v in values if v != UNKNOWN],
        )
        if self.spec.loops:
            d.block, d.loop = self._flow(site, here.node)
        self.out.defs.append(d)
        if mark:
            self.def_sites.add(site.start_byte)
        return d

    def _flow(self, site: Node, top: Node | None) -> tuple[Span | None, Span | None]:
        """Lines of the innermost branch that may not run and of the outermost loop between
        ``site`` and its scope's node: a use past the branch may see earlier bindings too, a
        use anywhere in the loop may see the binding from an earlier iteration."""
        block: Span | None = None
        loop: Span | None = None
        node: Node | None = site.parent
        child = site
        while node is not None and (top is None or node.id != top.id):
            lines = (node.start_point[0] + 1, node.end_point[0] + 1)
            if node.type in self.spec.loops:
                loop = lines
            elif (
                block is None and node.type in self.spec.branches and not _is_condition(node, child)
            ):
                block = (child.start_point[0] + 1, child.end_point[0] + 1)
            child, node = node, node.parent
        if top is not None and top.type in self.spec.loops:  # a loop head's own block
            loop = (top.start_point[0] + 1, top.end_point[0] + 1)
        return block, loop

    def _literal(self, scope: int) -> bool:
        """An object literal's scope: its keys are not names its values can see."""
        here = self.out.scopes[scope]
        body = _first(here.caps, "body") or here.node
        return scope > 0 and body is not None and body.type in self.spec.objects

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

    def _static_code(self, scope: int, cls: int) -> bool:
        """``scope`` runs with ``this`` the class itself: in a static method or block."""
        while scope > 0 and scope != cls:
            node = self.out.scopes[scope].node
            if node is not None and any(c.type == self.spec.static_keyword for c in node.children):
                return True
            scope = self.out.scopes[scope].parent
        return False

    def _enclosing_function(self, scope: int) -> int:
        """The named function (no arrow, no method) a scope is in: its ``this`` is the
        instance ``new`` makes of it."""
        while scope > 0 and self.out.scopes[scope].kind == "block":
            scope = self.out.scopes[scope].parent
        return scope if scope > 0 and self.out.scopes[scope].kind == "function" else -1

    def _enclosing_class(self, scope: int) -> int:
        while scope > 0:
            if self.out.scopes[scope].kind in CLASS_KINDS | {"impl"}:
                return scope
            scope = self.out.scopes[scope].parent
        return -1

    def _return(self, caps: Captures) -> None:
        value = _first(caps, "value")
        if value is None:
            return
        scope = self.scope_at(value.start_byte)
        while scope > 0 and self.out.scopes[scope].kind not in FUNCTION_KINDS | {"lambda"}:
            scope = self.out.scopes[scope].parent
        defn = self.out.scopes[scope].defn
        if "returns" in self.out.scopes[scope].caps:
            return  # a declared return type says what comes back, whatever the body returns
        text = self.w.expr(value)
        if (
            defn is not None
            and text != UNKNOWN
            and text not in defn.values
            and len(defn.values) < 8
        ):
            defn.values.append(text)

    # -- imports -----------------------------------------------------------------------------
    def _imports(self) -> None:
        matches = [caps for _, caps in self.engine.matches("imports", self.root)]
        # A statement a richer pattern matched (alias, wildcard, names) is not also a plain
        # import: plain patterns need no anchors, so trailing comments do not hide them.
        rich = {c["import"][0].start_byte for c in matches if "import" in c and _RICH & c.keys()}
        for caps in matches:
            stmt = _first(caps, "import")
            if stmt is not None and stmt.start_byte in rich and not _RICH & caps.keys():
                continue
            source = _first(caps, "source")
            if stmt is None or source is None or self.in_error(stmt.start_byte):
                continue
            name, alias = _first(caps, "name"), _first(caps, "alias")
            local = alias or _first(caps, "default") or _first(caps, "namespace")
            imp = GImport(
                self.w.text(source),
                self.w.text(name) if name is not None else "",
                self.w.text(local) if local is not None else "",
                wildcard="wildcard" in caps,
                default="default" in caps,
                namespace="namespace" in caps,
                line=stmt.start_point[0] + 1,
                scope=self.out.scopes[self.scope_at(stmt.start_byte)].qualname,
                node=source,
                name_node=last_name(self.spec, name if name is not None else source),
                scope_index=self.scope_at(stmt.start_byte),
            )
            self.out.imports.append(imp)
            for n in (name, alias, local, imp.name_node):
                if n is not None:
                    self.def_sites.add(n.start_byte)

    # -- uses --------------------------------------------------------------------------------
    def _references(self) -> None:
        caps = self.engine.captures("references", self.root)
        skip = self.def_sites
        skip.update(n.start_byte for n in caps.get("skip", ()))
        members = caps.get("member", [])
        skip.update(n.start_byte for n in members)
        callees = {(n.start_byte, n.end_byte) for n in caps.get("callee", ())}
        for node in caps.get("name", ()):
            start = node.start_byte
            if start in skip or self.in_error(start):
                continue
            # Ruby ``@x`` is a member of the receiver wherever it is written.
            ivar = node.type in self.spec.instance_vars
            self._ref(self.w.expr(node) if ivar else self.w.name(node), node, node, callees)
        for node in members:
            chain = node.parent
            while chain is not None and chain.type in self.spec.transparent:
                chain = chain.parent
            if chain is None or self.in_error(node.start_byte):
                continue
            name = self._member_name(node, chain)
            if name != UNKNOWN:
                self._ref(name, node, chain, callees)

    def _member_name(self, node: Node, chain: Node) -> str:
        if chain.type in self.spec.method_calls:
            obj_f = self.spec.method_calls[chain.type][0]
            if self.w.name(node) == self.spec.ctor_method:
                return self.w.expr(child(chain, obj_f))
            return self.w.expr(chain, callee=True)
        return self.w.expr(chain)

    def _ref(self, name: str, node: Node, chain: Node, callees: set[tuple[int, int]]) -> None:
        # ``f(1).x`` is still a use of ``x``: only an unknown head leaves nothing to resolve.
        if name in (UNKNOWN, RECEIVER) or parse(name).head == "unknown":
            return
        key = (chain.start_byte, chain.end_byte)
        own = (node.start_byte, node.end_byte)
        owner = -1
        if key in self.bases or own in self.bases:
            kind = RelationKind.INHERITS
            owner = self.bases.get(key, self.bases.get(own, -1))
        elif key in callees or own in callees or chain.type in self.spec.method_calls:
            kind = RelationKind.CALLS
        else:
            kind = RelationKind.REFERENCES
        line, col = node.start_point
        scope = self.scope_at(node.start_byte)
        while self._literal(scope):  # ``{ k: v }``: ``v`` is read where the literal is
            scope = max(self.spans.parent[scope], 0)
        self.out.refs.append(GRef(name, kind, line + 1, col, scope, owner))


_ANONYMOUS = frozenset({"lambda", "block"})


def _anonymous(kind: str, caps: Captures) -> bool:
    """A function or class-like definition without a name of its own (a lambda, ``{ }``)."""
    return kind == "lambda" or (kind in CLASS_KINDS and "name" not in caps)


def _is_condition(branch: Node, child: Node) -> bool:
    """``child`` is the condition of ``branch`` (which always runs), not one of its arms."""
    return branch.child_by_field_name("condition") == child


_RICH = frozenset({"name", "alias", "wildcard", "default", "namespace"})
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


def _first(caps: Captures, name: str) -> Node | None:
    found = caps.get(name)
    return found[0] if found else None


def last_name(spec: LangSpec, node: Node) -> Node:
    """The identifier a (possibly qualified or generic) name ends with, for positions."""
    current = node
    for _ in range(_MAX_PATTERN):
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


def _names_in(spec: LangSpec, node: Node) -> list[Node]:
    """Identifiers a pattern binds (destructuring), bounded and without recursion."""
    out: list[Node] = []
    stack = [node]
    while stack and len(out) < _MAX_PATTERN:
        n = stack.pop()
        if n.type in spec.identifiers:
            out.append(n)
        elif n.type not in spec.members:
            stack.extend(reversed(n.named_children))
    return out
