"""The generic tree-sitter extractor: a language is a :class:`LangSpec`, query files and a
resolver :class:`Profile`; this module turns the captures into a ``FileExtract``.

    >>> from extractors.base import SourceFile
    >>> from extractors.code.languages import GoExtractor
    >>> out = GoExtractor().extract_file(SourceFile("r", "a/b.go", b"package b\\nfunc F() {}\\n"))
    >>> [e.key for e in out.batch.entities]
    ['a/b.go', 'a/b.go', 'a/b.go::F']
"""

from __future__ import annotations

from typing import Any

from tree_sitter import Node

from extractors.base import (
    Definition,
    FileExtract,
    ImportBinding,
    Reference,
    Resolver,
    SourceFile,
    SymbolTable,
)
from extractors.code.documents import code_prefix, file_document, symbol_document
from extractors.code.engine import CODE_VERSION, QueryEngine
from extractors.code.evaluate import Profile
from extractors.code.generic_model import CLASS_KINDS, GDef, GImport, GRef, GSyntax
from extractors.code.generic_syntax import Collector
from extractors.code.lang_modules import bindings, module_for
from extractors.code.lang_spec import LangSpec
from extractors.code.resolver import ScopeResolver, shared_resolver
from extractors.code.spans import Spans
from kg.model import (
    AttrValue,
    Batch,
    Entity,
    EntityKind,
    Relation,
    RelationKind,
    Span,
    content_hash,
    entity_id,
    file_scope,
)

_SIGNATURE_LIMIT = 300
_PROVENANCE = "code:syntax"
_NAMESPACES = frozenset({"namespace", "module"})
_ANNOTATIONS = frozenset({"decorator", "annotation", "marker_annotation", "attribute_list"})


class TreeSitterExtractor:
    """A ``FileExtractor`` for any language with queries under ``queries/<spec.name>/``."""

    spec: LangSpec
    profile: Profile
    version = CODE_VERSION  # what the code extracts changes with it

    def __init__(self) -> None:
        self.name = f"code-{self.spec.name}"
        self.extensions = self.spec.extensions
        self._engine: QueryEngine | None = None

    @property
    def engine(self) -> QueryEngine:
        if self._engine is None:
            self._engine = QueryEngine.for_language(self.spec.name)
        return self._engine

    def resolver(self) -> Resolver | None:
        return shared_resolver(self.profile)

    def scope_resolver(self) -> ScopeResolver:
        return shared_resolver(self.profile)

    def extract_file(self, file: SourceFile) -> FileExtract:
        errors: list[str] = []
        text = file.data.decode("utf-8", "replace")
        src = text.encode("utf-8")
        if src != file.data:
            errors.append("invalid UTF-8: decoded with replacement characters")
        tree = self.engine.parse(src)
        bad = self.engine.syntax_errors(tree)
        for node in bad[:50]:
            what = f"missing {node.type!r}" if node.is_missing else "syntax error"
            errors.append(f"line {node.start_point[0] + 1}: {what}")
        spans = Spans([(e.start_byte, e.end_byte) for e in bad if e.type == "ERROR"])
        syntax = Collector(self.spec, self.engine, tree.root_node, src, spans).run()
        return _Builder(self.spec, file, src, syntax).build(errors)


