"""Fast symbol outlines: only the Function/Class entities (ids, spans) of a file version.

Per-symbol history parses every version of every changed file; the full code extractor also
resolves scopes and references, which history does not need (~15x slower). An outliner yields
exactly the Function/Class ids and spans its file extractor would (``tests/unit/
test_history_symbols.py`` checks this over real files); extractors without one fall back to
``extract_file``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from tree_sitter import Node, Parser
from tree_sitter_language_pack import get_parser

from kg.model import Entity, EntityKind, Span

Outliner = Callable[[str, str, bytes], list[Entity]]

_DEFS = {"function_definition": EntityKind.FUNCTION, "class_definition": EntityKind.CLASS}
# Statements that may hold a def; expressions never do, so they are not walked (that is most
# of a syntax tree).
_CONTAINERS = frozenset(
    {
        "module",
        "block",
        "if_statement",
        "elif_clause",
        "else_clause",
        "for_statement",
        "while_statement",
        "try_statement",
        "except_clause",
        "except_group_clause",
        "finally_clause",
        "with_statement",
        "decorated_definition",
        "match_statement",
        "case_clause",
        "function_definition",
        "class_definition",
    }
)
_parser: Parser | None = None


def _python_defs(node: Node, prefix: str) -> Iterator[tuple[Node, str, EntityKind]]:
    for child in node.named_children:
        kind = _DEFS.get(child.type)
        if kind is None:
            if child.type in _CONTAINERS:
                yield from _python_defs(child, prefix)
            continue
        name_node = child.child_by_field_name("name")
        if name_node is None or name_node.text is None:
            continue
        qual = prefix + name_node.text.decode("utf-8", "replace")
        yield child, qual, kind
        yield from _python_defs(child, qual + ".")


def outline_python(repo: str, path: str, data: bytes) -> list[Entity]:
    """The Function/Class entities ``extractors.code.python`` makes of this file (first
    definition of a repeated name wins, like there)."""
    global _parser
    if _parser is None:
        _parser = get_parser("python")
    src = data.decode("utf-8", "replace").encode("utf-8")
    tree = _parser.parse(src)
    seen: set[tuple[EntityKind, str]] = set()
    out: list[Entity] = []
    for node, qual, kind in _python_defs(tree.root_node, ""):
        if (kind, qual) in seen:
            continue
        seen.add((kind, qual))
        out.append(
            Entity.make(
                kind,
                repo,
                f"{path}::{qual}",
                name=qual.rsplit(".", 1)[-1],
                path=path,
                language="python",
                attrs={"qualname": qual},
                span=Span(
                    node.start_point[0] + 1,
                    node.end_point[0] + 1,
                    node.start_point[1],
                    node.end_point[1],
                ),
            )
        )
    return out


OUTLINERS: dict[str, Outliner] = {"code-python": outline_python}
