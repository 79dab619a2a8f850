"""Evaluation of reference expressions over symbol tables: lexical lookup with flow, members
through classes (and their bases), modules and imports, calls through return values.

Language rules that differ live in :class:`Profile`; the rest only assumes what a
``SymbolTable`` says. Work is bounded: a depth limit, cycle guards and capped result sets, so a
pathological file costs a bounded amount of time and never overflows the stack.

This module evaluates expressions and says where a resolution points; the rest is layered
beneath it (see ``evaluate_base``): ``evaluate_lookup``, ``evaluate_members``,
``evaluate_modules``.
"""

from __future__ import annotations

from extractors.code.evaluate_base import MAX_DEPTH, Profile
from extractors.code.evaluate_lookup import LookupEvaluator
from extractors.code.expr import Attr, Call, Expr, Index, parse
from extractors.code.nodes import (
    ArgNode,
    BindNode,
    Ctx,
    DefNode,
    InstNode,
    ModNode,
    Node,
    SuperNode,
    TupleNode,
    uniq,
)
from extractors.code.scope_index import def_name, is_block
from extractors.code.scope_index import parent_scope as parent

__all__ = ["Evaluator", "Profile"]

_MAX_STEPS = 3000  # evaluations per top-level expression: a bound on pathological code
_ALIASES = frozenset({"variable", "local", "attribute", "export"})


class Evaluator(LookupEvaluator):
    """What reference expressions of a repository's files point to, e.g.
    ``Evaluator(index, Profile("python")).eval(parse("a.b()"), Ctx(path, "", line))``."""

    # -- expressions -------------------------------------------------------------------------
    def eval(self, expr: Expr, ctx: Ctx) -> list[Node]:
        memo = not ctx.env
        # Keyed by identity (parse() returns shared objects; the memo keeps them alive):
        # hashing nested frozen dataclasses on every call costs more than evaluating.
        key = (ctx.path, ctx.scope, ctx.line, id(expr))
        if memo and key in self._eval_memo:
            kept, found = self._eval_memo[key]
            if kept is expr:
                return found
        self._steps += 1
        if self._depth > MAX_DEPTH or self._steps > _MAX_STEPS:
            self.cut = True
            return []
        self._depth += 1
        try:
            nodes = self._head(expr, ctx)
            for op in expr.ops:
                if not nodes:
                    break
                nodes = uniq([r for n in nodes for r in self._op(n, op, ctx)])
        finally:
            self._depth -= 1
        if memo:
            self._eval_memo[key] = (expr, nodes)
        return nodes

    def apply(self, nodes: list[Node], op: Attr | Call | Index, ctx: Ctx) -> list[Node]:
        """The last operation of an expression applied to what its prefix evaluated to: the
        same as ``eval`` of the whole, for a caller that needs the prefix's nodes too."""
        if not nodes:
            return nodes
        self._depth += 1
        try:
            return uniq([r for n in nodes for r in self._op(n, op, ctx)])
        finally:
            self._depth -= 1

    def _op(self, node: Node, op: Attr | Call | Index, ctx: Ctx) -> list[Node]:
        if isinstance(op, Attr):
            return self.member(node, op.name)
        if isinstance(op, Call):
            return self.call(node, op, ctx)
        out: list[Node] = []
        for obj in self.objects(node):
            if isinstance(obj, InstNode) and self._typed(ctx.path):
                out.append(obj)  # ``xs[i]`` of a ``V[]``: a container is written as its element
                continue
            if not isinstance(obj, TupleNode):
                continue
            # A typed language's array literal is an array of any of its elements' types.
            precise = not self._typed(obj.ctx.path)
            if precise and 0 <= op.index < len(obj.items):
                out += self.eval(obj.items[op.index], obj.ctx)
            elif op.index == -1 or not precise:  # ``xs[i]``: any element
                out += [r for item in obj.items for r in self.eval(item, obj.ctx)]
        return out

    def _head(self, expr: Expr, ctx: Ctx) -> list[Node]:
        if expr.head == "name":
            return self.lookup(ctx, expr.name)
        if expr.head == "import":
            parts = expr.name.split(".") if expr.name else []
            return self.resolve_path(ctx.path, expr.level, parts)
        if expr.head == "tuple":
            return [TupleNode(expr.items, ctx)]
        if expr.head in ("receiver", "super"):
            cls = self._enclosing_class(ctx, method_scope=expr.head == "super")
            if cls is None:
                return []
            return [InstNode(cls) if expr.head == "receiver" else SuperNode(cls)]
        return []

    def _enclosing_class(self, ctx: Ctx, method_scope: bool) -> DefNode | None:
        ti = self.index.index(ctx.path)
        scope = ctx.scope
        while is_block(scope) or (self.profile.lambda_receiver and _is_lambda(scope)):
            scope = parent(scope)  # ``this`` in a braces block is its function's
        while ti is not None and scope:
            owner = parent(scope)
            d = ti.by_qualname.get(owner)
            if d is not None and d.kind == "class":
                return DefNode(ctx.path, d)
            if d is None and owner and self.profile.class_scope_encloses:
                found = self.class_named(ctx.path, owner)
                if found is not None:
                    return found
            if not method_scope:
                return None
            scope = owner
        return None

    # -- where a resolution points -----------------------------------------------------------
    def lines(self, node: Node) -> set[tuple[str, int]]:
        """The definition sites a node stands for, following aliases (``x = y``, imports)."""
        out: set[tuple[str, int]] = set()
        todo: list[Node] = [node]
        seen: set[tuple[object, ...]] = set()
        while todo and len(seen) < 64:
            n = todo.pop()
            if n.key in seen:
                continue
            seen.add(n.key)
            if isinstance(n, ArgNode) and n.param.d.kind == "attribute":
                todo.append(n.param)  # a member bound to a constructor's argument
            elif isinstance(n, ArgNode):
                out.add((n.param.path, n.param.d.line))
            elif isinstance(n, DefNode):
                if not def_name(n.d).startswith("<"):  # an object literal names no site
                    out.add((n.path, n.d.line))
                # A typed language's variable is a site of its own (its value only gives it
                # a type); an export (``export default x``) stands for what it names.
                alias = n.d.kind == "export" or n.d.qualname == "default"
                if n.d.kind in _ALIASES | {"parameter"} and (alias or not self._typed(n.path)):
                    ctx = self.def_ctx(n)
                    paths = [e for e in map(parse, n.d.values) if _reads(e)]
                    todo += [r for e in paths for r in self.eval(e, ctx)]
            elif isinstance(n, BindNode):
                out.add((n.path, n.b.line))
                todo += self.targets(n)
            elif isinstance(n, ModNode) and not n.external:
                for path in self.index.by_module.get(n.name, ()):
                    ti = self.index.index(path)
                    if ti is not None and ti.module_line and self.profile.module_sites:
                        out.add((path, ti.module_line))
        return out


def _reads(e: Expr) -> bool:
    """A value that only reads names, members and elements (an alias of what it reads)."""
    return e.head == "name" and all(isinstance(op, Attr | Index) for op in e.ops)


def _is_lambda(scope: str) -> bool:
    return scope.rpartition(".")[2].startswith("<lambda")
