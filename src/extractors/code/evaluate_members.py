"""Members, values and calls: members through classes (and their bases), what a binding
holds, instances and return values with their arguments bound."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import replace

from extractors.code.evaluate_base import END
from extractors.code.evaluate_modules import ModuleEvaluator
from extractors.code.expr import RECEIVER, Call, Expr, parse
from extractors.code.lang_spec import ALL_ARGUMENTS
from extractors.code.nodes import (
    STABLE,
    ArgNode,
    BindNode,
    Ctx,
    DefNode,
    InstNode,
    ModNode,
    Node,
    PathNode,
    SuperNode,
    TupleNode,
    uniq,
)
from extractors.code.scope_index import def_name, def_scope

_MAX_CALLS = 6  # nested calls followed through return values
_TERMINAL = frozenset({"class", "function", "module", "lambda"})
_NEW = Call((), ())


class MemberEvaluator(ModuleEvaluator):
    """Members of classes, instances and modules; values of bindings; calls."""

    @abstractmethod
    def eval(self, expr: Expr, ctx: Ctx) -> list[Node]:
        """What ``expr`` evaluates to in ``ctx`` (``Evaluator``)."""

    # -- members, values, calls --------------------------------------------------------------
    def member(self, node: Node, attr: str) -> list[Node]:
        stable = isinstance(node, STABLE) and not (isinstance(node, InstNode) and node.env)
        key = (node.key, attr)
        if stable and key in self._member_memo:
            return self._member_memo[key]
        if self._guarded(key):
            return []
        self._active.add(key)
        self._depth += 1
        try:
            out = self._dotted(node, attr)
            for value in self.deref(node):
                if value is node or not isinstance(value, BindNode | DefNode):
                    out += self._member_of(value, attr)
                else:  # another binding: its dotted names count too
                    out += self.member(value, attr)
            out = uniq(out)
        finally:
            self._active.discard(key)
            self._depth -= 1
        if stable:
            self._member_memo[key] = out
        return out

    def _dotted(self, node: Node, attr: str) -> list[Node]:
        """Bindings of a dotted name: ``a.b`` of ``import a.b`` or of ``a.b = 1``."""
        if isinstance(node, PathNode):
            ti, scope, name = self.index.index(node.path), node.scope, node.name
        elif isinstance(node, BindNode):
            ti, scope, name = self.index.index(node.path), node.b.scope, node.prefix
        elif isinstance(node, DefNode) and node.d.kind not in _TERMINAL:
            ti, scope, name = self.index.index(node.path), def_scope(node.d), def_name(node.d)
        else:
            return []
        if ti is None:
            return []
        out: list[Node] = []
        path = node.path
        for c in ti.names.get((scope, f"{name}.{attr}"), ()):
            if c.binding is not None:
                out.append(BindNode(path, c.binding, c.prefix))
            elif c.definition is not None:
                out.append(DefNode(path, c.definition))
        if not out and (scope, f"{name}.{attr}") in ti.dotted_prefixes:
            out.append(PathNode(path, scope, f"{name}.{attr}"))
        return out

    def _member_of(self, value: Node, attr: str) -> list[Node]:
        if isinstance(value, BindNode):
            return [r for t in self.targets(value) for r in self.member(t, attr)]
        if isinstance(value, DefNode) and value.d.kind == "class":
            # The class object has its static members, not its instances' (``C.m``).
            found = self.class_members(value, attr)
            return [n for n in found if not (isinstance(n, DefNode) and n.d.instance)]
        if isinstance(value, InstNode):
            found = self.class_members(value.cls, attr)
            if value.cls.d.kind != "class":  # a constructor function's: what it set on this
                found = [n for n in found if isinstance(n, DefNode) and n.d.kind == "attribute"]
            return self._bound_members(found, value.env) if value.env else found
        if isinstance(value, SuperNode):
            return [r for base in self.bases(value.cls) for r in self.class_members(base, attr)]
        if isinstance(value, ModNode):
            if value.external:
                return [ModNode(f"{value.name}.{attr}", external=True)]
            return self.module_member(value.name, attr)
        return []

    def class_members(self, cls: DefNode, attr: str) -> list[Node]:
        """Members named ``attr`` of a class and of all its bases (every candidate: a method
        overridden in a subclass may run either body)."""
        key = (cls.key, attr)
        found = self._class_memo.get(key)
        if found is None:
            guards, cut = self.guards, self.cut
            self.cut = False
            found = self._class_members(cls, attr)
            if not self.cut and self.guards == guards:
                self._class_memo[key] = found
            self.cut = self.cut or cut
        return found

    def _class_members(self, cls: DefNode, attr: str) -> list[Node]:
        out: list[Node] = []
        seen: set[tuple[object, ...]] = set()
        todo = [cls]
        while todo and len(seen) < 64:
            c = todo.pop(0)
            if c.key in seen:
                continue
            seen.add(c.key)
            ti = self.index.index(c.path)
            if ti is None:
                continue
            for cand in ti.names.get((c.d.qualname, attr), ()):
                if cand.definition is not None:
                    out.append(DefNode(c.path, cand.definition))
                elif cand.binding is not None:
                    out.append(BindNode(c.path, cand.binding, cand.prefix))
            if self.profile.open_classes or self.profile.global_scope:
                out += [
                    DefNode(p, d)
                    for p, d in self.index.scoped(c.d.qualname, attr)
                    if p != c.path and self._shares_scope(c.path, p)
                ]
            if out and self._typed(cls.path):
                break  # a typed member access means the nearest declaration (an override)
            todo += self.bases(c)
        if not out and self.profile.extensions:
            out = self._extensions(seen, attr)
        return uniq(out)

    def _extensions(self, classes: set[tuple[object, ...]], attr: str) -> list[Node]:
        """Extension functions named ``attr`` whose receiver type is one of ``classes``."""
        out: list[Node] = []
        for path, d in self.index.by_name(attr):
            if d.kind != "function" or not d.bases:
                continue
            ctx = Ctx(path, def_scope(d), d.line)
            owners = [o for b in d.bases for n in self.eval(parse(b), ctx) for o in self.objects(n)]
            if any(isinstance(o, DefNode) and o.key in classes for o in owners):
                out.append(DefNode(path, d))
        return out

    def bases(self, cls: DefNode) -> list[DefNode]:
        if not cls.d.bases:
            return []
        key = ("bases", *cls.key)
        memo = self._bases_memo.get(key)
        if memo is not None:
            return memo
        if self._cycle(key):
            return []
        self._active.add(key)
        try:
            ctx = Ctx(cls.path, def_scope(cls.d), cls.d.line)
            out: list[DefNode] = []
            for text in cls.d.bases:
                for n in self.eval(parse(text), ctx):
                    out += [
                        o for o in self.objects(n) if isinstance(o, DefNode) and o.d.kind == "class"
                    ]
        finally:
            self._active.discard(key)
        self._bases_memo[key] = out
        return out

    def deref(self, node: Node) -> list[Node]:
        """What a binding holds, stopping at classes, functions, modules and import bindings."""
        if isinstance(node, ArgNode):
            found = [r for b in node.bound for r in self.deref(b)]
            # An argument we cannot follow (a literal, ``null``): the parameter's own type;
            # where a parameter's value is its default, the call may pass nothing.
            if found and self._typed(node.param.path):
                return found
            return uniq(found + self.deref(node.param))
        if not isinstance(node, DefNode) or node.d.kind in _TERMINAL:
            return [node]
        if not node.d.values:
            if node.d.kind in self.profile.global_kinds:  # ``export as namespace A``
                table = self.index.tables.get(node.path)
                return [ModNode(table.module)] if table is not None else []
            return []
        memo = self._deref_memo.get(node.key)
        if memo is not None:
            return memo
        if self._guarded(node.key):
            return []
        self._active.add(node.key)
        self._depth += 1
        try:
            ctx = self.def_ctx(node)
            out = uniq(
                [r for v in node.d.values for n in self.eval(parse(v), ctx) for r in self.deref(n)]
            )
        finally:
            self._active.discard(node.key)
            self._depth -= 1
        self._deref_memo[node.key] = out
        return out

    def objects(self, node: Node) -> list[Node]:
        """Like ``deref`` but through import bindings too."""
        out: list[Node] = []
        todo: list[Node] = [node]
        seen: set[tuple[object, ...]] = set()
        while todo and len(seen) < 64:
            n = todo.pop()
            if n.key in seen:
                continue
            seen.add(n.key)
            for v in self.deref(n):
                if not isinstance(v, BindNode):
                    out.append(v)
                elif v is n:
                    todo += self.targets(v)
                else:
                    todo.append(v)
        return uniq(out)

    def def_ctx(self, node: DefNode) -> Ctx:
        d = node.d
        return Ctx(node.path, d.value_scope if d.value_scope is not None else def_scope(d), d.line)

    def call(self, node: Node, op: Call, ctx: Ctx) -> list[Node]:
        out: list[Node] = []
        for obj in self.objects(node):
            if isinstance(obj, DefNode) and obj.d.kind == "class":
                out.append(self._instance(obj, op, ctx))
            elif isinstance(obj, InstNode):  # Ruby ``new(x)`` in a class method, Kotlin ``this()``
                out.append(obj)
            elif isinstance(obj, DefNode) and obj.d.kind == "function":
                out += self._returns(obj, op, ctx)
                if self.profile.function_classes and self._constructs(obj):
                    out.append(self._instance(obj, op, ctx))
            elif isinstance(obj, TupleNode):  # a tuple type's instance: its items' instances
                items = tuple(replace(e, ops=(*e.ops, _NEW)) for e in obj.items)
                out.append(TupleNode(items, obj.ctx))
        return uniq(out)

    def _constructs(self, fn: DefNode) -> bool:
        """Whether a function assigns members to ``this`` (so ``new`` of it makes them)."""
        found = self._constructors.get(fn.path)
        if found is None:
            ti = self.index.index(fn.path)
            defs = ti.table.definitions if ti is not None else []
            found = self._constructors[fn.path] = frozenset(
                def_scope(d) for d in defs if d.kind == "attribute"
            )
        return fn.d.qualname in found

    def _instance(self, cls: DefNode, op: Call, ctx: Ctx) -> InstNode:
        """``new C(args)``: JavaScript binds the constructor's parameters (a function's own, a
        class's ``constructor``'s), so members assigned from them hold the arguments."""
        env: list[tuple[str, tuple[Node, ...]]] = []
        if op.args and self.profile.function_classes:
            ti = self.index.index(cls.path)
            ctor = cls.d.qualname + (".constructor" if cls.d.kind == "class" else "")
            params = sorted(ti.params.get(ctor, []) if ti else [], key=lambda p: p.index)
            positional = [p for p in params if p.index >= 0]
            env += [
                (p.qualname, tuple(self.eval(arg, ctx)))
                for p, arg in zip(positional, op.args, strict=False)
            ]
        if op.kwargs and cls.d.kind == "class":
            env += self._type_env(cls, op, ctx)
        return InstNode(cls, tuple(env)) if env else InstNode(cls)

    def _type_env(self, cls: DefNode, op: Call, ctx: Ctx) -> list[tuple[str, tuple[Node, ...]]]:
        """``Box(<0>=Item)``, a ``Box<Item>``: the generic's type parameters bound by position
        to the types given, the rest to their defaults (which may name earlier ones)."""
        given = {k: arg for k, arg in op.kwargs if k.startswith("<")}
        by_scope = self._typeparams.get(cls.path)
        if by_scope is None:
            ti = self.index.index(cls.path)
            by_scope = self._typeparams[cls.path] = {}
            for d in ti.table.definitions if ti is not None else []:
                if d.kind == "type_parameter":
                    by_scope.setdefault(def_scope(d), []).append(d)
        env: list[tuple[str, tuple[Node, ...]]] = []
        for p in sorted(by_scope.get(cls.d.qualname, []), key=lambda p: p.index):
            arg = given.get(f"<{p.index}>")
            if arg is not None:
                env.append((p.qualname, tuple(self.eval(arg, ctx))))
            elif p.values:
                inner = Ctx(cls.path, cls.d.qualname, p.line, tuple(env))
                env.append(
                    (p.qualname, tuple(r for v in p.values for r in self.eval(parse(v), inner)))
                )
        return env

    def _bound_members(
        self, found: list[Node], env: tuple[tuple[str, tuple[Node, ...]], ...]
    ) -> list[Node]:
        """Members of an instance whose constructor's arguments are known: an attribute's
        value is read with its parameters bound to them."""
        out: list[Node] = []
        for n in found:
            if isinstance(n, DefNode) and n.d.kind in ("attribute", "variable") and n.d.values:
                c = self.def_ctx(n)
                inner = Ctx(c.path, c.scope, c.line, env)
                bound = tuple(r for v in n.d.values for r in self.eval(parse(v), inner))
                out.append(ArgNode(n, bound) if bound else n)
            else:
                out.append(n)
        return out

    def _returns(self, fn: DefNode, op: Call, ctx: Ctx) -> list[Node]:
        key = ("call", *fn.key)
        if not fn.d.values:
            return []
        if self._cycle(key):
            return []
        if self._calls >= _MAX_CALLS:
            self.cut = True
            return []
        self._active.add(key)
        self._calls += 1
        try:
            return self._bound_returns(fn, op, ctx)
        finally:
            self._active.discard(key)
            self._calls -= 1

    def _bound_returns(self, fn: DefNode, op: Call, ctx: Ctx) -> list[Node]:
        ti = self.index.index(fn.path)
        params = sorted(ti.params.get(fn.d.qualname, []) if ti else [], key=lambda p: p.index)
        positional = [p for p in params if p.index >= 0]
        if positional and positional[0].values == [RECEIVER]:
            positional = positional[1:]
        env: list[tuple[str, tuple[Node, ...]]] = []
        for p, arg in zip(positional, op.args, strict=False):
            env.append((p.qualname, tuple(self.eval(arg, ctx))))
        every = [p for p in params if p.index == ALL_ARGUMENTS]  # JavaScript ``arguments``
        env += [(p.qualname, (TupleNode(op.args, ctx),)) for p in every]
        by_name = {def_name(p): p for p in params}
        for key, arg in op.kwargs:
            if key in by_name:
                env.append((by_name[key].qualname, tuple(self.eval(arg, ctx))))
        if any(key.startswith("<") for key, _ in op.kwargs):  # ``f<A>(x)``: its type arguments
            env += self._type_env(fn, op, ctx)
        inner = Ctx(fn.path, fn.d.qualname, END, tuple(env))
        return [r for v in fn.d.values for r in self.eval(parse(v), inner)]
