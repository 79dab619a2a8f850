"""Python definitions: scopes (module, classes, functions, lambdas) and every name they bind.

Fed with the matches of ``queries/python/definitions.scm``. Each binding records where it is
visible in the flow of its scope (the block that may not run, the loop that repeats it) and the
values bound to it, written in :mod:`extractors.code.expr`.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from tree_sitter import Node

from extractors.code.expr import RECEIVER, SUPER, UNKNOWN
from extractors.code.spans import Spans

Captures = dict[str, list[Node]]
_MAX_EXPR_DEPTH = 10
_SEQUENCES = frozenset(
    {"tuple", "list", "expression_list", "pattern_list", "tuple_pattern", "list_pattern"}
)
# A member chain written plainly (``a.b.c``): its expression is its source text, no walk needed.
# Not from None/True/False: those are literals (``None.__class__`` is ``?.__class__``).
_DOTTED = re.compile(rb"(?!(?:None|True|False)\b)[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


@dataclass(slots=True)
class ScopeInfo:
    qualname: str
    kind: str  # module | class | function | lambda
    start: int
    end: int
    node: Node | None = None
    name_node: Node | None = None
    parent: int = -1
    receiver: str = ""
    defn: SyntaxDef | None = None


@dataclass(slots=True)
class SyntaxDef:
    name: str
    kind: str  # class | function | variable | local | parameter | attribute
    scope: int
    line: int
    col: int
    pos: int
    values: list[str] = field(default_factory=list)
    value_scope: int = -1
    index: int = -1
    block: tuple[int, int] | None = None
    loop: tuple[int, int] | None = None
    node: Node | None = None
    bases: list[str] = field(default_factory=list)


def _first(caps: Captures, name: str) -> Node | None:
    found = caps.get(name)
    return found[0] if found else None


def expr_text(node: Node, src: bytes, depth: int = 0) -> str:
    """``node`` in the expression language; anything not a name/call/member/tuple is ``?``."""
    if depth > _MAX_EXPR_DEPTH:
        return UNKNOWN
    kind = node.type
    if kind == "identifier":
        return src[node.start_byte : node.end_byte].decode("utf-8", "replace")
    if kind == "attribute":
        start, end = node.byte_range
        raw = src[start:end]
        # The walk below would give the same text unless the tree is broken or the chain is
        # longer than the depth cap (each dot is one level).
        if (
            _DOTTED.fullmatch(raw)
            and raw.count(b".") <= _MAX_EXPR_DEPTH - depth
            and not node.has_error
        ):
            return raw.decode()
        obj, attr = node.child_by_field_name("object"), node.child_by_field_name("attribute")
        if obj is None or attr is None:
            return UNKNOWN
        return f"{expr_text(obj, src, depth + 1)}.{expr_text(attr, src, depth + 1)}"
    if kind == "call":
        return _call_text(node, src, depth)
    if kind == "subscript":
        value, index = node.child_by_field_name("value"), node.child_by_field_name("subscript")
        if value is None:
            return UNKNOWN
        raw = src[index.start_byte : index.end_byte] if index is not None else b""
        pos = raw.decode() if index is not None and index.type == "integer" else "?"
        return f"{expr_text(value, src, depth + 1)}[{pos}]"
    if kind in ("parenthesized_expression", "await", "type") and node.named_child_count:
        return expr_text(node.named_child(0), src, depth + 1)
    if kind in _SEQUENCES:
        items = [expr_text(c, src, depth + 1) for c in node.named_children if c.type != "comment"]
        return "(" + ",".join(items) + ("," if len(items) == 1 else "") + ")"
    return UNKNOWN


def _call_text(node: Node, src: bytes, depth: int) -> str:
    func, args = node.child_by_field_name("function"), node.child_by_field_name("arguments")
    if func is None:
        return UNKNOWN
    if func.type == "identifier" and src[func.start_byte : func.end_byte] == b"super":
        return SUPER
    parts: list[str] = []
    for arg in args.named_children if args is not None else ():
        if arg.type == "keyword_argument":
            key, value = arg.child_by_field_name("name"), arg.child_by_field_name("value")
            if key is not None and value is not None:
                parts.append(f"{expr_text(key, src, depth + 1)}={expr_text(value, src, depth + 1)}")
        elif arg.type not in ("list_splat", "dictionary_splat", "comment"):
            parts.append(expr_text(arg, src, depth + 1))
    return f"{expr_text(func, src, depth + 1)}({','.join(parts)})"


class DefCollector:
    """Scopes first (so every binding knows its scope), then bindings, returns and flow."""

    def __init__(self, src: bytes, root: Node, errors: Spans) -> None:
        self.src = src
        self.errors = errors
        self.scopes = [ScopeInfo("", "module", 0, max(len(src), root.end_byte) + 1, root)]
        self.defs: list[SyntaxDef] = []
        self.def_sites: set[int] = set()
        self.complexity: dict[int, int] = {}
        self.all_names: list[str] | None = None
        self.scope_spans = Spans([(0, self.scopes[0].end)])
        self._branches = Spans([])
        self._loops = Spans([])
        self._globals: set[tuple[int, str]] = set()
        # The line span of each branch and loop (by byte span), read off its node once.
        self._line_spans: dict[tuple[int, int], tuple[int, int]] = {}

    def text(self, node: Node) -> str:
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def in_error(self, pos: int) -> bool:
        return bool(self.errors.spans) and self.errors.at(pos) >= 0

    def scope_at(self, pos: int) -> int:
        spans = self.scope_spans
        found = spans.innermost[bisect_right(spans.breaks, pos) - 1]  # the module starts at 0
        return found if found > 0 else 0

    # -- scopes ------------------------------------------------------------------------------
    def collect_scopes(
        self, scopes: list[Captures], branches: list[Captures], loops: list[Captures]
    ) -> None:
        """``scopes``: matches of classes, functions and lambdas; ``branches``, ``loops``:
        matches of blocks that may not run and of loops."""
        for caps in scopes:
            self._add_scope(caps)
        branch_spans = [self._block(caps["branch"][0]) for caps in branches]
        loop_spans = [self._block(caps["loop"][0]) for caps in loops]
        self.scope_spans = Spans([(s.start, s.end) for s in self.scopes])
        lambdas: dict[int, int] = {}
        for i, scope in enumerate(self.scopes[1:], start=1):
            scope.parent = max(self.scope_spans.parent[i], 0)
            if scope.kind == "lambda":
                # Numbered within the parent, not named by position: a line inserted above
                # changes no qualified name (nor the file's interface digest).
                n = lambdas[scope.parent] = lambdas.get(scope.parent, 0) + 1
                scope.qualname = f"<lambda#{n}>"
        for scope in self.scopes[1:]:  # parents precede children: spans sorted by start
            parent = self.scopes[scope.parent]
            scope.qualname = (
                f"{parent.qualname}.{scope.qualname}" if parent.qualname else (scope.qualname)
            )
        self._branches = Spans(branch_spans)
        self._loops = Spans(loop_spans)

    def _block(self, node: Node) -> tuple[int, int]:
        span = node.byte_range
        self._line_spans[span] = (node.start_point[0] + 1, node.end_point[0] + 1)
        return span

    def _add_scope(self, caps: Captures) -> None:
        kind = "class" if "class" in caps else "function" if "function" in caps else "lambda"
        node = caps[kind][0]
        if self.in_error(node.start_byte):
            return
        if kind == "lambda":  # named once its parent is known (collect_scopes)
            self.scopes.append(ScopeInfo("", kind, node.start_byte, node.end_byte, node))
            return
        start_node = caps["body"][0] if kind == "class" else caps["params"][0]
        name = caps["name"][0]
        self.scopes.append(
            ScopeInfo(self.text(name), kind, start_node.start_byte, node.end_byte, node, name)
        )

    # -- bindings ----------------------------------------------------------------------------
    def collect_defs(self, declared: list[Captures], flow: list[Captures]) -> None:
        """``declared``: matches of global/nonlocal statements; ``flow``: assignments,
        bindings, case patterns, returns and decisions, in source order."""
        for index, scope in enumerate(self.scopes[1:], start=1):
            self._scope_def(index, scope)
        for caps in declared:
            name = caps["name"][0]
            self._globals.add((self.scope_at(name.start_byte), self.text(name)))
            self.def_sites.add(name.start_byte)
        for caps in flow:
            if "assign" in caps or "bind" in caps:
                if not self.in_error(caps["target"][0].start_byte):
                    self._assignment(caps)
            elif "case" in caps:
                self._pattern(caps["pattern"][0])
            elif "return" in caps:
                self._return(caps["value"][0])
            elif "decision" in caps:
                self._decision(caps["decision"][0])

    def _bind(
        self,
        name: str,
        kind: str,
        site: Node,
        scope: int,
        values: list[str] | None = None,
        index: int = -1,
        node: Node | None = None,
    ) -> SyntaxDef:
        if self._globals and (scope, name) in self._globals:
            scope = 0
        if kind == "local" and self.scopes[scope].kind in ("module", "class"):
            kind = "variable"
        line, col = site.start_point
        pos = site.start_byte
        d = SyntaxDef(name, kind, scope, line + 1, col, pos, values or [], scope, index, node=node)
        self._flow(d, pos, self.scopes[scope].start)
        self.defs.append(d)
        self.def_sites.add(pos)
        return d

    def _flow(self, d: SyntaxDef, pos: int, floor: int) -> None:
        """The block (that may not run) and the loop of ``d``'s scope the binding is in."""
        branches, loops = self._branches, self._loops
        # Most bindings sit in no block or loop: a bisect says so without a call to Spans.
        if branches.spans and branches.innermost[bisect_right(branches.breaks, pos) - 1] >= 0:
            span = branches.spans[branches.at(pos)]
            if span[0] >= floor:
                d.block = self._line_spans[span]
        if loops.spans and loops.innermost[bisect_right(loops.breaks, pos) - 1] >= 0:
            loop = loops.outermost_within(pos, floor)
            if loop >= 0:
                d.loop = self._line_spans[loops.spans[loop]]

    def _scope_def(self, index: int, scope: ScopeInfo) -> None:
        node = scope.node
        assert node is not None
        if scope.kind == "lambda":
            body = node.child_by_field_name("body")
            params = node.child_by_field_name("parameters")
            if params is not None:
                self._params(params, index, method=False)
            d = SyntaxDef(
                scope.qualname.rsplit(".", 1)[-1],
                "lambda",
                scope.parent,
                node.start_point[0] + 1,
                node.start_point[1],
                node.start_byte,
                values=[expr_text(body, self.src)] if body is not None else [],
            )
            scope.defn = d
            return
        assert scope.name_node is not None
        d = self._bind(
            self.text(scope.name_node), scope.kind, scope.name_node, scope.parent, node=node
        )
        scope.defn = d
        if scope.kind == "class":
            supers = node.child_by_field_name("superclasses")
            d.bases = [
                expr_text(b, self.src)
                for b in (supers.named_children if supers else [])
                if b.type in ("identifier", "attribute")
            ]
            return
        params = node.child_by_field_name("parameters")
        method = self.scopes[scope.parent].kind == "class" and not self._is_static(node)
        if params is not None:
            scope.receiver = self._params(params, index, method)

    def _is_static(self, node: Node) -> bool:
        parent = node.parent
        if parent is None or parent.type != "decorated_definition":
            return False
        return any(
            self.text(c).strip() == "@staticmethod"
            for c in parent.named_children
            if c.type == "decorator"
        )

    def _params(self, params: Node, scope: int, method: bool) -> str:
        """Bind parameters; returns the receiver's name (``self``) of a method, else ''."""
        position, receiver = 0, ""
        for param in params.named_children:
            kind = param.type
            if kind in ("keyword_separator", "list_splat_pattern", "dictionary_splat_pattern"):
                position = -1 if position >= 0 else position
            name_node = param if kind == "identifier" else param.child_by_field_name("name")
            if name_node is None:
                name_node = next((c for c in param.named_children if c.type == "identifier"), None)
            if name_node is None or name_node.type != "identifier":
                continue
            values: list[str] = []
            annotation = param.child_by_field_name("type")
            if annotation is not None and annotation.named_child_count:
                ann = expr_text(annotation.named_child(0), self.src)
                if ann != UNKNOWN and "(" not in ann:
                    values.append(ann + "()")
            if method and position == 0:
                values = [RECEIVER]
                receiver = self.text(name_node)
            self._bind(
                self.text(name_node), "parameter", name_node, scope, values=values, index=position
            )
            if position >= 0:
                position += 1
        return receiver

    def _assignment(self, caps: Captures) -> None:
        stmt = (caps.get("assign") or caps["bind"])[0]
        target = caps["target"][0]
        value = _first(caps, "value")
        scope = self.scope_at(target.start_byte)
        if scope == 0 and value is not None and self.text(target) == "__all__":
            self._all(value)
        # ``except E as e`` binds an instance of E; ``with x as y`` binds (what stands for) x.
        instance = stmt.type == "as_pattern" and getattr(stmt.parent, "type", "") != "with_item"
        annotation = _first(caps, "type")
        stack: list[tuple[Node, Node | None, str]] = [
            (target, value, expr_text(value, self.src) if value is not None else UNKNOWN)
        ]
        while stack:
            node, vnode, text = stack.pop()
            kind = node.type
            if kind == "identifier":
                values = [text] if text != UNKNOWN else []
                if instance and values:
                    values = [text + "()"]
                if not values and annotation is not None and node is target:
                    ann = expr_text(annotation, self.src)
                    values = [ann + "()"] if ann != UNKNOWN and "(" not in ann else []
                self._bind(self.text(node), "local", node, scope, values=values)
            elif kind in _SEQUENCES or kind == "parenthesized_expression":
                self._unpack(node, vnode, text, stack)
            elif kind in ("list_splat_pattern", "list_splat"):
                stack.extend((c, None, UNKNOWN) for c in node.named_children)
            elif kind == "attribute":
                self._attribute_target(node, text, scope)

    def _unpack(
        self, node: Node, vnode: Node | None, text: str, stack: list[tuple[Node, Node | None, str]]
    ) -> None:
        items = [c for c in node.named_children if c.type != "comment"]
        values: list[Node] = []
        if vnode is not None and (
            vnode.type in _SEQUENCES or vnode.type == "parenthesized_expression"
        ):
            values = [c for c in vnode.named_children if c.type != "comment"]
            if len(values) == 1 and values[0].type in _SEQUENCES:
                values = [c for c in values[0].named_children if c.type != "comment"]
        if len(values) == len(items) and not any("splat" in v.type for v in values):
            stack.extend((t, v, expr_text(v, self.src)) for t, v in zip(items, values, strict=True))
            return
        for i, item in enumerate(items):
            stack.append((item, None, f"{text}[{i}]" if text != UNKNOWN else UNKNOWN))

    def _attribute_target(self, node: Node, text: str, scope: int) -> None:
        obj, attr = node.child_by_field_name("object"), node.child_by_field_name("attribute")
        if obj is None or attr is None:
            return
        values = [text] if text != UNKNOWN else []
        here = self.scopes[scope]
        if here.receiver and obj.type == "identifier" and self.text(obj) == here.receiver:
            d = self._bind(self.text(attr), "attribute", attr, here.parent, values=values)
            d.value_scope = scope
            return
        path = expr_text(node, self.src)
        if not any(ch in path for ch in "()[]?^"):
            self._bind(path, "attribute", attr, scope, values=values)

    def _pattern(self, pattern: Node) -> None:
        scope = self.scope_at(pattern.start_byte)
        stack = [pattern]
        while stack:
            node = stack.pop()
            kind = node.type
            if kind == "dotted_name":
                parent = getattr(node.parent, "type", "")
                if parent in ("case_pattern", "keyword_pattern") and node.named_child_count == 1:
                    ident = node.named_children[0]
                    if self.text(ident) != "_":
                        self._bind(self.text(ident), "local", ident, scope)
                continue
            if kind in ("splat_pattern", "as_pattern") and node.named_child_count:
                last = node.named_children[-1]
                if last.type == "identifier":
                    self._bind(self.text(last), "local", last, scope)
                stack.extend(c for c in node.named_children[:-1])
                continue
            stack.extend(node.named_children)

    def _function_scope(self, pos: int) -> int:
        index = self.scope_at(pos)
        while index > 0 and self.scopes[index].kind not in ("function", "lambda"):
            index = self.scopes[index].parent
        return index

    def _return(self, value: Node) -> None:
        defn = self.scopes[self._function_scope(value.start_byte)].defn
        if defn is not None and len(defn.values) < 8:
            text = expr_text(value, self.src)
            if text != UNKNOWN and text not in defn.values:
                defn.values.append(text)

    def _decision(self, node: Node) -> None:
        index = self._function_scope(node.start_byte)
        self.complexity[index] = self.complexity.get(index, 0) + 1

    def _all(self, value: Node) -> None:
        if value.type not in ("list", "tuple"):
            return
        names: list[str] = []
        for item in value.named_children:
            if item.type != "string":
                return
            names.append(
                "".join(self.text(c) for c in item.named_children if c.type == "string_content")
            )
        self.all_names = names
