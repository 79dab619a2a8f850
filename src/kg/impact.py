"""Which files an edit affects: the names it changed, the files that use them, and the
per-file facts (``RepoCache``) that incremental indexing keeps to tell. Narrows re-resolution
after an interface change from "every file that reads this file" to "files that mention a
changed name".

The rule is that of name hashing in incremental compilers: a file's resolution can only change
when a name it mentions (in a reference, an import or a bound expression) changed its
definition in a file it reads. Names are compared by identifier, so the test over-approximates
(``add`` changed in one class re-resolves every reader that mentions any ``add``) and never
misses a reader that spells the name::

    names = changed_names(old_table, new_table)   # None: everything may have changed
    if names is None or names & uses_of(extract):
        ...  # re-resolve
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from extractors.base import FileExtract, ImportBinding, SymbolTable

_IDENT = re.compile(r"[^\W\d][\w$]*")
# Names a reader never spells to reach a definition: it reaches them through their scope.
_INNER_KINDS = frozenset({"parameter", "local"})
_ENTITY_KINDS = frozenset({"class", "function"})
_MAX_ROUNDS = 16


def changed_names(old: SymbolTable, new: SymbolTable) -> frozenset[str] | None:
    """Identifiers whose meaning may differ between two versions of one file's table: the
    names of changed, added or removed definitions and imports, of everything enclosing them,
    and of everything whose bound expressions mention them (``y = x`` changes with ``x``).
    None when a file-wide fact changed (module name, wildcard imports, whether it lists its
    exports). Names entering or leaving its export list are changed names: a module's readers
    that mention none of them see the same module (``export function added()`` in a hub
    re-resolves no reader that does not call it)."""
    if (old.language, old.module, old.is_package, old.wildcard_imports) != (
        new.language,
        new.module,
        new.is_package,
        new.wildcard_imports,
    ):
        return None
    exports: set[str] = set()
    if old.all_names != new.all_names:
        if old.all_names is None or new.all_names is None:
            return None
        exports = set(old.all_names).symmetric_difference(new.all_names)
    before, after = old.name_digests(), new.name_digests()
    changed = {q for q in before.keys() | after.keys() if before.get(q) != after.get(q)}
    if any(q == "*" or q.endswith(".*") for q in changed):
        return None
    inner = {d.qualname for t in (old, new) for d in t.definitions if d.kind in _INNER_KINDS}
    # A local or parameter is out of every other file's reach: it matters to them only through
    # what flows out of its scope (a return value), which _mentioning follows. So it does not
    # make its enclosing function "changed" by itself: a body edit stays a one-file update.
    changed |= _mentioning(changed, (old, new))
    return frozenset(_names(changed, inner) | exports)


def _names(qualnames: Iterable[str], inner: set[str]) -> set[str]:
    """The identifiers spelling ``qualnames`` and what encloses them, locals left out."""
    out: set[str] = set()
    for qualname in qualnames:
        if qualname in inner:
            continue
        parts = qualname.split(".")
        for k in range(1, len(parts) + 1):
            name = parts[k - 1]
            if name and not name.startswith("<") and ".".join(parts[:k]) not in inner:
                out.add(name)
    return out


def relayed_names(table: SymbolTable, names: frozenset[str] | None) -> set[str]:
    """Names whose meaning in ``table``'s file changes when ``names`` (None: any) change in a
    file it reads: the names themselves (a re-export keeps them), the local names of imports
    that spell them (``export { unit as unitCircle }``, ``from core import alpha``) and the
    definitions whose values mention those (``def use(): return alpha()``). Its readers see
    them change although its own text did not."""
    seeds = {
        f"{b.scope}.{b.local}" if b.scope else b.local
        for b in table.imports
        if names is None or b.local in names or not names.isdisjoint(_IDENT.findall(b.target))
    }
    inner = {d.qualname for d in table.definitions if d.kind in _INNER_KINDS}
    return set(names or ()) | _names(seeds | _mentioning(seeds, (table,)), inner)


def _mentioning(changed: set[str], tables: Iterable[SymbolTable]) -> set[str]:
    """Qualnames whose values or bases mention a changed qualname (seen from their scope),
    to a fixpoint: what flows through an alias or a return value changes with its source."""
    mentions: list[tuple[str, list[str]]] = []
    for table in tables:
        for d in table.definitions:
            words = [w for text in (*d.values, *d.bases) for w in _IDENT.findall(text)]
            if not words:
                continue
            scopes = _prefixes(d.qualname) + _prefixes(d.value_scope or d.scope or "")
            mentions.append((d.qualname, [f"{s}.{w}" if s else w for s in scopes for w in words]))
    known = set(changed)
    for _ in range(_MAX_ROUNDS):
        grown = {q for q, cands in mentions if q not in known and any(c in known for c in cands)}
        if not grown:
            break
        known |= grown
    return known - changed


def _prefixes(qualname: str) -> list[str]:
    parts = qualname.split(".") if qualname else []
    return [""] + [".".join(parts[:k]) for k in range(1, len(parts) + 1)]


def entity_names(table: SymbolTable) -> set[tuple[str, str]]:
    """(name, id) of the classes and functions the name-match fallback can bind to."""
    return {
        (d.qualname.rpartition(".")[2], d.id)
        for d in table.definitions
        if d.kind in _ENTITY_KINDS and d.id
    }


def renamed_entities(old: SymbolTable | None, new: SymbolTable | None) -> set[str]:
    """Names of classes and functions that appeared or vanished: every file that calls such a
    name unresolved (name-match) may bind differently, whether or not it imports this file.
    A file that appeared or vanished adds its module's name: a qualified name that spells
    the module (``com.acme.shapes.Circle`` without an import) binds to one file fewer or
    more of it."""
    before = entity_names(old) if old is not None else set()
    after = entity_names(new) if new is not None else set()
    out = {name for name, _ in before ^ after}
    if old is None and new is not None:
        out.add(new.module.rpartition(".")[2])
    elif new is None and old is not None:
        out.add(old.module.rpartition(".")[2])
    out.discard("")
    return out


def uses_of(extract: FileExtract) -> frozenset[str]:
    """Every identifier a file's resolution can look up elsewhere: in its references, its
    imports and the expressions bound in it."""
    words: set[str] = set()
    texts = {ref.name for ref in extract.references}  # a name is referenced many times
    for b in extract.symbols.imports:
        texts.add(b.target)
        texts.add(b.local)
    for d in extract.symbols.definitions:
        texts.update(d.values)
        texts.update(d.bases)
    for text in texts:
        words.update(_IDENT.findall(text))
    return frozenset(words)


def _names_module(table: SymbolTable, binding: ImportBinding, names: set[str], root: bool) -> bool:
    """Whether an import may name a module whose last name is among ``names`` (or, with
    ``root``, the repository's root package): a relative import starts from the importing
    file's package (``from . import x`` in ``foo/a.py`` names ``foo``)."""
    if not binding.level:
        return not names.isdisjoint(binding.target.split("."))
    parts = table.module.split(".") if table.module else []
    if not table.is_package:
        parts = parts[:-1]
    parts = parts[: max(len(parts) - binding.level + 1, 0)]
    return (root and not parts) or not names.isdisjoint(parts + binding.target.split("."))


@dataclass(slots=True)
class RepoCache:
    """Per-file facts of a repository that incremental work needs: content hashes, symbol
    tables (for resolution) and dependencies (who must be re-resolved when a file changes)."""

    hashes: dict[str, str] = field(default_factory=dict)
    tables: dict[str, SymbolTable] = field(default_factory=dict)
    deps: dict[str, set[str]] = field(default_factory=dict)
    interfaces: dict[str, str] = field(default_factory=dict)
    # Identifiers each file's resolution looks up (uses_of); absent: unknown, so any
    # change to a file it reads re-resolves it.
    uses: dict[str, frozenset[str]] = field(default_factory=dict)
    # Ids of the entities outside the project (external modules) each file's resolution
    # points at; while any resolved file's are unknown, no external entity is ever dropped.
    externals: dict[str, frozenset[str]] = field(default_factory=dict)
    # External entities some file stopped pointing at since ``orphans`` was last asked.
    released: set[str] = field(default_factory=set)
    # Unsaved editor content seen last, so re-resolving a dependent reads what the editor has.
    buffers: dict[str, bytes] = field(default_factory=dict)
    # Only the hashes are read yet (the pipeline reads the rest when something changed).
    partial: bool = False

    def forget(self, paths: Iterable[str]) -> None:
        for path in paths:
            self.hashes.pop(path, None)
            self.tables.pop(path, None)
            self.deps.pop(path, None)
            self.interfaces.pop(path, None)
            self.uses.pop(path, None)
            self.buffers.pop(path, None)
            self.released |= self.externals.pop(path, frozenset())

    def point(self, path: str, externals: frozenset[str]) -> None:
        """Records the external entities a file's new resolution points at."""
        self.released |= self.externals.get(path, frozenset()) - externals
        self.externals[path] = externals

    def orphans(self) -> list[str]:
        """External entities that files stopped pointing at and no file points at now: a
        fresh index would not make them (an import that now finds its module in the project,
        a deleted file). Empty while some resolved file's externals are unknown."""
        released, self.released = self.released, set()
        if not released or not self.externals.keys() >= self.deps.keys():
            return []
        return sorted(released.difference(*self.externals.values()))

    def dependents(
        self, changes: Mapping[str, frozenset[str] | None], renamed: set[str]
    ) -> set[str]:
        """Files to re-resolve after ``changes`` (per file, the names whose definitions changed;
        None: any name): those that read a changed file (directly or through its re-exports)
        and mention one of its changed names, plus those that mention a class or function name
        that appeared or vanished anywhere (their unresolved calls bind by name). A file
        re-resolved passes the names it relays (``relayed_names``) on to its own readers."""
        reached: dict[str, frozenset[str] | None] = {}
        if renamed:
            for path, uses in self.uses.items():
                if not uses.isdisjoint(renamed):
                    reached[path] = frozenset(renamed & uses)
        out: set[str] = set()
        passed: dict[str, set[str]] = {}
        pending: Mapping[str, frozenset[str] | None] = changes
        for _ in range(_MAX_ROUNDS):
            self._readers(pending, reached)
            out |= reached.keys()
            relays: dict[str, frozenset[str] | None] = {}
            for path, names in reached.items():
                table = self.tables.get(path)
                new = set() if table is None else relayed_names(table, names)
                # Every file that mentions a renamed name is re-resolved already.
                new -= passed.setdefault(path, set()) | renamed
                if new:
                    passed[path] |= new
                    relays[path] = frozenset(new)
            if not relays:
                break
            pending, reached = relays, {}
        return out

    def _readers(
        self,
        changes: Mapping[str, frozenset[str] | None],
        into: dict[str, frozenset[str] | None],
    ) -> None:
        """Adds to ``into`` each file that reads a changed file and mentions one of its
        changed names, with the names that reach it (None: any)."""
        for path, deps in self.deps.items():
            uses = self.uses.get(path)
            for dep in deps.intersection(changes):
                names = changes[dep]
                if names is None or uses is None or not names.isdisjoint(uses):
                    known = into.get(path, frozenset())
                    into[path] = None if names is None or known is None else known | names

    def importers(self, added: Sequence[str]) -> set[str]:
        """Files that may have imported a new file's module before it existed (their edges
        pointed outside the project). Over-approximates by the module's last name. Files of
        its namespace or package see its names without an import. A new project file
        (package.json, tsconfig.json) may change what any import under its directory means,
        and its package name what imports of that name mean anywhere."""
        names: set[str] = set()
        mates: set[str] = set()
        governed: list[str] = []
        for path in added:
            table = self.tables.get(path)
            if table is None:
                continue
            names.add(table.module.rpartition(".")[2])
            mates.add(table.module)
            if table.project is not None:
                governed.append(path.rpartition("/")[0])
                last = table.project.name.rpartition("/")[2]
                names |= {last, last.replace(".", "_")}
        if not mates:
            return set()
        root = "" in names  # a package at the root (index.js, __init__.py) has no name
        names.discard("")
        out: set[str] = set()
        for path, table in self.tables.items():
            if table.module in mates or (
                table.imports
                and (
                    any(not d or path.startswith(d + "/") for d in governed)
                    or any(_names_module(table, b, names, root) for b in table.imports)
                )
            ):
                out.add(path)
        return out - set(added)

    def interface_changes(
        self, extracts: Mapping[str, FileExtract], deleted: Sequence[str]
    ) -> tuple[dict[str, frozenset[str] | None], set[str]]:
        """Per file whose interface changed, the names that changed (None: any); and the class
        or function names that appeared or vanished. Records the new interface digests. A file
        whose lines merely moved changes nothing others read (SymbolTable.interface_digest)."""
        changes: dict[str, frozenset[str] | None] = {}
        renamed: set[str] = set()
        for path in deleted:
            changes[path] = None
            renamed |= renamed_entities(self.tables.get(path), None)
        for path, ex in extracts.items():
            digest = ex.symbols.interface_digest()
            old = self.tables.get(path)
            # Digests of tables read back from the store are computed when first compared.
            known = self.interfaces.get(path)
            if known is None and old is not None:
                known = old.interface_digest()
            if known == digest:
                continue
            self.interfaces[path] = digest
            changes[path] = changed_names(old, ex.symbols) if old is not None else None
            renamed |= renamed_entities(old, ex.symbols)
        return changes, renamed
