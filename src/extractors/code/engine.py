"""A generic tree-sitter engine: one grammar, its ``.scm`` queries compiled once, captures out.

Nothing here knows a language: a language is a directory ``queries/<name>/`` of ``.scm`` files
(``definitions.scm``, ``imports.scm``, ``references.scm``, …) plus the grammar of the same name
in ``tree_sitter_language_pack``. Adding a language adds files, not code here::

    engine = QueryEngine.for_language("python")
    tree = engine.parse(b"def f(): pass")
    for pattern, caps in engine.matches("definitions", tree.root_node):
        ...
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import cast

from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

from kg.errors import ExtractorError

QUERY_ROOT = Path(__file__).parent / "queries"


def code_version(package: Path) -> str:
    """A digest of the extraction code, its queries and the symbol-table model. Built-in
    extractors use it as their ``version``, which salts the stored content hashes: after an
    upgrade that changes what extraction makes, every file is extracted again instead of
    unchanged files keeping what the old code made."""
    code = package / "code"
    digest = hashlib.blake2b(digest_size=8)
    files = [package / "base.py", *sorted(code.rglob("*.py")), *sorted(code.rglob("*.scm"))]
    for path in files:
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


CODE_VERSION = code_version(Path(__file__).parent.parent)
_ERRORS = "(ERROR) @error (MISSING) @missing"

Captures = dict[str, list[Node]]


@dataclass(slots=True)
class QueryEngine:
    """Compiled queries of one language; parsers are per thread (tree-sitter's are not shared)."""

    name: str
    language: Language
    queries: dict[str, Query]
    errors: Query
    _local: threading.local = field(default_factory=threading.local)

    @staticmethod
    def for_language(name: str) -> QueryEngine:
        """The engine for ``name`` (cached: queries compile once per process)."""
        return _engine(name)

    def parse(self, data: bytes) -> Tree:
        parser: Parser | None = getattr(self._local, "parser", None)
        if parser is None:
            parser = Parser(self.language)
            self._local.parser = parser
        return parser.parse(data)

    def captures(self, kind: str, node: Node) -> Captures:
        """Every capture of the ``kind`` query under ``node``, by capture name, in order."""
        return QueryCursor(self._query(kind)).captures(node)

    def matches(self, kind: str, node: Node) -> list[tuple[int, Captures]]:
        """Matches of the ``kind`` query: (pattern index, captures of that match)."""
        return QueryCursor(self._query(kind)).matches(node)

    def syntax_errors(self, tree: Tree) -> list[Node]:
        """ERROR and MISSING nodes, in document order (empty for a clean parse)."""
        if not tree.root_node.has_error:
            return []
        caps = QueryCursor(self.errors).captures(tree.root_node)
        nodes = caps.get("error", []) + caps.get("missing", [])
        return sorted(nodes, key=lambda n: n.start_byte)

    def _query(self, kind: str) -> Query:
        try:
            return self.queries[kind]
        except KeyError:
            raise ExtractorError(
                f"language {self.name!r} has no {kind}.scm query; add "
                f"{QUERY_ROOT / self.name / (kind + '.scm')}"
            ) from None


@cache
def _engine(name: str) -> QueryEngine:
    import tree_sitter_language_pack as pack

    try:
        # Language names are data here (query folder names), not the pack's literal type.
        get_language = cast(Callable[[str], Language], pack.get_language)
        language = get_language(name)
    except Exception as exc:  # the pack raises its own hierarchy (LookupError, download errors)
        raise ExtractorError(
            f"tree-sitter grammar {name!r} is not available ({exc}); install a "
            "tree-sitter-language-pack that ships it"
        ) from exc
    folder = QUERY_ROOT / name
    if not folder.is_dir():
        raise ExtractorError(f"no queries for language {name!r}: expected the folder {folder}")
    queries: dict[str, Query] = {}
    for scm in sorted(folder.glob("*.scm")):
        try:
            queries[scm.stem] = Query(language, query_text(scm))
        except Exception as exc:  # tree_sitter.QueryError and friends
            raise ExtractorError(f"query {scm} does not compile: {exc}") from exc
    return QueryEngine(name, language, queries, Query(language, _ERRORS))


def query_text(scm: Path, depth: int = 0) -> str:
    """A query file with the files it inherits prepended: a first line ``; inherits: ts``
    reuses ``queries/ts/<same name>.scm`` (a grammar that extends another one, like TSX)."""
    text = scm.read_text(encoding="utf-8")
    first = text.split("\n", 1)[0].strip()
    if first.startswith("; inherits:") and depth < 4:
        parents = [p.strip() for p in first.split(":", 1)[1].split(",") if p.strip()]
        inherited = [
            query_text(QUERY_ROOT / p / scm.name, depth + 1)
            for p in parents
            if (QUERY_ROOT / p / scm.name).is_file()
        ]
        text = "\n".join([*inherited, text])
    return text
