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
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping
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
    queries: Mapping[str, Query]  # each query file alone, compiled when first asked for
    errors: Query
    texts: dict[str, str]  # the query files' texts (inheritance applied) by kind
    _local: threading.local = field(default_factory=threading.local)
    _every: _AllQueries | None = None

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

    def matches_all(self, node: Node) -> dict[str, list[tuple[int, Captures]]]:
        """Matches of every query file under ``node`` by kind, from one pass over the tree:
        a pass costs about the same whatever its patterns, so one pass instead of one per
        file takes half the time. Each kind's matches and pattern indices are those its own
        query gives (patterns keep their order within each file)."""
        every = self._every
        if every is None:  # compiled on first use: a race compiles it twice, harmlessly
            every = self._every = _AllQueries.compile(self.language, self.name, self.texts)
        out: dict[str, list[tuple[int, Captures]]] = {kind: [] for kind in every.kinds}
        firsts, kinds = every.firsts, every.kinds
        for pattern, caps in QueryCursor(every.query).matches(node):
            i = bisect_right(firsts, pattern) - 1
            out[kinds[i]].append((pattern - firsts[i], caps))
        return out

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


class _Queries(Mapping[str, Query]):
    """Query texts by kind, each compiled on first use (most callers only need them all at
    once, and compiling costs a tenth of a second for the larger grammars)."""

    def __init__(self, language: Language, folder: Path, texts: dict[str, str]) -> None:
        self._language, self._folder, self._texts = language, folder, texts
        self._compiled: dict[str, Query] = {}

    def __getitem__(self, kind: str) -> Query:
        found = self._compiled.get(kind)
        if found is None:
            found = self._compiled[kind] = _compile(
                self._language, self._texts[kind], self._folder / f"{kind}.scm"
            )
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)


@dataclass(frozen=True, slots=True)
class _AllQueries:
    """Every query file of a language compiled as one query; ``firsts[i]`` is the index of
    the first pattern of ``kinds[i]``."""

    query: Query
    firsts: list[int]
    kinds: list[str]

    @staticmethod
    def compile(language: Language, name: str, texts: dict[str, str]) -> _AllQueries:
        kinds = list(texts)
        starts, offset = [], 0
        for kind in kinds:
            starts.append(offset)
            offset += len(texts[kind].encode("utf-8")) + 1  # the joining newline
        try:
            query = Query(language, "\n".join(texts[kind] for kind in kinds))
        except Exception:  # name the file that does not compile
            for kind in kinds:
                _compile(language, texts[kind], QUERY_ROOT / name / f"{kind}.scm")
            raise
        pattern_starts = [query.start_byte_for_pattern(i) for i in range(query.pattern_count)]
        firsts = [bisect_left(pattern_starts, start) for start in starts]
        return _AllQueries(query, firsts, kinds)


def _compile(language: Language, text: str, scm: Path) -> Query:
    try:
        return Query(language, text)
    except Exception as exc:  # tree_sitter.QueryError and friends
        raise ExtractorError(f"query {scm} does not compile: {exc}") from exc


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
    texts = {scm.stem: query_text(scm) for scm in sorted(folder.glob("*.scm"))}
    return QueryEngine(
        name,
        language,
        _Queries(language, folder, texts),
        Query(language, _ERRORS),
        texts,
    )


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
