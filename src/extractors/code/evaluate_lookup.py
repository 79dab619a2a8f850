"""Lexical lookup: a name through the scopes of its file with flow (which bindings a use
sees), then its package's files and global names; wildcard imports; class bodies."""

from __future__ import annotations

from bisect import bisect_right

from extractors.base import Definition
from extractors.code.evaluate_members import MemberEvaluator
from extractors.code.lang_spec import WITH_OBJECT
from extractors.code.nodes import ArgNode, BindNode, Ctx, DefNode, ModNode, Node, uniq
from extractors.code.scope_index import Candidate, TableIndex, is_block
from extractors.code.scope_index import parent_scope as parent

_HOISTED = frozenset({"class", "function"})


class LookupEvaluator(MemberEvaluator):
    """What a name means where it is read."""

    # -- lexical lookup ----------------------------------------------------------------------
    def lookup(self, ctx: Ctx, name: str) -> list[Node]:
        ti = self.index.index(ctx.path)
        if ti is None:
            return []
        ordered = self.profile.flow_sensitive or ti.table.language in self.profile.flow_languages
        if ctx.env:
            return self._lookup(ti, ctx, name, ordered)
        if ordered:
            return self._flow_lookup(ti, ctx, name)
        # Without flow order or bound arguments a name means the same anywhere in its scope:
        # a function's every use of a name walks the scopes once.
        key = (ctx.path, ctx.scope, name)
        found = self._lookup_memo.get(key)
        if found is None:
            found = self._lookup_memo[key] = self._lookup(ti, ctx, name, ordered)
        return found

    def _flow_lookup(self, ti: TableIndex, ctx: Ctx, name: str) -> list[Node]:
        """A lookup in flow order, the same for every use between two of the name's flow
        marks. Kept only when it started outside every cycle guard and no bound on work cut
        it (then it is what a fresh lookup there gives)."""
        if self._active:
            return self._lookup(ti, ctx, name, True)
        memo = self._flow_memo.get((ctx.path, ctx.scope, name))
        if memo is None:
            memo = self._flow_memo[ctx.path, ctx.scope, name] = (ti.flow_marks(ctx.scope, name), {})
        region = bisect_right(memo[0], ctx.line)
        found = memo[1].get(region)
        if found is None:
            cut, self.cut = self.cut, False
            found = self._lookup(ti, ctx, name, True)
            if not self.cut:
                memo[1][region] = found
            self.cut = self.cut or cut
        return found

    def _lookup(self, ti: TableIndex, ctx: Ctx, name: str, ordered: bool) -> list[Node]:
        scope, first = ctx.scope, True
        seen: list[Node] = []  # assignments to a name declared further out (``rebinds``)
        while ordered or first:
            kind = ti.scope_kind(scope)
            found, done = self._scope_step(ti, ctx, scope, name, ordered, first, kind)
            if done:
                return uniq(seen + found) if seen else found
            seen += found
            if not scope:
                outside = self._outside(ctx, ti, name)
                return uniq(seen + outside) if seen else outside
            if kind != "class" and not is_block(scope):
                ordered = False  # a function body runs later: it sees the whole outer scope
            scope, first = parent(scope), False
        outer = self._outer(ti, ctx, scope, name)
        return uniq(seen + outer) if seen else outer

    def _outer(self, ti: TableIndex, ctx: Ctx, scope: str, name: str) -> list[Node]:
        """The rest of a lookup, from an enclosing scope seen as a whole (out of flow order):
        the same for every use inside it, so kept per file, scope and name (unless bound
        arguments, a cycle guard or a bound on work make it particular)."""
        key = (ctx.path, scope, name)
        found = None if ctx.env else self._outer_memo.get(key)
        if found is None:
            guards, cut = self.guards, self.cut
            self.cut = False
            found = self._outer_walk(ti, ctx, scope, name)
            if not ctx.env and not self.cut and self.guards == guards:
                self._outer_memo[key] = found
            self.cut = self.cut or cut
        return found

    def _outer_walk(self, ti: TableIndex, ctx: Ctx, scope: str, name: str) -> list[Node]:
        seen: list[Node] = []
        while True:
            kind = ti.scope_kind(scope)
            found, done = self._scope_step(ti, ctx, scope, name, False, False, kind)
            if done:
                return uniq(seen + found) if seen else found
            seen += found
            if not scope:
                outside = self._outside(ctx, ti, name)
                return uniq(seen + outside) if seen else outside
            scope = parent(scope)

    def _scope_step(
        self, ti: TableIndex, ctx: Ctx, scope: str, name: str, ordered: bool, first: bool, kind: str
    ) -> tuple[list[Node], bool]:
        """What ``scope`` binds ``name`` to and True, or with False what to look further out
        with: its assignments to a name declared further out (``rebinds``)."""
        encloses = self.profile.class_scope_encloses
        if (scope, WITH_OBJECT) in ti.names:  # only ``with`` blocks bind it
            within = self._with_member(ti, ctx, scope, name)
            if within:
                return within, True
        if first or kind != "class" or encloses:
            found = self._in_scope(ti, ctx, scope, name, ordered)
            if not found and encloses and scope:
                found = self._inherited(ctx, ti, scope, name)
            if found and not all(_rebinds(n) for n in found):
                if self.profile.headers and (not scope or kind == "class"):
                    found = self._declared_apart(ctx.path, scope, name, found)
                return found, True
            return found, False
        # A class body's names are members, but its type parameters are in scope.
        found = [
            DefNode(ctx.path, c.definition)
            for c in ti.names.get((scope, name), ())
            if c.definition is not None and c.definition.kind == "type_parameter"
        ]
        return found, bool(found)

    def _with_member(self, ti: TableIndex, ctx: Ctx, scope: str, name: str) -> list[Node]:
        """``name`` read in a ``with (o)`` block: ``o``'s member of that name, if it has one."""
        objects = [
            DefNode(ctx.path, c.definition)
            for c in ti.names.get((scope, WITH_OBJECT), ())
            if c.definition is not None
        ]
        return uniq([r for o in objects for r in self.member(o, name)])

    def by_use(self, nodes: list[Node], call: bool) -> list[Node]:
        """``nodes`` a use can mean where methods and fields are apart (else all of them)."""
        if not self.profile.methods_apart or len(nodes) < 2:
            return nodes
        kept = [n for n in nodes if (isinstance(n, DefNode) and n.d.kind == "function") == call]
        return kept or nodes

    def _declared_apart(self, path: str, scope: str, name: str, found: list[Node]) -> list[Node]:
        """``found`` plus the other files' functions and variables of the same qualified name
        where one side is a header's declaration (a source file's own ``static`` helpers stay
        apart from another's)."""
        headers = self.profile.headers
        in_header = any(isinstance(n, DefNode) and n.path.endswith(tuple(headers)) for n in found)
        more: list[Node] = [
            DefNode(other, d)
            for other, d in self.index.scoped(scope, name)
            if other != path
            and d.kind in ("function", "variable")
            and (in_header or other.endswith(tuple(headers)))
        ]
        return uniq(found + more) if more else found

    def _inherited(self, ctx: Ctx, ti: TableIndex, scope: str, name: str) -> list[Node]:
        """Members of the class ``scope`` names (its bases' too) seen unqualified inside it."""
        cls = self.class_named(ctx.path, scope)
        found = self.class_members(cls, name) if cls is not None else []
        hidden = self.profile.hidden_kinds
        return [n for n in found if not (isinstance(n, DefNode) and n.d.kind in hidden)]

    def class_named(self, path: str, qualname: str) -> DefNode | None:
        """The class ``qualname`` of ``path``'s file, else of its package (open classes)."""
        key = (path, qualname)
        if key in self._class_named_memo:
            return self._class_named_memo[key]
        found = self._class_named_memo[key] = self._class_named(path, qualname)
        return found

    def _class_named(self, path: str, qualname: str) -> DefNode | None:
        ti = self.index.index(path)
        d = ti.by_qualname.get(qualname) if ti is not None else None
        if d is not None:
            return DefNode(path, d) if d.kind == "class" else None
        if not (self.profile.open_classes or self.profile.global_scope):
            return None
        for other, found in self.index.scoped(
            qualname.rpartition(".")[0], qualname.rpartition(".")[2]
        ):
            if found.kind == "class" and self._shares_scope(path, other):
                return DefNode(other, found)
        return None

    def _outside(self, ctx: Ctx, ti: TableIndex, name: str) -> list[Node]:
        """Names no scope of the file binds: the package's other files, then global names."""
        out: list[Node] = []
        if self.profile.package_scope or self.profile.global_scope:
            for other, d in self.index.scoped("", name):
                if (
                    other != ctx.path
                    and d.kind not in self.profile.hidden_kinds
                    and (self._shares_scope(ctx.path, other))
                ):
                    out.append(DefNode(other, d))
        if not out and self.profile.package_scope and self.index.exists(name):
            out.append(ModNode(name))  # a qualified name's package: ``com.acme.Circle``
        if self.profile.global_kinds:
            kinds = self.profile.global_kinds
            out += [DefNode(o, d) for o, d in self.index.scoped("", name) if d.kind in kinds]
        return uniq(out)

    def _in_scope(
        self, ti: TableIndex, ctx: Ctx, scope: str, name: str, ordered: bool
    ) -> list[Node]:
        cands = ti.names.get((scope, name), ())
        if not cands and scope not in ti.wildcards:
            return []  # most lookups: a scope on the way out that does not bind the name
        # Unordered lookups without bound arguments or wildcards (a function body reading an
        # outer scope: most of them) depend on the file, scope and name alone.
        memo_key = None
        if not ordered and not ctx.env and scope not in ti.wildcards:
            memo_key = (ctx.path, scope, name)
            known = self._scope_memo.get(memo_key)
            if known is not None:
                return known
        items: list[tuple[Candidate, list[Node]]] = []
        for c in cands:
            if c.definition is not None and c.definition.kind not in self.profile.hidden_kinds:
                items.append((c, [self._def_node(ctx, c.definition)]))
            elif c.binding is not None:
                items.append((c, [BindNode(ctx.path, c.binding, c.prefix)]))
        for b in ti.wildcards.get(scope, ()):
            nodes = self._wildcard(ctx.path, b.level, b.target, name)
            if nodes:
                items.append((Candidate(b.line, None, None, binding=b), nodes))
        if ordered:
            items = _visible(items, ctx.line, self.profile.rebinding_kills)
        found = uniq([n for _, nodes in items for n in nodes])
        if memo_key is not None:
            self._scope_memo[memo_key] = found
        return found

    def _def_node(self, ctx: Ctx, d: Definition) -> Node:
        node = DefNode(ctx.path, d)
        if d.kind in ("parameter", "type_parameter") and ctx.env:
            for qualname, bound in ctx.env:
                if qualname == d.qualname:
                    return ArgNode(node, bound)
        return node

    def _wildcard(self, path: str, level: int, target: str, name: str) -> list[Node]:
        module = self.module_name(path, level, target)
        if module is None and self.profile.global_scope and not level:
            # A namespace made visible (C++ ``using namespace geo``): its names in any file.
            return [DefNode(p, d) for p, d in self.index.scoped(target, name)]
        if module is None and self.profile.package_scope and not level:
            # A class made visible (C# ``using static A.Util``, Java ``import static a.B.*``):
            # its members.
            owners = self._static_owners(path, target)
            return uniq([r for cls in owners for r in self.class_members(cls, name)])
        if module is None or self._cycle(("*", module, name)):
            return []
        if name not in self._star_names(module):  # most lookups miss most starred modules
            return []
        for mod_path in self.index.by_module.get(module, ()):
            table = self.index.tables[mod_path]
            # Python's ``__all__`` lists every name; an ECMAScript module's exports add those
            # of the modules it re-exports (``module_member`` tells them apart).
            names = table.all_names
            if names is not None and name not in names and not self.profile.exported_only:
                return []
        if name.startswith("_"):
            return []
        self._active.add(("*", module, name))
        try:
            return self.module_member(module, name, submodules=False)
        finally:
            self._active.discard(("*", module, name))

    def _static_owners(self, path: str, target: str) -> list[DefNode]:
        key = ("static", path, target)
        found = self._bases_memo.get(key)
        if found is None:
            nodes = self.resolve_path(path, 0, target.split("."))
            found = [n for n in nodes if isinstance(n, DefNode) and n.d.kind == "class"]
            self._bases_memo[key] = found
        return found

    def _star_names(self, module: str) -> frozenset[str]:
        """Every module-level name of ``module`` and of the modules it star-imports, however
        deep: a superset of what a wildcard import of it can bind."""
        found = self._star_memo.get(module)
        if found is not None:
            return found
        names: set[str] = set()
        todo, seen = [module], {module}
        while todo:
            for path in self.index.by_module.get(todo.pop(), ()):
                ti = self.index.index(path)
                if ti is None:
                    continue
                names |= ti.top_names
                for b in ti.wildcards.get("", ()):
                    inner = self.module_name(path, b.level, b.target)
                    if inner is not None and inner not in seen:
                        seen.add(inner)
                        todo.append(inner)
        found = self._star_memo[module] = frozenset(names)
        return found


