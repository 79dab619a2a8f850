"""The Extractor contract: pure functions from sources to graph batches.

Two shapes, both registered through the entry-point group ``kg.extractors`` (built-ins too):

* ``FileExtractor`` — one source file in, a ``FileExtract`` out: the file's own entities and
  relations (owned by ``file_scope``), a JSON-serialisable ``SymbolTable`` that other files'
  resolution reads, and the file's unresolved ``Reference``s. Its ``resolver()`` binds
  references to definitions across files (owned by ``resolve_scope``).
* ``RepoExtractor`` — a whole repository in (e.g. git history), batches out, resumable from a
  state string it returns with each batch.

Extractors do no I/O to stores. A plugin::

    class TomlExtractor:
        name = "toml"; version = "1"; extensions = frozenset({".toml"})
        def extract_file(self, file: SourceFile) -> FileExtract: ...
        def resolver(self) -> Resolver | None: return None

    # pyproject.toml
    [project.entry-points."kg.extractors"]
    toml = "my_plugin:TomlExtractor"
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from kg.model import Batch, RelationKind


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file to extract: repository-relative POSIX path and its bytes (already size-checked)."""

    repo: str
    path: str
    data: bytes


class Definition(BaseModel):
    """A name a file defines: ``qualname`` is module-relative (``Class.method``)."""

    model_config = ConfigDict(frozen=True)

    qualname: str
    id: str
    kind: str
    line: int
    bases: list[str] = Field(default_factory=list)
    # Optional detail for scope-aware resolvers (extractors.code); all default to "unknown".
    # ``id`` is '' for bindings that are no graph entity (locals, parameters, attributes).
    # ``scope`` is the namespace holding the (possibly dotted) name when the qualname alone
    # is ambiguous; ``values`` are expressions (extractors.code.expr) bound to it, evaluated
    # in ``value_scope``; ``index`` is a parameter's position; ``block``/``loop`` are the line
    # spans of the block that may not run / the loop that repeats the binding.
    col: int = 0
    scope: str | None = None
    value_scope: str | None = None
    values: list[str] = Field(default_factory=list)
    index: int = -1
    block: tuple[int, int] | None = None
    loop: tuple[int, int] | None = None
    # An assignment to a name declared elsewhere (JavaScript ``x = 2``): a use sees it beside
    # the declaration, in whichever scope that is, instead of it hiding the declaration.
    rebinds: bool = False
    # A member of a class's instances only (JavaScript: declared in a class body without
    # ``static``, or assigned to ``this``): ``new C().m`` finds it, ``C.m`` does not.
    instance: bool = False


class ImportBinding(BaseModel):
    """``local`` is bound by an import of ``target`` (absolute dotted name, or relative with
    ``level`` leading dots already stripped), e.g. ``from .a import b as c`` → local ``c``,
    target ``a.b``, level 1. ``symbol`` says whether the target's last part is a member of a
    module (``from m import x``) rather than a module itself (``import m``)."""

    model_config = ConfigDict(frozen=True)

    local: str
    target: str
    level: int = 0
    symbol: bool = False
    line: int = 0
    scope: str = ""


class ProjectConfig(BaseModel):
    """What a project file (``package.json``, ``tsconfig.json``) says about how its files'
    import paths resolve. Paths are repository-relative, without a trailing ``/``."""

    model_config = ConfigDict(frozen=True)

    kind: str  # "package" | "tsconfig"
    name: str = ""  # the package's name (``@acme/foo``)
    main: str = ""  # the module a bare import of the package means
    dependencies: list[str] = Field(default_factory=list)
    base_url: str | None = None  # where bare import paths start
    paths: list[tuple[str, list[str]]] = Field(default_factory=list)  # pattern → targets
    root_dirs: list[str] = Field(default_factory=list)  # directories merged into one


