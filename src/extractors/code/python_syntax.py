"""Python syntax → scopes, bindings and uses, from the captures of ``queries/python/*.scm``.

The tree-sitter queries find the nodes; this module only reads captured nodes and their direct
children, places every capture in its scope with :class:`Spans` (a bisect, no tree walk) and
writes values in the :mod:`extractors.code.expr` language. Nothing recurses over the tree except
``expr_text``, whose depth is capped.

The three query files run as one query: every run of a query walks the whole tree (about as
long as all the work on what it captures), so one run instead of three saves two walks.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from tree_sitter import Node, Query, QueryCursor

from extractors.code.engine import QUERY_ROOT, QueryEngine, query_text
from extractors.code.python_defs import Captures, DefCollector, ScopeInfo, SyntaxDef, expr_text
from extractors.code.spans import Spans
from kg.model import RelationKind

__all__ = ["ImportInfo", "PySyntax", "RefInfo", "ScopeInfo", "SyntaxDef", "analyze"]


@dataclass(slots=True)
class ImportInfo:
    local: str
    target: str
    level: int
    symbol: bool
    line: int
    scope: int
    wildcard: bool = False


# A use of a name: (name, kind, line, col, scope, owner), where ``owner`` is the scope whose
# entity makes the reference when that is not ``scope`` (else -1). A tuple, not a class: a file
# has thousands and each is read once.
RefInfo = tuple[str, RelationKind, int, int, int, int]


@dataclass(slots=True)
class PySyntax:
    scopes: list[ScopeInfo]
    defs: list[SyntaxDef]
    imports: list[ImportInfo] = field(default_factory=list)
    refs: list[RefInfo] = field(default_factory=list)
    complexity: dict[int, int] = field(default_factory=dict)
    all_names: list[str] | None = None


@dataclass(frozen=True, slots=True)
class _Combined:
    """definitions.scm, imports.scm and references.scm compiled as one query; a match's
    pattern index says which file it came from."""

    query: Query
    imports: int  # index of the first pattern of imports.scm
    references: int  # index of the first pattern of references.scm
    roles: dict[int, str] = field(default_factory=dict)  # definitions pattern → its role


def _role(caps: Captures) -> str:
    """What a match of definitions.scm is, from its primary capture (see the .scm file)."""
    if "class" in caps or "function" in caps or "lambda" in caps:
        return "scope"
    if "branch" in caps or "loop" in caps:
        return "branch" if "branch" in caps else "loop"
    if "global" in caps or "nonlocal" in caps:
        return "declare"
    return "flow"  # assign, bind, case, return, decision: read in source order


_COMBINED: dict[str, _Combined] = {}
_QUERY_FILES = ("definitions", "imports", "references")


def _combined(engine: QueryEngine) -> _Combined:
    found = _COMBINED.get(engine.name)
    if found is None:
        folder = QUERY_ROOT / engine.name
        text = "\n".join(query_text(folder / f"{kind}.scm") for kind in _QUERY_FILES)
        defs = engine.queries["definitions"].pattern_count
        imports = engine.queries["imports"].pattern_count
        found = _COMBINED[engine.name] = _Combined(
            Query(engine.language, text), defs, defs + imports
        )
    return found


def analyze(engine: QueryEngine, root: Node, src: bytes, errors: list[Node]) -> PySyntax:
    """Everything the extractor needs from one parsed Python file."""
    error_spans = Spans([(e.start_byte, e.end_byte) for e in errors if e.type == "ERROR"])
    collector = DefCollector(src, root, error_spans)
    plan = _combined(engine)
    defs: dict[str, list[Captures]] = {r: [] for r in ("scope", "branch", "loop", "declare")}
    defs["flow"] = []
    roles = plan.roles
    imports: list[Captures] = []
    names: list[Node] = []
    refs: Captures = {"name": names}
    # Patterns keep their order within each file, so each file's matches come in the order
    # its own query would give them.
    for pattern, caps in QueryCursor(plan.query).matches(root):
        if pattern >= plan.references:
            name = caps.get("name")
            if name is not None:  # most matches: one per identifier
                names += name
                continue
            for key, nodes in caps.items():
                found = refs.get(key)
                if found is None:
                    refs[key] = nodes
                else:
                    found += nodes
        elif pattern >= plan.imports:
            imports.append(caps)
        else:
            role = roles.get(pattern)
            if role is None:
                role = roles[pattern] = _role(caps)
            defs[role].append(caps)
    collector.collect_scopes(defs["scope"], defs["branch"], defs["loop"])
    collector.collect_defs(defs["declare"], defs["flow"])
    out = PySyntax(collector.scopes, collector.defs)
    out.complexity = collector.complexity
    out.all_names = collector.all_names
    _imports(imports, src, collector, out)
    _references(refs, src, collector, out)
    return out


def _text(src: bytes, node: Node) -> str:
    return src[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _dotted(src: bytes, node: Node) -> list[Node]:
    return [c for c in node.named_children if c.type == "identifier"]


def _imports(matches: list[Captures], src: bytes, col: DefCollector, out: PySyntax) -> None:
    for caps in matches:
        stmts = caps.get("import") or caps.get("from_import") or caps.get("wildcard")
        stmt = stmts[0] if stmts else None
        if stmt is None or col.in_error(stmt.start_byte):
            continue
        scope = col.scope_at(stmt.start_byte)
        line = stmt.start_point[0] + 1
        if "import" in caps:
            parts = _dotted(src, caps["module"][0])
            names = [_text(src, p) for p in parts]
            target = ".".join(names)
            alias = caps.get("alias")
            local = _text(src, alias[0]) if alias else target
            out.imports.append(ImportInfo(local, target, 0, False, line, scope))
            _path_refs(src, parts, "@", out, scope)
            continue
        base_node = caps["from"][0]
        level, base_parts = _from_base(src, base_node)
        prefix = "@" + "." * level
        _path_refs(src, base_parts, prefix, out, scope)
        base = ".".join(_text(src, p) for p in base_parts)
        if "wildcard" in caps:
            out.imports.append(ImportInfo("*", base, level, False, line, scope, wildcard=True))
            continue
        parts = _dotted(src, caps["name"][0])
        names = [_text(src, p) for p in parts]
        target = ".".join([base, *names]) if base else ".".join(names)
        alias = caps.get("alias")
        local = _text(src, alias[0]) if alias else ".".join(names)
        out.imports.append(ImportInfo(local, target, level, True, line, scope))
        lead = prefix + (base + "." if base else "")
        _path_refs(src, parts, lead, out, scope)


def _from_base(src: bytes, node: Node) -> tuple[int, list[Node]]:
    if node.type == "dotted_name":
        return 0, _dotted(src, node)
    level = 0
    parts: list[Node] = []
    for child in node.named_children:
        if child.type == "import_prefix":
            level = child.end_byte - child.start_byte
        elif child.type == "dotted_name":
            parts = _dotted(src, child)
    return level, parts


def _path_refs(src: bytes, parts: list[Node], lead: str, out: PySyntax, scope: int) -> None:
    """One reference per segment of an import path: ``@a``, ``@a.b``, ``@a.b.c``."""
    acc = ""
    for part in parts:
        name = _text(src, part)
        acc = f"{acc}.{name}" if acc else name
        line, c = part.start_point
        out.refs.append((lead + acc, RelationKind.REFERENCES, line + 1, c, scope, -1))


def _references(caps: Captures, src: bytes, col: DefCollector, out: PySyntax) -> None:
    skip = col.def_sites
    skip.update(n.start_byte for n in caps.get("skip", ()))
    members = caps.get("member", [])
    skip.update(n.start_byte for n in members)
    refs, inherits = RelationKind.REFERENCES, RelationKind.INHERITS
    # The kind of a use is in the span of its node: a callee's, a base class's, or neither.
    special = {n.byte_range: inherits for n in caps.get("base", ())}
    special.update((n.byte_range, RelationKind.CALLS) for n in caps.get("callee", ()))
    # The hot loop of extraction (every identifier of the file): node attributes are read
    # once each (every read crosses into tree-sitter and allocates), the scope is a bisect.
    breaks, innermost = col.scope_spans.breaks, col.scope_spans.innermost
    in_error = col.in_error if col.errors.spans else None
    append = out.refs.append
    for node in caps.get("name", ()):
        start = node.start_byte
        if start in skip or (in_error is not None and in_error(start)):
            continue
        end = node.end_byte
        kind = special.get((start, end), refs)
        line, c = node.start_point
        scope = innermost[bisect_right(breaks, start) - 1]
        owner = _class_of(col, node) if kind is inherits else -1
        text = src[start:end].decode("utf-8", "replace")
        append((text, kind, line + 1, c, scope if scope > 0 else 0, owner))
    # One match captures both, so the lists pair up.
    for node, chain in zip(members, caps.get("chain", ()), strict=True):
        start = node.start_byte
        if in_error is not None and in_error(start):
            continue
        line, c = node.start_point
        kind = special.get(chain.byte_range, refs)
        scope = innermost[bisect_right(breaks, start) - 1]
        owner = _class_of(col, chain) if kind is inherits else -1
        append((expr_text(chain, src), kind, line + 1, c, scope if scope > 0 else 0, owner))


def _class_of(col: DefCollector, base: Node) -> int:
    """The scope of the class whose base list holds ``base`` (the INHERITS edge starts there)."""
    cls = base.parent.parent if base.parent is not None else None
    body = cls.child_by_field_name("body") if cls is not None else None
    return col.scope_at(body.start_byte) if body is not None else -1
