"""The bindings stage of the generic syntax walker: locals, fields, parameters, assignments
(patterns and receiver members), the values bound and the flow (branch, loop) around them."""

from __future__ import annotations

from tree_sitter import Node

from extractors.code.expr import RECEIVER, UNKNOWN
from extractors.code.generic_model import (
    CLASS_KINDS,
    FUNCTION_KINDS,
    MAX_PATTERN,
    Captures,
    Flow,
    GDef,
    Span,
    capture,
    last_name,
)
from extractors.code.generic_scopes import ScopeCollector
from extractors.code.lang_spec import ALL_ARGUMENTS, WITH_OBJECT, LangSpec


class BindingCollector(ScopeCollector):
    """What each binding capture binds, in the scope it binds it in."""

    def _binding(self, kind: str, caps: Captures) -> None:
        anchor = next(iter(caps.values()))[0]
        if self.in_error(anchor.start_byte):
            return
        if kind == "package":
            name = capture(caps, "name")
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
            name_node = capture(caps, "name")
            if name_node is not None:
                self._bind(self.w.name(name_node), "global", name_node, 0, [])
            return
        if kind == "with":
            value, body = capture(caps, "value"), capture(caps, "body")
            if value is not None and body is not None:
                scope = self.scope_at(body.start_byte)
                self._bind(WITH_OBJECT, "local", body, scope, [self.w.expr(value)], mark=False)
            return
        if kind == "default":
            value = capture(caps, "value")
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
        name = capture(caps, "name") or capture(caps, "target")
        if name is None:
            return
        value, type_node = capture(caps, "value"), capture(caps, "type")
        values = [self.w.expr(value)] if value is not None else []
        # A declared type is the static type, whatever the initializer's (``Shape s = c``).
        values = self.w.instance_of(type_node) or [v for v in values if v != UNKNOWN]
        scope = self.scope_at(name.start_byte)
        if kind != "field":  # ``{ k: (x = 1) }`` binds outside
            scope = self.read_in[scope]
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
            value = capture(caps, "value")
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
            d.instance = kind == "field" and self._instance_member(capture(caps, kind) or anchor)
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
        while stack and bound < MAX_PATTERN:
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

    def _flow(self, site: Node, top: Node | None) -> Flow:
        """Lines of the innermost branch that may not run and of the outermost loop between
        ``site`` and its scope's node: a use past the branch may see earlier bindings too, a
        use anywhere in the loop may see the binding from an earlier iteration."""
        top_id = top.id if top is not None else -1
        # The bindings of one scope share most of their way up: walk to the first node whose
        # flow is known, then fold back down, remembering each node's.
        known = self._flows
        path: list[tuple[Node, Node, tuple[int, int]]] = []
        child = site
        flow: Flow | None = None
        while flow is None:
            key = (child.id, top_id)
            flow = known.get(key)
            if flow is None:
                node = child.parent
                if node is None or node.id == top_id:
                    flow = known[key] = (None, None)
                else:
                    path.append((child, node, key))
                    child = node
        loops, branches = self.spec.loops, self.spec.branches
        for child, node, key in reversed(path):
            block, loop = flow  # the flow above ``node``: its loop is the outer one
            if node.type in loops:
                loop = loop or _lines(node)
            elif node.type in branches and not _is_condition(node, child):
                block = _lines(child)  # the innermost branch
            flow = known[key] = (block, loop)
        if top is not None and top.type in loops:  # a loop head's own block
            return flow[0], _lines(top)
        return flow

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
        value = capture(caps, "value")
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


def _lines(node: Node) -> Span:
    return (node.start_point[0] + 1, node.end_point[0] + 1)


def _is_condition(branch: Node, child: Node) -> bool:
    """``child`` is the condition of ``branch`` (which always runs), not one of its arms."""
    return branch.child_by_field_name("condition") == child


def _names_in(spec: LangSpec, node: Node) -> list[Node]:
    """Identifiers a pattern binds (destructuring), bounded and without recursion."""
    out: list[Node] = []
    stack = [node]
    while stack and len(out) < MAX_PATTERN:
        n = stack.pop()
        if n.type in spec.identifiers:
            out.append(n)
        elif n.type not in spec.members:
            stack.extend(reversed(n.named_children))
    return out
