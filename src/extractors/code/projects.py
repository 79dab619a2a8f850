"""JavaScript/TypeScript project files: how ``package.json`` and ``tsconfig.json`` (or
``jsconfig.json``) change what an import path means.

* A ``tsconfig.json`` governs the files under its directory (the nearest one wins): a bare
  path is tried against ``paths`` patterns (``"@app/*": ["src/app/*"]``, relative to
  ``baseUrl``, else to the config), then under ``baseUrl``; a relative path that misses may
  be in a sibling of ``rootDirs`` (they are merged into one directory).
* A ``package.json`` names a package: a file whose nearest ``package.json`` depends on it
  imports it by name (``@acme/foo`` is its ``main`` module, default ``index``;
  ``@acme/foo/core`` its file ``core``).

The files are read leniently (comments and trailing commas, as TypeScript accepts them); an
unreadable one is a project file without settings. Candidates are dotted module names, in the
order TypeScript tries them; the evaluator keeps the first the project has::

    >>> cfg = parse_config("tsconfig.json", b'{"compilerOptions": {"baseUrl": "./src/",}}')
    >>> cfg.base_url
    'src'
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from extractors.base import FileExtract, ProjectConfig, SourceFile, SymbolTable
from kg.model import Batch, Entity, EntityKind, content_hash, entity_id, file_scope

CONFIG_NAMES = frozenset({"package.json", "tsconfig.json", "jsconfig.json"})
_EXTS = (".d.ts", ".tsx", ".ts", ".jsx", ".mjs", ".cjs", ".js", ".json")
_MAX_PATTERNS = 64


def config_module(path: str) -> str:
    """A project file's module name: beside its directory's modules, named by no import."""
    directory, _, base = path.rpartition("/")
    parts = [p.replace(".", "_") for p in directory.split("/") if p]
    return ".".join([*parts, "<" + base.replace(".", "_") + ">"])


def config_extract(file: SourceFile, language: str) -> FileExtract:
    """A project file as the graph sees it: a file, and a symbol table with its settings."""
    owner = file_scope(file.repo, file.path)
    batch = Batch(repo=file.repo, replace_scopes={owner})
    batch.entities.append(
        Entity.make(
            EntityKind.FILE,
            file.repo,
            file.path,
            name=file.path.rsplit("/", 1)[-1],
            owner=owner,
            path=file.path,
            language=language,
            attrs={
                "language": language,
                "loc": file.data.count(b"\n") + (0 if file.data.endswith(b"\n") else 1),
                "size": len(file.data),
                "hash": content_hash(file.data),
            },
        )
    )
    table = SymbolTable(
        path=file.path,
        language=language,
        module=config_module(file.path),
        module_id=entity_id(EntityKind.MODULE, file.repo, file.path),
        project=parse_config(file.path, file.data),
    )
    return FileExtract(file.path, language, batch, table)


def parse_config(path: str, data: bytes) -> ProjectConfig:
    """The settings of one project file (``path`` is repository-relative)."""
    directory = posixpath.dirname(path)
    kind = "package" if path.rpartition("/")[2] == "package.json" else "tsconfig"
    doc = _lenient_json(data.decode("utf-8", "replace"))
    if not isinstance(doc, dict):
        return ProjectConfig(kind=kind)
    if kind == "package":
        deps: list[str] = []
        for key in ("dependencies", "devDependencies", "peerDependencies"):
            section = doc.get(key)
            if isinstance(section, dict):
                deps += [k for k in section if isinstance(k, str)]
        name, main = doc.get("name"), doc.get("main")
        return ProjectConfig(
            kind=kind,
            name=name if isinstance(name, str) else "",
            main=_join(directory, main if isinstance(main, str) and main else "index"),
            dependencies=deps[:_MAX_PATTERNS],
        )
    options = doc.get("compilerOptions")
    options = options if isinstance(options, dict) else {}
    base = options.get("baseUrl")
    base_url = _join(directory, base) if isinstance(base, str) else None
    paths: list[tuple[str, list[str]]] = []
    raw_paths = options.get("paths")
    if isinstance(raw_paths, dict):
        start = base_url if base_url is not None else directory
        for pattern, targets in list(raw_paths.items())[:_MAX_PATTERNS]:
            if isinstance(targets, list) and pattern.count("*") <= 1:
                found = [_join(start, t) for t in targets if isinstance(t, str)]
                paths.append((pattern, [t for t in found if t.count("*") <= 1]))
    dirs = options.get("rootDirs")
    dirs = dirs if isinstance(dirs, list) else []
    root_dirs = [_join(directory, d) for d in dirs if isinstance(d, str)]
    return ProjectConfig(kind=kind, base_url=base_url, paths=paths, root_dirs=root_dirs)


def _join(directory: str, rel: str) -> str:
    joined = posixpath.normpath(posixpath.join(directory, rel))
    return "" if joined == "." else joined.lstrip("/")


def _lenient_json(text: str) -> object:
    """JSON with ``//`` and ``/* */`` comments and trailing commas (tsconfig's dialect)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        elif text.startswith("//", i):
            i = text.find("\n", i) if "\n" in text[i:] else n
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c in "}]":
            while out and out[-1].isspace():
                out.pop()
            if out and out[-1] == ",":
                out.pop()
            out.append(c)
            i += 1
        else:
            out.append(c)
            i += 1
    try:
        return json.loads("".join(out))
    except ValueError:
        return None


