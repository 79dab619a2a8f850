"""Indexes over symbol tables for the resolver: names per scope, modules per dotted name.

Built from ``SymbolTable``s alone (any language whose extractor fills them the same way), and
cached while the tables are the same objects, so resolving a whole repository builds each index
once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from extractors.base import Definition, ImportBinding, SymbolTable

ENTITY_KINDS = frozenset({"class", "function"})


def def_scope(d: Definition) -> str:
    return d.scope if d.scope is not None else d.qualname.rpartition(".")[0]


def def_name(d: Definition) -> str:
    scope = def_scope(d)
    return d.qualname[len(scope) + 1 :] if scope else d.qualname


def parent_scope(scope: str) -> str:
    return scope.rpartition(".")[0]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A binding of a name in a scope, with what decides whether a use sees it."""

    line: int
    block: tuple[int, int] | None
    loop: tuple[int, int] | None
    definition: Definition | None = None
    binding: ImportBinding | None = None
    prefix: str = ""


class TableIndex:
    """One file's bindings by (scope, name); dotted names (``a.b`` of ``import a.b`` or of an
    assignment to ``a.b``) are indexed under every prefix for bindings, under the full name
    for assignments."""

    def __init__(self, table: SymbolTable) -> None:
        self.table = table
        self.names: dict[tuple[str, str], list[Candidate]] = {}
        self.by_qualname: dict[str, Definition] = {}
        self.params: dict[str, list[Definition]] = {}
        self.wildcards: dict[str, list[ImportBinding]] = {}
        self.module_line = 0
        self.dotted_prefixes: set[tuple[str, str]] = set()
        for d in table.definitions:
            if d.kind == "module":
                self.module_line = d.line
                continue
            scope = def_scope(d)
            if d.kind in ENTITY_KINDS:
                self.by_qualname.setdefault(d.qualname, d)
            if d.kind == "parameter":
                self.params.setdefault(scope, []).append(d)
            # Parameters are bound before the body runs: no flow position.
            line = 0 if d.kind == "parameter" else d.line
            cand = Candidate(line, d.block, d.loop, definition=d)
            name = def_name(d)
            self.names.setdefault((scope, name), []).append(cand)
            parts = name.split(".")
            for k in range(2, len(parts)):
                self.dotted_prefixes.add((scope, ".".join(parts[:k])))
        for b in table.imports:
            if b.local == "*":
                self.wildcards.setdefault(b.scope, []).append(b)
                continue
            parts = b.local.split(".")
            for k in range(1, len(parts) + 1):
                prefix = ".".join(parts[:k])
                cand = Candidate(b.line, None, None, binding=b, prefix=prefix)
                self.names.setdefault((b.scope, prefix), []).append(cand)

    def scope_kind(self, scope: str) -> str:
        if not scope:
            return "module"
        d = self.by_qualname.get(scope)
        return d.kind if d is not None else "function"


class RepoIndex:
    """Every table of one language: modules by dotted name, packages, names for name-match."""

    def __init__(self, tables: Mapping[str, SymbolTable], language: str) -> None:
        self.tables = {p: t for p, t in tables.items() if t.language == language}
        self.by_module: dict[str, list[str]] = {}
        self.packages: set[str] = set()
        self.by_suffix: dict[str, list[str]] = {}
        for path, table in sorted(self.tables.items()):
            self.by_module.setdefault(table.module, []).append(path)
            parts = table.module.split(".")
            for k in range(1, len(parts)):
                self.packages.add(".".join(parts[:k]))
            for k in range(1, len(parts)):
                self.by_suffix.setdefault(".".join(parts[k:]), []).append(table.module)
        self._indexes: dict[str, TableIndex] = {}
        self._by_name: dict[str, list[tuple[str, Definition]]] | None = None

    def index(self, path: str) -> TableIndex | None:
        found = self._indexes.get(path)
        if found is None:
            table = self.tables.get(path)
            if table is None:
                return None
            found = self._indexes[path] = TableIndex(table)
        return found

    def exists(self, module: str) -> bool:
        return module in self.by_module or module in self.packages

    def canonical(self, module: str) -> str | None:
        """``module`` if the project has it, else the one module it is a unique suffix of."""
        if self.exists(module):
            return module
        found = set(self.by_suffix.get(module, ()))
        return found.pop() if len(found) == 1 else None

    def relative_base(self, path: str, level: int) -> str | None:
        """The package a ``level``-dot relative import in ``path`` starts from."""
        table = self.tables.get(path)
        if table is None:
            return None
        parts = table.module.split(".") if table.module else []
        if not table.is_package:
            parts = parts[:-1]
        drop = level - 1
        if drop > len(parts):
            return None
        return ".".join(parts[: len(parts) - drop])

    def by_name(self, name: str) -> list[tuple[str, Definition]]:
        """Classes and functions named ``name`` anywhere (for the name-match fallback)."""
        if self._by_name is None:
            self._by_name = {}
            for path, table in self.tables.items():
                for d in table.definitions:
                    if d.kind in ENTITY_KINDS and d.id:
                        self._by_name.setdefault(def_name(d), []).append((path, d))
        return self._by_name.get(name, [])


class IndexCache:
    """Reuses a ``RepoIndex`` while the caller passes the same table objects."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._key: tuple[int, int] | None = None
        self._snapshot: dict[str, SymbolTable] = {}
        self._index: RepoIndex | None = None

    def get(self, tables: Mapping[str, SymbolTable]) -> RepoIndex:
        key = (id(tables), len(tables))
        if (self._index is not None and key == self._key
                and all(self._snapshot.get(p) is t for p, t in tables.items())):
            return self._index
        self._index = RepoIndex(tables, self.language)
        self._key = key
        self._snapshot = dict(tables)  # holding the tables keeps their identity meaningful
        return self._index
