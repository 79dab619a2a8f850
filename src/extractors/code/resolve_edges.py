"""Turning evaluated references and imports of one file into graph relations."""

from __future__ import annotations

from bisect import bisect_right

from extractors.base import FileExtract, ImportBinding, Reference
from extractors.code.evaluate import Evaluator
from extractors.code.expr import Attr, Expr, names_read, parse
from extractors.code.nodes import (
    ArgNode,
    BindNode,
    Ctx,
    DefNode,
    InstNode,
    ModNode,
    Node,
    SuperNode,
)
from kg.model import Batch, Entity, EntityKind, Relation, RelationKind, resolve_scope

SCOPE, IMPORT, MEMBER = ("code:scope", 0.9), ("code:import-resolved", 0.95), ("code:member", 0.85)
EXTERNAL = ("code:external", 0.9)
_NAME_MATCH, _AMBIGUOUS, _MAX_CANDIDATES = "code:name-match", "code:ambiguous", 8
_ALIAS_KINDS = frozenset({"variable", "local", "attribute", "export"})
Edges = list[tuple[str, tuple[str, float]]]  # (target id, (provenance, confidence))


class EdgeBuilder:
    def __init__(self, repo: str, extract: FileExtract, ev: Evaluator) -> None:
        self.repo, self.extract, self.ev = repo, extract, ev
        self.path = extract.path
        self.owner = resolve_scope(repo, extract.path)
        self.relations: dict[tuple[RelationKind, str, str], Relation] = {}
        self.externals: dict[str, Entity] = {}
        self.skipped = 0
        self._table_index = ev.index.index(extract.path)
        self._aliases: dict[tuple[object, ...], list[tuple[str, str]]] = {}
        self._near: dict[tuple[str, RelationKind, str], tuple[list[int], dict[int, Edges]]] = {}
        self._done: dict[tuple[object, ...], Edges] = {}

    def batch(self) -> Batch:
        return Batch(
            repo=self.repo,
            entities=list(self.externals.values()),
            relations=list(self.relations.values()),
            replace_scopes={self.owner},
        )

    def _add(self, kind: RelationKind, src: str, dst: str, how: tuple[str, float]) -> None:
        if src == dst:
            return
        key = (kind, src, dst)
        old = self.relations.get(key)
        if old is None or old.confidence < how[1]:
            self.relations[key] = Relation(kind, src, dst, how[1], how[0], self.owner)

    def _external(self, dotted: str) -> str:
        entity = self.externals.get(dotted)
        if entity is None:
            # Owned by no file scope: other files point at the same entity, so no single
            # file's re-resolution may delete it.
            entity = Entity.make(
                EntityKind.MODULE,
                self.repo,
                f"external:{dotted}",
                name=dotted,
                owner=f"external:{self.repo}",
                language=self.extract.language,
                attrs={"external": True, "qualname": dotted},
            )
            self.externals[dotted] = entity
        return entity.id

    # -- references --------------------------------------------------------------------------
    def reference(self, ref: Reference) -> None:
        # What an expression evaluates to follows from what the names it reads mean where it
        # is written (the rest of evaluation does not depend on where the use is), so the
        # uses of one expression that see the same bindings are evaluated once per file:
        # first told apart by scope and flow region alone (cheap), then by those bindings.
        near = self._near.get((ref.name, ref.kind, ref.scope))
        if near is None:
            near = self._near[ref.name, ref.kind, ref.scope] = self._regions(ref)
        region = bisect_right(near[0], ref.line)
        edges = near[1].get(region)
        if edges is None:
            edges = self._evaluated(ref)
            if edges is None:
                return
            near[1][region] = edges
        for dst, how in edges:
            self._add(ref.kind, ref.src, dst, how)

    def _regions(self, ref: Reference) -> tuple[list[int], dict[int, Edges]]:
        """The flow marks of the names ``ref`` reads (uses between two marks see the same
        bindings of them), and a place for the edges of each region between them."""
        ti = self._table_index
        names, _ = names_read(ref.name)
        if ti is None:
            return [], {}  # not in the index: every lookup finds nothing
        if len(names) == 1:
            return ti.flow_marks(ref.scope, names[0]), {}
        return sorted({m for n in names for m in ti.flow_marks(ref.scope, n)}), {}

    def _evaluated(self, ref: Reference) -> Edges | None:
        """The edges of ``ref``, from the memo of what its names mean when it has them (None
        when its evaluation was cut short: not to be reused)."""
        names, receiver = names_read(ref.name)
        expr = parse(ref.name)
        if expr.head == "unknown" and not expr.ops:
            return []
        ctx = Ctx(self.path, ref.scope, ref.line)
        self.ev.reset()
        seen = tuple(tuple(n.key for n in self.ev.lookup(ctx, name)) for name in names)
        key = (ref.name, ref.kind, ref.scope if receiver else "", seen)
        edges = self._done.get(key)
        if edges is None:
            cut = self.ev.cut
            self.ev.reset()
            edges = self._reference(ref, expr, ctx)
            if cut or self.ev.cut:
                for dst, how in edges:
                    self._add(ref.kind, ref.src, dst, how)
                return None
            self._done[key] = edges
        return edges

    def _reference(self, ref: Reference, expr: Expr, ctx: Ctx) -> Edges:
        """The edges ``ref`` makes, as (target id, how found)."""
        prefix = _Prefix(self.ev, expr, ctx) if expr.ops else None
        nodes = prefix.then_last() if prefix is not None else self.ev.eval(expr, ctx)
        nodes = self.ev.by_use(nodes, ref.kind is RelationKind.CALLS)
        targets: list[tuple[str, str]] = []
        for node in nodes:
            targets += self._entities(node, 0)
        if targets:
            how = self._how(expr, ctx, targets, prefix)
            # A C prototype in a header and the definition beside the use: each edge says how
            # its own target was found.
            here = [t for t in targets if t[1] == self.path]
            mixed = here and len(here) < len(targets)
            how_here = self._how(expr, ctx, here, prefix) if mixed else how
            return [(dst, how_here if path == self.path else how) for dst, path in targets]
        # Only a reference that ends outside the project can be an external one.
        unknown = not nodes or any(
            isinstance(n, BindNode) or (isinstance(n, ModNode) and n.external) for n in nodes
        )
        external = self._external_head(expr, ctx) if unknown else ""
        if external:
            return [(self._external(external), EXTERNAL)]
        if ref.kind in (RelationKind.CALLS, RelationKind.INHERITS) and not nodes:
            return self._name_match(expr, prefix)
        return []

    def _entities(self, node: Node, depth: int) -> list[tuple[str, str]]:
        """(entity id, path) pairs a resolved node stands for; locals follow their aliases."""
        if depth > 4:
            return []
        if isinstance(node, DefNode):
            if node.d.id:
                return [(node.d.id, node.path)]
            if node.d.kind not in _ALIAS_KINDS:
                return []
            return self._aliased(node) if depth == 0 else self._alias_entities(node, depth)
        if isinstance(node, BindNode):
            return self._aliased(node) if depth == 0 else self._bound_entities(node, depth)
        if isinstance(node, ModNode) and not node.external:
            tables = self.ev.index.tables
            return [(tables[p].module_id, p) for p in self.ev.index.by_module.get(node.name, ())]
        return []

    def _aliased(self, node: DefNode | BindNode) -> list[tuple[str, str]]:
        """What an alias (a local, an import) stands for, once per file: every use of it
        asks the same (kept unless a bound on work or a cycle guard cut it short)."""
        found = self._aliases.get(node.key)
        if found is None:
            ev = self.ev
            guards, cut = ev.guards, ev.cut
            ev.cut = False
            if isinstance(node, DefNode):
                found = self._alias_entities(node, 0)
            else:
                found = self._bound_entities(node, 0)
            if not ev.cut and ev.guards == guards:
                self._aliases[node.key] = found
            ev.cut = ev.cut or cut
        return found

    def _alias_entities(self, node: DefNode, depth: int) -> list[tuple[str, str]]:
        ctx = self.ev.def_ctx(node)
        return [
            t
            for v in node.d.values
            if parse(v).is_path
            for n in self.ev.eval(parse(v), ctx)
            for t in self._entities(n, depth + 1)
        ]

    def _bound_entities(self, node: BindNode, depth: int) -> list[tuple[str, str]]:
        return [t for n in self.ev.targets(node) for t in self._entities(n, depth + 1)]

    def _how(
        self, expr: Expr, ctx: Ctx, targets: list[tuple[str, str]], prefix: _Prefix | None
    ) -> tuple[str, float]:
        if prefix is not None and isinstance(expr.ops[-1], Attr) and prefix.is_member_access():
            return MEMBER
        if any(path != self.path for _, path in targets):
            return IMPORT
        head = self.ev.lookup(ctx, expr.name) if expr.head == "name" else []
        return IMPORT if any(isinstance(n, BindNode) for n in head) else SCOPE

    def _external_head(self, expr: Expr, ctx: Ctx) -> str:
        """The external module a reference goes through (``np`` of ``import numpy as np``)."""
        if expr.head != "name":
            return ""
        for node in self.ev.eval(parse(expr.name), ctx):
            for value in self.ev.deref(node):
                if isinstance(value, BindNode):
                    found = [t for t in self.ev.targets(value) if isinstance(t, ModNode)]
                    if found and all(t.external for t in found):
                        return external_module(value.b, found[0].name)
        return ""

    def _name_match(self, expr: Expr, prefix: _Prefix | None) -> Edges:
        last = expr.last_name
        if not last or (not expr.ops and expr.name in self.ev.profile.builtins):
            return []
        if prefix is not None and prefix.has_known_value():
            return []
        found = self.ev.index.by_name(last)
        if not found or len(found) > _MAX_CANDIDATES:
            return []
        how = (_NAME_MATCH, 0.6) if len(found) == 1 else (_AMBIGUOUS, 0.6 / len(found))
        return [(d.id, how) for _, d in found]

    # -- imports -----------------------------------------------------------------------------
    def imports(self) -> None:
        table = self.extract.symbols
        src = table.module_id
        for b in table.imports:
            if b.local == "*":
                found = self.ev.resolve_path(
                    self.path, b.level, b.target.split(".") if b.target else []
                )
            else:
                # A copy: the evaluator memoizes the list it returns.
                found = list(self.ev.targets(BindNode(self.path, b, b.local)))
                if b.symbol:
                    parent = b.target.rpartition(".")[0].split(".") if "." in b.target else []
                    found += self.ev.resolve_path(self.path, b.level, parent)
            for node in found:
                self._import_edge(src, b, node)

    def _import_edge(self, src: str, b: ImportBinding, node: Node) -> None:
        if isinstance(node, ModNode) and node.external:
            self._add(
                RelationKind.IMPORTS, src, self._external(external_module(b, node.name)), EXTERNAL
            )
        elif isinstance(node, ModNode):
            for dst, _ in self._entities(node, 0):
                self._add(RelationKind.IMPORTS, src, dst, IMPORT)
        elif isinstance(node, DefNode | BindNode):
            for n in [node] if isinstance(node, DefNode) else self.ev.targets(node):
                if isinstance(n, DefNode) and n.path != self.path:
                    self._add(
                        RelationKind.IMPORTS, src, self.ev.index.tables[n.path].module_id, IMPORT
                    )