class SymbolTable(BaseModel):
    """What other files need to resolve names into this one; persisted as extractor state."""

    path: str
    language: str
    module: str
    module_id: str
    is_package: bool = False
    definitions: list[Definition] = Field(default_factory=list)
    imports: list[ImportBinding] = Field(default_factory=list)
    wildcard_imports: list[str] = Field(default_factory=list)
    all_names: list[str] | None = None
    project: ProjectConfig | None = None  # a project file's module-resolution settings

    def interface_digest(self) -> str:
        """A digest of everything other files' resolution can read here, minus positions:
        names, kinds, bases, bound expressions (locals too: return values are inferred through
        them), imports and exports, in source order. Inserting or moving lines leaves it
        unchanged, so the commonest edits need no re-resolution of dependent files (their
        edges name entities, not lines).

        >>> t = SymbolTable(path="a.py", language="python", module="a", module_id="m")
        >>> t.interface_digest() == t.model_copy().interface_digest()
        True
        """
        defs = [
            (
                d.qualname,
                d.kind,
                d.id,
                d.bases,
                d.scope,
                d.value_scope,
                d.values,
                d.index,
                d.block is not None,
                d.loop is not None,
                *(("instance",) if d.instance else ()),
            )
            for d in self.definitions
        ]
        imports = [(b.local, b.target, b.level, b.symbol, b.scope) for b in self.imports]
        text = json.dumps(
            [
                self.language,
                self.module,
                self.is_package,
                defs,
                imports,
                self.wildcard_imports,
                self.all_names,
                *([self.project.model_dump()] if self.project is not None else []),
            ]
        )
        # Anonymous scopes are named by position (``<lambda12_4>``): positions do not count.
        text = _ANONYMOUS.sub("<>", text)
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()

    def name_digests(self) -> dict[str, str]:
        """``interface_digest`` split by name: a digest per qualname (definitions of it in
        source order) and per imported local (``scope.local``), so an interface change can be
        narrowed to the names it touched. File-wide facts (module, exports) are not in it.

        >>> d = Definition(qualname="f", id="x", kind="function", line=3)
        >>> t = SymbolTable(path="a.py", language="python", module="a", module_id="m",
        ...                 definitions=[d])
        >>> list(t.name_digests())
        ['f']
        """
        parts: dict[str, list[object]] = {}
        for d in self.definitions:
            parts.setdefault(_ANONYMOUS.sub("<>", d.qualname), []).append(
                (
                    d.kind,
                    d.id,
                    d.bases,
                    d.scope,
                    d.value_scope,
                    d.values,
                    d.index,
                    d.block is not None,
                    d.loop is not None,
                    *(("instance",) if d.instance else ()),
                )
            )
        for b in self.imports:
            key = f"{b.scope}.{b.local}" if b.scope else b.local
            parts.setdefault(_ANONYMOUS.sub("<>", key), []).append((b.target, b.level, b.symbol))
        if self.project is not None:  # a project file's settings may change any import: "*"
            parts["*"] = [self.project.model_dump()]
        return {
            name: hashlib.blake2b(
                _ANONYMOUS.sub("<>", json.dumps(value)).encode("utf-8", "surrogatepass"),
                digest_size=12,
            ).hexdigest()
            for name, value in parts.items()
        }


_ANONYMOUS = re.compile(r"<[a-z]+\d+_\d+>")


@dataclass(frozen=True, slots=True)
class Reference:
    """An unresolved use of a name: ``src`` is the enclosing entity id, ``name`` as written
    (dotted, e.g. ``self.save`` or ``os.path.join``); ``scope`` is the module-relative qualname
    of the enclosing definition ('' at module level)."""

    src: str
    name: str
    kind: RelationKind
    line: int
    col: int = 0
    scope: str = ""


@dataclass(slots=True)
class FileExtract:
    path: str
    language: str
    batch: Batch
    symbols: SymbolTable
    references: list[Reference] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@runtime_checkable
class Resolver(Protocol):
    """Binds one file's references using every file's symbol table (``tables`` by path)."""

    def resolve(self, repo: str, extract: FileExtract, tables: Mapping[str, SymbolTable]) -> Batch:
        """The file's resolved edges (CALLS/IMPORTS/INHERITS/REFERENCES, each with confidence
        and provenance) plus the entities resolution creates (external modules, owned by
        ``external:<repo>`` so one file's re-resolution never deletes what others point at).
        ``replace_scopes`` is ``{resolve_scope(repo, path)}``."""
        ...

    def depends_on(self, table: SymbolTable, tables: Mapping[str, SymbolTable]) -> set[str]:
        """Paths whose symbol tables this file's resolution read; when one of them changes,
        the file must be resolved again."""
        ...


@runtime_checkable
class FileExtractor(Protocol):
    name: str
    version: str
    extensions: frozenset[str]

    def extract_file(self, file: SourceFile) -> FileExtract:
        """Never raises on bad source: syntax errors yield what parses, listed in ``errors``."""
        ...

    def resolver(self) -> Resolver | None: ...


@dataclass(frozen=True, slots=True)
class RepoContext:
    """A repository to extract. ``file_extractor`` maps a path to the file extractor the code
    stage uses for it (the registry's ``for_path``), so history extractors can parse old
    versions of a file the same way; None when no file extractors are known."""

    repo: str
    root: Path
    file_extractor: Callable[[str], FileExtractor | None] | None = None


@dataclass(slots=True)
class RepoBatch:
    """A batch plus the state to record once it is stored (resume point)."""

    batch: Batch
    state: str | None
    note: str = ""


@runtime_checkable
class RepoExtractor(Protocol):
    name: str
    version: str

    def applies(self, ctx: RepoContext) -> tuple[bool, str]:
        """Whether this extractor can run on the repository, and if not, why (for the user)."""
        ...

    def extract_repo(self, ctx: RepoContext, state: str | None) -> Iterator[RepoBatch]:
        """Batches from where ``state`` left off (None: from the start)."""
        ...


Extractor = FileExtractor | RepoExtractor

__all__: Sequence[str] = [
    "Definition",
    "Extractor",
    "FileExtract",
    "FileExtractor",
    "ImportBinding",
    "ProjectConfig",
    "Reference",
    "RepoBatch",
    "RepoContext",
    "RepoExtractor",
    "Resolver",
    "SourceFile",
    "SymbolTable",
]
