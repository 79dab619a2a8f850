"""The names an ECMAScript module exports, from its top-level ``export`` statements.

An importer sees these names only (``import { f } from "./a"`` finds nothing when ``a``
keeps ``f`` to itself; ``export default class T`` exports ``default``, not ``T``). A file
without export statements, or with CommonJS exports (``exports.x =``, ``module.exports``,
TypeScript ``export =``), says nothing of the kind: ``None``, every top-level name is seen.
Re-exports of a whole module (``export * from``) add names the resolver finds there itself.
"""

from __future__ import annotations

from tree_sitter import Node

_MAX_NAMES = 4096
_COMMONJS = (b"exports.", b"module.exports", b"exports[", b"module[")


def es_exports(root: Node, src: bytes) -> set[str] | None:
    """The exported names of a module's syntax tree, or None when they cannot be told."""
    names: set[str] = set()
    found = False
    for stmt in root.named_children:
        if stmt.type == "expression_statement" and src[stmt.start_byte : stmt.end_byte].lstrip(
            b"("
        ).startswith(_COMMONJS):
            return None
        if stmt.type != "export_statement":
            continue
        found = True
        tokens = {c.type for c in stmt.children if not c.is_named}
        if "=" in tokens:  # TypeScript ``export = value``: the module is that value
            return None
        if "default" in tokens:
            names.add("default")
            continue
        declaration = stmt.child_by_field_name("declaration")
        if declaration is not None:
            names.update(_declared(declaration, src))
        for child in stmt.named_children:
            if child.type == "export_clause":
                for spec in child.named_children:
                    written = spec.child_by_field_name("alias") or spec.child_by_field_name("name")
                    if written is not None:
                        names.add(_text(src, written).strip("'\"`"))
            elif child.type == "namespace_export":
                names.update(_text(src, n) for n in child.named_children if n.type != "string")
        if len(names) > _MAX_NAMES:
            return None
    return names if found else None


def _declared(node: Node, src: bytes) -> list[str]:
    """Names an exported declaration binds (``const { a, b: c } = o`` binds a and c)."""
    if node.type == "ambient_declaration":  # ``export declare function f()``
        inner = next(iter(node.named_children), None)
        return _declared(inner, src) if inner is not None else []
    name = node.child_by_field_name("name")
    if name is not None and node.type != "variable_declarator":
        return [_text(src, name)]
    out: list[str] = []
    for declarator in node.named_children:
        if declarator.type != "variable_declarator":
            continue
        target = declarator.child_by_field_name("name")
        stack = [target] if target is not None else []
        while stack and len(out) < _MAX_NAMES:
            n = stack.pop()
            if n.type in ("identifier", "shorthand_property_identifier_pattern"):
                out.append(_text(src, n))
            elif n.type == "pair_pattern":
                value = n.child_by_field_name("value")
                if value is not None:
                    stack.append(value)
            elif n.type == "assignment_pattern" or n.type == "object_assignment_pattern":
                left = n.child_by_field_name("left")
                if left is not None:
                    stack.append(left)
            else:
                stack.extend(n.named_children)
    return out


def _text(src: bytes, node: Node) -> str:
    return src[node.start_byte : node.end_byte].decode("utf-8", "replace")
