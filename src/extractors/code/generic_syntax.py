"""Captures of ``queries/<lang>/*.scm`` → scopes, bindings and uses, for any language.

Capture names are the contract between a language's queries and this walker (this module,
``generic_scopes.py`` and ``generic_bindings.py``):

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

from tree_sitter import Node

from extractors.code.es_exports import es_exports
from extractors.code.expr import RECEIVER, UNKNOWN, parse
from extractors.code.generic_bindings import BindingCollector
from extractors.code.generic_model import Captures, GImport, GRef, GSyntax, capture, last_name
from extractors.code.lang_spec import child
from kg.model import RelationKind


class Collector(BindingCollector):
    """One file: scopes first (every binding needs its scope), then bindings, then uses."""

    def run(self) -> GSyntax:
        found = self.engine.matches_all(self.root)
        rest = self._scopes(found.get("definitions", []))
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
        self._imports([caps for _, caps in found.get("imports", ())])
        self._references(found.get("references", []))
        if self.spec.import_style == "js":
            self.out.exports = es_exports(self.root, self.src)
        return self.out

    # -- imports -----------------------------------------------------------------------------
    def _imports(self, matches: list[Captures]) -> None:
        # A statement a richer pattern matched (alias, wildcard, names) is not also a plain
        # import: plain patterns need no anchors, so trailing comments do not hide them.
        rich = {c["import"][0].start_byte for c in matches if "import" in c and _RICH & c.keys()}
        for caps in matches:
            stmt = capture(caps, "import")
            if stmt is not None and stmt.start_byte in rich and not _RICH & caps.keys():
                continue
            source = capture(caps, "source")
            if stmt is None or source is None or self.in_error(stmt.start_byte):
                continue
            name, alias = capture(caps, "name"), capture(caps, "alias")
            local = alias or capture(caps, "default") or capture(caps, "namespace")
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
    def _references(self, matches: list[tuple[int, Captures]]) -> None:
        caps: Captures = {}
        for _, found in matches:
            for key, nodes in found.items():
                known = caps.get(key)
                if known is None:
                    caps[key] = nodes
                else:
                    known += nodes
        # A node two patterns capture under one name (PHP ``(name)`` and ``(named_type
        # (name))``) is one use, as a query's ``captures`` give it.
        for key, nodes in caps.items():
            caps[key] = list({n.id: n for n in nodes}.values())
        skip = self.def_sites
        skip.update(n.start_byte for n in caps.get("skip", ()))
        members = caps.get("member", [])
        skip.update(n.start_byte for n in members)
        callees = {(n.start_byte, n.end_byte) for n in caps.get("callee", ())}
        errors = self.errors if self.errors.spans else None
        w, ivars = self.w, self.spec.instance_vars
        for node in caps.get("name", ()):
            start = node.start_byte
            if start in skip or (errors is not None and errors.at(start) >= 0):
                continue
            # Ruby ``@x`` is a member of the receiver wherever it is written.
            ivar = bool(ivars) and node.type in ivars
            self._ref(w.expr(node) if ivar else w.name(node), node, node, callees)
        transparent = self.spec.transparent
        for node in members:
            chain = node.parent
            while chain is not None and chain.type in transparent:
                chain = chain.parent
            if chain is None or (errors is not None and errors.at(node.start_byte) >= 0):
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
        # ``f(1).x`` is still a use of ``x``: only an unknown head leaves nothing to resolve
        # (a plain identifier, most uses, is a name).
        if not name.isidentifier() and (
            name in (UNKNOWN, RECEIVER) or parse(name).head == "unknown"
        ):
            return
        start = node.start_byte
        own = (start, node.end_byte)
        key = own if chain is node else (chain.start_byte, chain.end_byte)
        owner = -1
        bases = self.bases
        if bases and (key in bases or own in bases):
            kind = RelationKind.INHERITS
            owner = bases.get(key, bases.get(own, -1))
        elif key in callees or own in callees or chain.type in self.spec.method_calls:
            kind = RelationKind.CALLS
        else:
            kind = RelationKind.REFERENCES
        line, col = node.start_point
        scope = self.read_in[max(self.spans.at(start), 0)]
        self.out.refs.append(GRef(name, kind, line + 1, col, scope, owner))


_RICH = frozenset({"name", "alias", "wildcard", "default", "namespace"})