class _Builder:
    def __init__(self, spec: LangSpec, file: SourceFile, src: bytes, syntax: GSyntax) -> None:
        self.spec, self.file, self.src, self.syntax = spec, file, src, syntax
        self.repo, self.path, self.language = file.repo, file.path, spec.name
        self.owner = file_scope(file.repo, file.path)
        self.module, self.is_package = module_for(spec, file.path, syntax.package)
        self.module_id = entity_id(EntityKind.MODULE, self.repo, self.path)
        self.batch = Batch(repo=self.repo, replace_scopes={self.owner})
        self.scope_entity: dict[int, str] = {0: self.module_id}
        self._seen: set[str] = set()

    def build(self, errors: list[str]) -> FileExtract:
        self._file_and_module()
        scope_of = {id(s.defn): i for i, s in enumerate(self.syntax.scopes) if s.defn}
        defs = [self._definition(d, scope_of.get(id(d))) for d in self.syntax.defs]
        self._file_document()
        imports: list[ImportBinding] = []
        for imp in self.syntax.imports:
            made = bindings(self.spec, self.path, imp, self.src)
            imports += made
            self._import_refs(imp, made)
        table = SymbolTable(
            path=self.path,
            language=self.language,
            module=self.module,
            module_id=self.module_id,
            is_package=self.is_package,
            definitions=[
                Definition(qualname="", id=self.module_id, kind="module", line=self._first_line()),
                *defs,
            ],
            imports=imports,
            wildcard_imports=["." * b.level + b.target for b in imports if b.local == "*"],
            all_names=sorted(self.syntax.exports) if self.syntax.exports is not None else None,
        )
        scopes = self.syntax.scopes
        owners = [self._entity_of(i) for i in range(len(scopes))]
        refs = [
            Reference(
                owners[r.owner if r.owner >= 0 else r.scope],
                r.name,
                r.kind,
                r.line,
                r.col,
                scopes[r.scope].qualname,
            )
            for r in self.syntax.refs
        ]
        return FileExtract(self.path, self.language, self.batch, table, refs, errors)

    def _first_line(self) -> int:
        """Where the module is written: its first non-blank line (as for Python)."""
        body = self.src.lstrip()
        return self.src.count(b"\n", 0, len(self.src) - len(body)) + 1 if body else 1

    def _import_refs(self, imp: GImport, made: list[ImportBinding]) -> None:
        """The imported name is a use of what it imports (``@`` paths bind no edge: the
        resolver makes IMPORTS edges from the bindings)."""
        node = imp.name_node
        if node is None:
            return
        line, col = node.start_point
        for b in made:
            if b.symbol and b.local != "*":
                self.syntax.refs.append(
                    GRef(
                        "@" + "." * b.level + b.target,
                        RelationKind.REFERENCES,
                        line + 1,
                        col,
                        imp.scope_index,
                    )
                )

    def _relate(self, kind: RelationKind, src: str, dst: str) -> None:
        self.batch.relations.append(Relation(kind, src, dst, 1.0, _PROVENANCE, self.owner))

    def _add(self, entity: Entity) -> bool:
        if entity.id in self._seen:
            return False
        self._seen.add(entity.id)
        self.batch.entities.append(entity)
        return True

    def _file_and_module(self) -> None:
        lines = self.src.count(b"\n") + (0 if self.src.endswith(b"\n") or not self.src else 1)
        file_entity = Entity.make(
            EntityKind.FILE,
            self.repo,
            self.path,
            name=self.path.rsplit("/", 1)[-1],
            owner=self.owner,
            path=self.path,
            language=self.language,
            attrs={
                "language": self.language,
                "loc": lines,
                "size": len(self.file.data),
                "hash": content_hash(self.file.data),
            },
        )
        self._add(file_entity)
        self._add(
            Entity.make(
                EntityKind.MODULE,
                self.repo,
                self.path,
                name=self.module or self.path,
                owner=self.owner,
                path=self.path,
                language=self.language,
                span=Span(1, max(lines, 1)),
                attrs={
                    "qualname": self.module,
                    "is_package": self.is_package,
                    "package": self.syntax.package or "",
                },
            )
        )
        self._relate(RelationKind.CONTAINS, file_entity.id, self.module_id)

    def _entity_of(self, scope: int) -> str:
        scopes = self.syntax.scopes
        while scope > 0 and scope not in self.scope_entity:
            scope = scopes[scope].parent
        return self.scope_entity.get(scope, self.module_id)

    def _definition(self, d: GDef, scope: int | None) -> Definition:
        qualname = f"{d.scope_name}.{d.name}" if d.scope_name else d.name
        eid = ""
        anonymous_object = d.detail == "object" and d.name.startswith("<")
        if (
            d.kind in ("class", "function", "constructor")
            and d.node is not None
            and not anonymous_object
        ):
            eid = self._symbol(d, qualname, scope)
        elif d.kind == "variable" and d.scope == 0 and not d.alias:
            eid = self._variable(d, qualname)
        return Definition(
            qualname=qualname,
            id=eid,
            kind=d.kind,
            line=d.line,
            col=d.col,
            scope=d.scope_name,
            **_detail(d),
        )

    def _variable(self, d: GDef, qualname: str) -> str:
        entity = Entity.make(
            EntityKind.VARIABLE,
            self.repo,
            f"{self.path}::{qualname}",
            name=d.name,
            owner=self.owner,
            path=self.path,
            language=self.language,
            span=Span(d.line, d.line),
            attrs={"qualname": self._full(qualname)},
        )
        if self._add(entity):
            self._relate(RelationKind.DEFINES, self.module_id, entity.id)
        return entity.id

    def _full(self, qualname: str) -> str:
        return f"{self.module}.{qualname}" if self.module else qualname

    def _symbol(self, d: GDef, qualname: str, scope: int | None) -> str:
        node = d.node
        assert node is not None
        kind = (
            EntityKind.MODULE
            if d.detail in _NAMESPACES
            else EntityKind.CLASS
            if d.kind == "class"
            else EntityKind.FUNCTION
        )
        attrs: dict[str, AttrValue] = {
            "qualname": self._full(qualname),
            "kind": d.detail,
            "docstring": doc_comment(self.spec, node, self.src),
        }
        if d.kind == "class":
            attrs["bases"] = d.bases
        else:
            attrs["signature"] = self._signature(node, scope)
            parent = self.syntax.scopes[d.scope].kind
            attrs["is_method"] = parent in CLASS_KINDS or parent == "impl" or "." in qualname
        entity = Entity.make(
            kind,
            self.repo,
            f"{self.path}::{qualname}",
            name=d.name,
            owner=self.owner,
            path=self.path,
            language=self.language,
            span=Span(
                node.start_point[0] + 1,
                node.end_point[0] + 1,
                node.start_point[1],
                node.end_point[1],
            ),
            attrs=attrs,
        )
        if scope is not None:
            self.scope_entity[scope] = entity.id
        if self._add(entity):
            self._relate(RelationKind.DEFINES, self._entity_of(d.scope), entity.id)
            self._document(entity, qualname, node, attrs)
        return entity.id

    def _signature(self, node: Node, scope: int | None) -> str:
        body = self.syntax.scopes[scope].caps.get("body") if scope is not None else None
        end = body[0].start_byte if body else node.end_byte
        raw = self.src[node.start_byte : end].decode("utf-8", "replace")
        return " ".join(raw.split()).rstrip("{=: ")[:_SIGNATURE_LIMIT]

    def _document(
        self, entity: Entity, qualname: str, node: Node, attrs: dict[str, AttrValue]
    ) -> None:
        doc = attrs.get("docstring", "")
        # Only what the document can show is decoded (a class's whole body is not).
        body = code_prefix(
            self.src, node.start_byte, node.end_byte, doc if isinstance(doc, str) else ""
        )
        self.batch.documents.append(
            symbol_document(entity, qualname, self.path, self.language, attrs, body)
        )

    def _file_document(self) -> None:
        self.batch.documents.append(
            file_document(self.repo, self.path, self.language, "", self.batch.entities)
        )


