"""Modules and imports: module names (relative, project-mapped), import paths, the members
of a module and what an import binding refers to."""

from __future__ import annotations

from abc import ABC, abstractmethod

from extractors.code.evaluate_base import END, EvaluatorBase
from extractors.code.nodes import BindNode, Ctx, DefNode, ModNode, Node, uniq
from extractors.code.projects import Projects
from extractors.code.scope_index import TableIndex


class ModuleEvaluator(EvaluatorBase, ABC):
    """Module names, import paths, module members and import bindings' targets."""

    @abstractmethod
    def member(self, node: Node, attr: str) -> list[Node]:
        """Members named ``attr`` of what ``node`` stands for (``MemberEvaluator``)."""

    @abstractmethod
    def _in_scope(
        self, ti: TableIndex, ctx: Ctx, scope: str, name: str, ordered: bool
    ) -> list[Node]:
        """What ``name`` means in ``scope`` of a file (``LookupEvaluator``)."""

    # -- modules -----------------------------------------------------------------------------
    def module_name(self, path: str, level: int, dotted: str) -> str | None:
        # Project files (tsconfig ``paths``) make a bare path's module depend on the file:
        # on the project files governing it.
        where = path if level else self._governors(path) if self.projects else ""
        key = (where, level, dotted)
        if key in self._module_memo:
            return self._module_memo[key]
        found = self._module_memo[key] = self._module_name(path, level, dotted)
        return found

    def _module_name(self, path: str, level: int, dotted: str) -> str | None:
        mapped = self._projected(path, level, dotted.split(".")) if dotted else None
        if mapped and isinstance(mapped[0], ModNode):
            return mapped[0].name
        if level == 0:
            return (
                self.index.canonical(dotted)
                if dotted.count(".")
                else (dotted if self.index.exists(dotted) else None)
            )
        base = self.index.relative_base(path, level)
        if base is None:
            return None
        full = f"{base}.{dotted}" if base and dotted else base or dotted
        return full if self.index.exists(full) else None

    def resolve_path(self, path: str, level: int, parts: list[str]) -> list[Node]:
        """An import path: the longest prefix that is a module of the project, then members;
        an absolute path the project lacks is an external module."""
        projected = self._projected(path, level, parts) if parts else None
        if projected is not None:
            return projected
        base: list[str] = []
        if level:
            rel = self.index.relative_base(path, level)
            if rel is None:
                return []
            base = rel.split(".") if rel else []
        full = base + parts
        # A relative path may name the root package itself (``./index.js`` beside it).
        for k in range(len(full), -1 if level else 0, -1):
            name = ".".join(full[:k])
            canon = name if self.index.exists(name) else None
            if canon is None and not level and k == len(full) and k > 1:
                canon = self.index.canonical(name)
            if canon is not None:
                nodes: list[Node] = [ModNode(canon)]
                for attr in full[k:]:
                    nodes = uniq([r for n in nodes for r in self.member(n, attr)])
                return nodes
        if level or not full:
            return []
        if self.profile.suffix_imports:
            for k in range(1, len(full)):
                canon = self.index.canonical(".".join(full[k:]))
                if canon is not None:
                    return [ModNode(canon)]
        return [ModNode(".".join(full), external=True)]

    @property
    def global_files(self) -> frozenset[str]:
        """Files declaring a name every file sees (``global_kinds``): all files read them."""
        if self._global_files is None:
            kinds = self.profile.global_kinds
            self._global_files = frozenset(
                path
                for path, t in self.index.tables.items()
                if kinds and any(d.kind in kinds for d in t.definitions)
            )
        return self._global_files

    @property
    def projects(self) -> Projects:
        """The project files (``package.json``, ``tsconfig.json``) among the tables."""
        if self._projects is None:
            self._projects = Projects(self.index.tables.values())
        return self._projects

    def _projected(self, path: str, level: int, parts: list[str]) -> list[Node] | None:
        """An import path as the project files governing ``path`` map it (the longest
        prefix they map to a module of the project, then members), else None."""
        projects = self.projects
        if not projects:
            return None
        key = (path if level else self._governors(path), level, tuple(parts))
        if key in self._projected_memo:
            return self._projected_memo[key]
        found = self._projected_memo[key] = self._project_path(projects, path, level, parts)
        return found

    def governing(self, path: str) -> list[str]:
        """The project files that decide what ``path``'s imports mean (``Projects``)."""
        key = self._governors(path)
        found = self._governing_memo.get(key)
        if found is None:
            found = self._governing_memo[key] = self.projects.governing(path)
        return found

    def _governors(self, path: str) -> str:
        """The project files a bare import path's meaning in ``path`` depends on (its
        nearest ``tsconfig.json`` and ``package.json``), as one key."""
        found = self._governor_memo.get(path)
        if found is None:
            configs = (self.projects.nearest(kind, path) for kind in ("tsconfig", "package"))
            found = self._governor_memo[path] = "\x00".join(
                c.path if c is not None else "" for c in configs
            )
        return found

    def _project_path(
        self, projects: Projects, path: str, level: int, parts: list[str]
    ) -> list[Node] | None:
        base = self.index.relative_base(path, level) if level else ""
        for k in range(len(parts), 0, -1):
            rest = "/".join(parts[:k])
            if level:
                if base is None or self.index.exists(".".join(p for p in (base, *parts[:k]) if p)):
                    return None  # the plain relative path is there
                found = projects.relative(path, ("../" * (level - 1) or "./") + rest)
            else:
                found = projects.bare(path, rest)
            for name in found:
                if self.index.exists(name):
                    nodes: list[Node] = [ModNode(name)]
                    for attr in parts[k:]:
                        nodes = uniq([r for n in nodes for r in self.member(n, attr)])
                    return nodes
        return None

    def module_member(self, module: str, attr: str, submodules: bool = True) -> list[Node]:
        key = ("mm", module, attr, submodules)
        found = self._member_memo.get((key, attr))
        if found is None:
            found = self._member_memo[(key, attr)] = self._module_member(module, attr, submodules)
        return found

    def _module_member(self, module: str, attr: str, submodules: bool) -> list[Node]:
        out: list[Node] = []
        for path in self.index.by_module.get(module, ()):
            ti = self.index.index(path)
            assert ti is not None
            ctx = Ctx(path, "", END)
            # A copy: the list may be a memo of ``_in_scope`` (what lookups in the file see).
            found = list(self._in_scope(ti, ctx, "", attr, ordered=False))
            found += [  # ``export { a as b }``: seen from importers only
                DefNode(path, c.definition)
                for c in ti.names.get(("", attr), ())
                if c.definition is not None and c.definition.kind == "export"
            ]
            names = ti.table.all_names
            if self.profile.exported_only and names is not None and attr not in names:
                # A name the module keeps to itself; one of a module it re-exports still counts.
                found = [
                    n for n in found if not (isinstance(n, DefNode | BindNode) and n.path == path)
                ]
            out += found
        sub = f"{module}.{attr}"
        if submodules and self.index.exists(sub):
            out.append(ModNode(sub))
        if not out and attr == "default" and self.profile.exported_only and self._commonjs(module):
            out.append(ModNode(module))  # a CommonJS module's default import is its exports
        return uniq(out)

    def _commonjs(self, module: str) -> bool:
        """A module of the project that says nothing of ECMAScript exports (``exports.x``)."""
        paths = self.index.by_module.get(module, ())
        return bool(paths) and all(self.index.tables[p].all_names is None for p in paths)

    def targets(self, node: BindNode) -> list[Node]:
        """What an import binding (seen through a prefix of its name) refers to."""
        memo = self._targets_memo.get(node.key)
        if memo is not None:
            return memo
        if self._guarded(node.key):
            return []
        self._active.add(node.key)
        self._depth += 1
        try:
            out = self._targets(node)
        finally:
            self._active.discard(node.key)
            self._depth -= 1
        self._targets_memo[node.key] = out
        return out

    def _targets(self, node: BindNode) -> list[Node]:
        b = node.b
        local = b.local.split(".")
        target = b.target.split(".") if b.target else []
        drop = len(local) - (node.prefix.count(".") + 1)
        parts = target[: len(target) - drop] if drop else target
        if b.symbol and drop == 0 and parts:
            owners = (
                self.resolve_path(node.path, b.level, parts[:-1]) if (parts[:-1] or b.level) else []
            )
            found = uniq([r for o in owners for r in self.member(o, parts[-1])])
            return found or self.resolve_path(node.path, b.level, parts)
        return self.resolve_path(node.path, b.level, parts)