def external_module(b: ImportBinding, resolved: str) -> str:
    """The module part of an external import target (``os.path`` of ``os.path.join``)."""
    if b.symbol and resolved == b.target and "." in resolved:
        return resolved.rpartition(".")[0]
    return resolved


class _Prefix:
    """An expression without its last operation (``a.b`` of ``a.b.c()``), evaluated once:
    the whole expression's value follows from it, and so do the questions asked of what the
    last operation applies to."""

    def __init__(self, ev: Evaluator, expr: Expr, ctx: Ctx) -> None:
        self.ev, self.expr, self.ctx = ev, expr, ctx
        self.nodes = ev.eval(Expr(expr.head, expr.name, expr.level, expr.items, expr.ops[:-1]), ctx)
        self._objects: list[Node] | None = None

    def then_last(self) -> list[Node]:
        """What ``ev.eval`` of the whole expression gives."""
        return self.ev.apply(self.nodes, self.expr.ops[-1], self.ctx)

    def objects(self) -> list[Node]:
        if self._objects is None:
            self._objects = [o for n in self.nodes for o in self.ev.objects(n)]
        return self._objects

    def is_member_access(self) -> bool:
        """Whether the last step looks a member up on an instance or a class."""
        for obj in self.objects():
            if isinstance(obj, InstNode | SuperNode):
                return True
            if isinstance(obj, DefNode) and obj.d.kind == "class":
                return True
        return False

    def has_known_value(self) -> bool:
        """Whether what a member is looked up on is known (then a miss is no name-match). An
        instance of a JavaScript constructor function is not: it gets members anywhere (its
        ``prototype``, later assignments)."""
        return any(
            not isinstance(o, ArgNode) and not (isinstance(o, InstNode) and o.cls.d.kind != "class")
            for o in self.objects()
        )