def dotted(path: str) -> str:
    """A repository-relative file path (extension optional) as the module it names."""
    parts = [p for p in path.split("/") if p and p != "."]
    if parts:
        last = parts[-1]
        for ext in _EXTS:
            if last.lower().endswith(ext):
                parts[-1] = last[: -len(ext)]
                break
        if parts[-1] == "index":
            parts.pop()
    return ".".join(p.replace(".", "_") for p in parts)


class Projects:
    """The project files of one index, and what an import path may mean under them. Names
    and patterns are compared as import paths are written in tables (``.`` → ``_``)."""

    def __init__(self, tables: Iterable[SymbolTable]) -> None:
        self.configs: dict[str, list[_Config]] = {}
        self.by_name: dict[str, list[_Config]] = {}
        for t in tables:
            cfg = t.project
            if cfg is None:
                continue
            found = _Config(posixpath.dirname(t.path), t.path, cfg)
            self.configs.setdefault(cfg.kind, []).append(found)
            if cfg.kind == "package" and cfg.name:
                self.by_name.setdefault(_seg_path(cfg.name), []).append(found)
        for kind in self.configs.values():  # the deepest directory first: the nearest wins
            kind.sort(key=lambda c: -len(c.directory))

    def __bool__(self) -> bool:
        return bool(self.configs)

    def nearest(self, kind: str, path: str) -> _Config | None:
        for c in self.configs.get(kind, ()):
            if not c.directory or path.startswith(c.directory + "/"):
                return c
        return None

    def governing(self, path: str) -> list[str]:
        """The project files that decide what ``path``'s imports mean."""
        out: list[str] = []
        project, package = self.nearest("tsconfig", path), self.nearest("package", path)
        if project is not None:
            out.append(project.path)
        if package is not None:
            out.append(package.path)
            for dep in package.cfg.dependencies:
                out += [c.path for c in self.by_name.get(_seg_path(dep), ())]
        return out

    def bare(self, path: str, raw: str) -> list[str]:
        """Modules a bare import path (``foo``, ``@acme/foo/core``) may mean in ``path``."""
        out: list[str] = []
        project = self.nearest("tsconfig", path)
        if project is not None:
            out += _mapped(project.cfg.paths, raw)
            if project.cfg.base_url is not None:
                out.append(dotted(_join(project.cfg.base_url, raw)))
        package = self.nearest("package", path)
        for dep in package.cfg.dependencies if package is not None else ():
            name = _seg_path(dep)
            if raw != name and not raw.startswith(name + "/"):
                continue
            for c in self.by_name.get(name, ()):
                rest = raw[len(name) + 1 :]
                out.append(dotted(_join(c.directory, rest) if rest else c.cfg.main))
        return out

    def relative(self, path: str, raw: str) -> list[str]:
        """Modules a relative import path may mean through ``rootDirs`` (merged directories)."""
        project = self.nearest("tsconfig", path)
        if project is None or not project.cfg.root_dirs:
            return []
        directory = posixpath.dirname(path)
        roots = project.cfg.root_dirs
        for root in roots:
            if not root or directory == root or directory.startswith(root + "/"):
                inner = directory[len(root) :].lstrip("/")
                return [dotted(_join(posixpath.join(r, inner), raw)) for r in roots if r != root]
        return []


@dataclass(frozen=True, slots=True)
class _Config:
    directory: str
    path: str
    cfg: ProjectConfig


def _seg_path(name: str) -> str:
    return "/".join(p.replace(".", "_") for p in name.split("/"))


def _mapped(paths: list[tuple[str, list[str]]], raw: str) -> list[str]:
    """Targets of the ``paths`` pattern matching ``raw``: an exact pattern first, else the
    starred one with the longest prefix (TypeScript's order)."""
    best: tuple[int, list[str]] | None = None
    for pattern, targets in paths:
        if "*" not in pattern:
            if _seg_path(pattern) == raw:
                return [dotted(t) for t in targets]
            continue
        head, _, tail = _seg_path(pattern).partition("*")
        fits = raw.startswith(head) and raw.endswith(tail) and len(raw) >= len(head) + len(tail)
        if fits and (best is None or len(head) > best[0]):
            star = raw[len(head) : len(raw) - len(tail)]
            best = (len(head), [dotted(t.replace("*", star)) for t in targets])
    return best[1] if best is not None else []