def _detail(d: GDef) -> dict[str, Any]:
    """The fields of ``d``'s definition that differ from their defaults: pydantic validates
    only the fields given, and most bindings (locals, parameters) leave most at defaults."""
    given: dict[str, Any] = {}
    if d.bases:
        given["bases"] = d.bases
    if d.value_scope is not None:
        given["value_scope"] = d.value_scope
    if d.values:
        given["values"] = d.values
    if d.index != -1:
        given["index"] = d.index
    if d.block is not None:
        given["block"] = d.block
    if d.loop is not None:
        given["loop"] = d.loop
    if d.rebinds:
        given["rebinds"] = True
    if d.instance:
        given["instance"] = True
    return given


def doc_comment(spec: LangSpec, node: Node, src: bytes) -> str:
    """The comment block right above a definition (or above its export/attribute wrapper)."""
    target = node
    while target.parent is not None and target.parent.type in spec.wrappers:
        target = target.parent
    lines: list[str] = []
    prev = target.prev_named_sibling
    expected = target.start_point[0]
    while prev is not None and len(lines) < 40:
        if prev.type.startswith("attribute") or prev.type in _ANNOTATIONS:
            expected, prev = prev.start_point[0], prev.prev_named_sibling
            continue
        if prev.type not in spec.comment_types or prev.end_point[0] < expected - 1:
            break
        lines.insert(0, src[prev.start_byte : prev.end_byte].decode("utf-8", "replace"))
        expected, prev = prev.start_point[0], prev.prev_named_sibling
    return _clean_comment("\n".join(lines))


def _clean_comment(text: str) -> str:
    out: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        for mark in ("/**", "/*!", "/*", "*/", "///", "//!", "//", "#"):
            if line.startswith(mark):
                line = line[len(mark) :]
        line = line.removesuffix("*/").strip()
        line = line.removeprefix("* ").removeprefix("*").strip()
        for tag in ("<summary>", "</summary>"):
            line = line.replace(tag, "")
        if line:
            out.append(line.strip())
    return "\n".join(out)