def _rebinds(n: Node) -> bool:
    return isinstance(n, DefNode) and n.d.rebinds


def _hoisted(c: Candidate) -> bool:
    d = c.definition  # declarations and imports are bound before the code runs
    return (d is not None and d.kind in _HOISTED) or c.binding is not None


def _visible(
    items: list[tuple[Candidate, list[Node]]], line: int, kills: bool = True
) -> list[tuple[Candidate, list[Node]]]:
    """Bindings a use on ``line`` sees: the latest before it (and earlier ones while the later
    sit in blocks that may not run), plus bindings later in a loop around the use. Without
    ``kills``: every binding before it, and hoisted declarations wherever they are."""
    if len(items) == 1 and items[0][0].line < line and items[0][0].loop is None:
        return items
    if not kills:
        # Back from the use: assignments add to what it may see, a declaration ends it.
        seen: list[tuple[Candidate, list[Node]]] = []
        last = -1  # the line of the declaration that ends the walk (its line's others count)
        for it in sorted((it for it in items if it[0].line < line), key=lambda it: -it[0].line):
            c = it[0]
            if c.line < last:
                break
            seen.append(it)
            rebinds = c.definition is not None and c.definition.rebinds
            if not rebinds and (c.block is None or c.block[0] <= line <= c.block[1]):
                last = c.line
        return seen + [
            it
            for it in items
            if it[0].line >= line
            and (
                _hoisted(it[0])
                or (it[0].loop is not None and it[0].loop[0] <= line <= it[0].loop[1])
            )
        ]
    before = sorted((it for it in items if it[0].line < line), key=lambda it: -it[0].line)
    out: list[tuple[Candidate, list[Node]]] = []
    for it in before:
        out.append(it)
        block = it[0].block
        if block is None or block[0] <= line <= block[1]:
            break
    for it in items:
        loop = it[0].loop
        if it[0].line >= line and loop is not None and loop[0] <= line <= loop[1]:
            out.append(it)
    return out
