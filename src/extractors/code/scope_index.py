"""Indexes over symbol tables for the resolver: names per scope, modules per dotted name.

Built from ``SymbolTable``s alone (any language whose extractor fills them the same way), and
cached while the tables are the same objects, so resolving a whole repository builds each index
once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from extractors.base import Definition, ImportBinding, SymbolTable

ENTITY_KINDS = frozenset({"class", "function"})
K = TypeVar("K")
V = TypeVar("V")


def def_scope(d: Definition) -> str:
    return d.scope if d.scope is not None else d.qualname.rpartition(".")[0]


def def_name(d: Definition) -> str:
    scope = def_scope(d)
    return d.qualname[len(scope) + 1 :] if scope else d.qualname


def parent_scope(scope: str) -> str:
    return scope.rpartition(".")[0]


def is_block(scope: str) -> bool:
    """A braces block (``<block#2>``): it runs in line with its function, unlike a nested
    function body."""
    return scope.rpartition(".")[2].startswith("<block")


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
        self._top_names: frozenset[str] | None = None
        self._marks: dict[tuple[str, str], list[int]] = {}
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
            name = d.qualname[len(scope) + 1 :] if scope else d.qualname  # def_name(d)
            self.names.setdefault((scope, name), []).append(cand)
            parts = name.split(".")
            for k in range(2, len(parts)):
                self.dotted_prefixes.add((scope, ".".join(parts[:k])))
        for b in table.imports:
            if not b.local:
                continue
            if b.local == "*":
                self.wildcards.setdefault(b.scope, []).append(b)
                continue
            parts = b.local.split(".")
            for k in range(1, len(parts) + 1):
                prefix = ".".join(parts[:k])
                cand = Candidate(b.line, None, None, binding=b, prefix=prefix)
                self.names.setdefault((b.scope, prefix), []).append(cand)

    @property
    def top_names(self) -> frozenset[str]:
        """Names bound at module level (what ``from m import *`` can find here, at most)."""
        found = self._top_names
        if found is None:
            found = self._top_names = frozenset(n for s, n in self.names if not s)
        return found

    def flow_marks(self, scope: str, name: str) -> list[int]:
        """The lines where what a use of ``name`` in ``scope`` sees may change: a use on
        line ``n`` sees the same bindings as one on ``m`` when no mark lies in ``(n, m]``
        (``bisect_right`` of both is equal). Marks come from the scopes a lookup walks in
        flow order (the use's own, then out through class bodies and blocks): each binding's
        line and the bounds of the block and loop it sits in."""
        key = (scope, name)
        found = self._marks.get(key)
        if found is None:
            marks: set[int] = set()
            while True:
                for c in self.names.get((scope, name), ()):
                    marks.add(c.line + 1)
                    for span in (c.block, c.loop):
                        if span is not None:
                            marks.update((span[0], span[1] + 1))
                marks.update(b.line + 1 for b in self.wildcards.get(scope, ()))
                if not scope or not (self.scope_kind(scope) == "class" or is_block(scope)):
                    break
                scope = parent_scope(scope)
            found = self._marks[key] = sorted(marks)
        return found

    def scope_kind(self, scope: str) -> str:
        if not scope:
            return "module"
        d = self.by_qualname.get(scope)
        return d.kind if d is not None else "function"


class RepoIndex:
    """Every table of one language family: modules by dotted name, packages, and names for
    name-match and package/open-class lookups. ``update`` applies one file's change in time
    proportional to that file; ``version`` changes with every update (evaluators reset)."""

    def __init__(self, tables: Mapping[str, SymbolTable], languages: frozenset[str]) -> None:
        self.languages = languages
        self.tables: dict[str, SymbolTable] = {}
        self.by_module: dict[str, list[str]] = {}
        self._packages: dict[str, int] = {}
        self.by_suffix: dict[str, list[str]] = {}
        self._indexes: dict[str, TableIndex] = {}
        self._by_name: dict[str, list[tuple[str, Definition]]] = {}
        self._scoped: dict[tuple[str, str], list[tuple[str, Definition]]] = {}
        self.version = 0
        for path in sorted(tables):
            if tables[path].language in languages:
                self._add(path, tables[path])

    @property
    def packages(self) -> set[str]:
        return set(self._packages)

    def update(self, path: str, table: SymbolTable | None) -> None:
        """Replace (or with None, drop) one file's table."""
        self.version += 1
        if path in self.tables:
            self._remove(path)
        if table is not None and table.language in self.languages:
            self._add(path, table)

    def _add(self, path: str, table: SymbolTable) -> None:
        self.tables[path] = table
        _insort(self.by_module.setdefault(table.module, []), path)
        parts = table.module.split(".")
        for k in range(1, len(parts)):
            prefix = ".".join(parts[:k])
            self._packages[prefix] = self._packages.get(prefix, 0) + 1
            self.by_suffix.setdefault(".".join(parts[k:]), []).append(table.module)
        for key, d in _named(table):
            self._by_name.setdefault(key, []).append((path, d))
        for key2, d in _scoped(table):
            self._scoped.setdefault(key2, []).append((path, d))

    def _remove(self, path: str) -> None:
        table = self.tables.pop(path)
        self._indexes.pop(path, None)
        _drop(self.by_module, table.module, lambda p: p == path)
        parts = table.module.split(".")
        for k in range(1, len(parts)):
            prefix = ".".join(parts[:k])
            self._packages[prefix] -= 1
            if not self._packages[prefix]:
                del self._packages[prefix]
            suffix = self.by_suffix.get(".".join(parts[k:]), [])
            if table.module in suffix:
                suffix.remove(table.module)
                if not suffix:
                    del self.by_suffix[".".join(parts[k:])]
        for key, _ in _named(table):
            _drop(self._by_name, key, lambda item: item[0] == path)
        for key2, _ in _scoped(table):
            _drop(self._scoped, key2, lambda item: item[0] == path)

    def index(self, path: str) -> TableIndex | None:
        found = self._indexes.get(path)
        if found is None:
            table = self.tables.get(path)
            if table is None:
                return None
            found = self._indexes[path] = TableIndex(table)
        return found

    def exists(self, module: str) -> bool:
        return module in self.by_module or module in self._packages

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
        return self._by_name.get(name, [])

    def scoped(self, scope: str, name: str) -> list[tuple[str, Definition]]:
        """Non-local definitions named ``name`` directly in ``scope`` (a module-relative
        qualname, '' for top level), in every file: for package and open-class lookups."""
        return self._scoped.get((scope, name), [])


_SCOPED_KINDS = frozenset({"class", "function", "variable", "attribute", "global"})


def _named(table: SymbolTable) -> list[tuple[str, Definition]]:
    return [(def_name(d), d) for d in table.definitions if d.kind in ENTITY_KINDS and d.id]


def _scoped(table: SymbolTable) -> list[tuple[tuple[str, str], Definition]]:
    if table.language == "python":  # Python resolves through imports only
        return []
    return [((def_scope(d), def_name(d)), d) for d in table.definitions if d.kind in _SCOPED_KINDS]


def _insort(items: list[str], path: str) -> None:
    items.append(path)
    items.sort()


def _drop(index: dict[K, list[V]], key: K, gone: Callable[[V], bool]) -> None:
    items = index.get(key)
    if items is None:
        return
    kept = [v for v in items if not gone(v)]
    if kept:
        index[key] = kept
    else:
        del index[key]


class IndexCache:
    """Keeps one ``RepoIndex`` in step with the caller's tables: a changed, added or removed
    table is applied alone (a 1-file edit costs that file), a mostly new set is rebuilt."""

    def __init__(self, languages: frozenset[str]) -> None:
        self.languages = languages
        self._snapshot: dict[str, SymbolTable] = {}
        self._index: RepoIndex | None = None
        self._seen: tuple[list[str], list[int]] = ([], [])

    def get(self, tables: Mapping[str, SymbolTable]) -> RepoIndex:
        index = self._index
        if index is None:
            return self._rebuild(tables)
        # The same paths bound to the same table objects as last time (resolving a whole
        # repository asks once per file): compared at C speed. Ids stay unique while the
        # snapshot holds the tables.
        seen = (list(tables), list(map(id, tables.values())))
        if seen == self._seen:
            return index
        self._seen = seen
        snap = self._snapshot
        changed = [p for p, t in tables.items() if snap.get(p) is not t]
        gone = [p for p in snap if p not in tables]
        if not changed and not gone:
            return index
        if len(changed) + len(gone) > max(64, len(tables) // 4):
            return self._rebuild(tables)
        for path in gone:
            index.update(path, None)
            del snap[path]
        for path in changed:
            index.update(path, tables[path])
            snap[path] = tables[path]
        return index

    def _rebuild(self, tables: Mapping[str, SymbolTable]) -> RepoIndex:
        self._index = RepoIndex(tables, self.languages)
        self._snapshot = dict(tables)  # holding the tables keeps their identity meaningful
        return self._index
