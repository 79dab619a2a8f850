"""The Python code extractor: one ``.py``/``.pyi`` file → entities, documents, symbol table.

>>> from extractors.base import SourceFile
>>> out = PythonExtractor().extract_file(SourceFile("r", "pkg/a.py", b"def f():\\n    pass\\n"))
>>> [e.key for e in out.batch.entities]
['pkg/a.py', 'pkg.a', 'pkg/a.py::f']
"""

from __future__ import annotations

from tree_sitter import Node

from extractors.base import (
    FileExtract,
    Reference,
    Resolver,
    SourceFile,
    SymbolTable,
)
from extractors.code.documents import code_prefix, file_document, symbol_document
from extractors.code.engine import CODE_VERSION, QueryEngine
from extractors.code.modules import module_name
from extractors.code.python_syntax import ImportInfo, PySyntax, ScopeInfo, SyntaxDef, analyze
from extractors.code.resolver import PYTHON, shared_resolver
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

LANGUAGE = "python"
_PROVENANCE = "code:syntax"


class PythonExtractor:
    """Extracts Python files with tree-sitter; its resolver binds names across files."""

    name = "code-python"
    version = CODE_VERSION  # what the code extracts changes with it
    extensions = frozenset({".py", ".pyi"})

    def __init__(self) -> None:
        self._engine: QueryEngine | None = None

    @property
    def engine(self) -> QueryEngine:
        if self._engine is None:
            self._engine = QueryEngine.for_language(LANGUAGE)
        return self._engine

    def resolver(self) -> Resolver | None:
        return shared_resolver(PYTHON)

    def extract_file(self, file: SourceFile) -> FileExtract:
        errors: list[str] = []
        src = file.data
        try:
            src.decode("utf-8")  # valid UTF-8 (nearly every file) is parsed as it is
        except UnicodeDecodeError:
            src = src.decode("utf-8", "replace").encode("utf-8")
            errors.append("invalid UTF-8: decoded with replacement characters")
        tree = self.engine.parse(src)
        bad = self.engine.syntax_errors(tree)
        for node in bad:
            what = f"missing {node.type!r}" if node.is_missing else "syntax error"
            errors.append(f"line {node.start_point[0] + 1}: {what}")
        syntax = analyze(self.engine, tree.root_node, src, bad)
        return _Builder(file, src, syntax).build(errors)


class _Builder:
    """Turns the syntax of one file into its batch, symbol table and references."""

    def __init__(self, file: SourceFile, src: bytes, syntax: PySyntax) -> None:
        self.file, self.src, self.syntax = file, src, syntax
        self.repo, self.path = file.repo, file.path
        self.owner = file_scope(file.repo, file.path)
        self.module, self.is_package = module_name(file.path)
        key = self.module + ("#stub" if file.path.endswith(".pyi") else "")
        self.module_key = key or file.path
        self.module_id = entity_id(EntityKind.MODULE, self.repo, self.module_key)
        self.batch = Batch(repo=self.repo, replace_scopes={self.owner})
        self.scope_entity: dict[int, str] = {0: self.module_id}
        self.scope_of_def = {id(s.defn): i for i, s in enumerate(syntax.scopes) if s.defn}
        self._seen: set[str] = set()

    def text(self, node: Node) -> str:
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def build(self, errors: list[str]) -> FileExtract:
        self._file_and_module()
        quals = [s.qualname for s in self.syntax.scopes]
        defs = [self._definition(d, quals) for d in self.syntax.defs]
        self._file_document()
        # Validated in one call from plain values: a model built per definition costs pydantic
        # a Python-level __init__ each, about three times the time.
        table = SymbolTable.model_validate(
            {
                "path": self.path,
                "language": LANGUAGE,
                "module": self.module,
                "module_id": self.module_id,
                "is_package": self.is_package,
                "definitions": [self._module_def(), *defs],
                "imports": [self._import(i, quals) for i in self.syntax.imports],
                "wildcard_imports": [
                    "." * i.level + i.target for i in self.syntax.imports if i.wildcard
                ],
                "all_names": self.syntax.all_names,
            }
        )
        owners = [self._entity_of(i) for i in range(len(quals))]  # one walk per scope
        refs = [
            Reference(owners[owner if owner >= 0 else scope], name, kind, line, col, quals[scope])
            for name, kind, line, col, scope, owner in self.syntax.refs
        ]
        return FileExtract(self.path, LANGUAGE, self.batch, table, refs, errors)

    # -- entities ----------------------------------------------------------------------------
    def _add(self, entity: Entity) -> None:
        if entity.id not in self._seen:
            self._seen.add(entity.id)
            self.batch.entities.append(entity)

    def _relate(self, kind: RelationKind, src: str, dst: str) -> None:
        self.batch.relations.append(Relation(kind, src, dst, 1.0, _PROVENANCE, self.owner))

    def _first_line(self) -> int:
        body = self.src.lstrip()
        return self.src.count(b"\n", 0, len(self.src) - len(body)) + 1 if body else 1

    def _file_and_module(self) -> None:
        lines = self.src.count(b"\n") + (0 if self.src.endswith(b"\n") or not self.src else 1)
        file_entity = Entity.make(
            EntityKind.FILE,
            self.repo,
            self.path,
            name=self.path.rsplit("/", 1)[-1],
            owner=self.owner,
            path=self.path,
            language=LANGUAGE,
            attrs={
                "language": LANGUAGE,
                "loc": lines,
                "hash": content_hash(self.file.data),
                "size": len(self.file.data),
            },
        )
        self._add(file_entity)
        self._add(
            Entity.make(
                EntityKind.MODULE,
                self.repo,
                self.module_key,
                name=self.module or self.path,
                owner=self.owner,
                path=self.path,
                language=LANGUAGE,
                span=Span(self._first_line(), max(lines, 1)),
                attrs={"qualname": self.module, "is_package": self.is_package},
            )
        )
        self._relate(RelationKind.CONTAINS, file_entity.id, self.module_id)

    def _entity_of(self, scope: int) -> str:
        while scope > 0 and scope not in self.scope_entity:
            scope = self.syntax.scopes[scope].parent
        return self.scope_entity.get(scope, self.module_id)

    def _definition(self, d: SyntaxDef, quals: list[str]) -> dict[str, object]:
        """The fields of ``d``'s :class:`Definition`."""
        scope = quals[d.scope]
        qualname = f"{scope}.{d.name}" if scope else d.name
        eid, kind = "", d.kind
        if kind in ("class", "function") and d.node is not None:
            eid = self._symbol(d, qualname)
        elif kind == "variable" and d.scope == 0 and "." not in d.name:
            eid = self._variable(d, qualname)
        return {
            "qualname": qualname,
            "id": eid,
            "kind": kind,
            "line": d.line,
            "bases": d.bases,
            "col": d.col,
            "scope": scope,
            "value_scope": None if d.value_scope == d.scope else quals[d.value_scope],
            "values": d.values,
            "index": d.index,
            "block": d.block,
            "loop": d.loop,
        }

    def _variable(self, d: SyntaxDef, qualname: str) -> str:
        entity = Entity.make(
            EntityKind.VARIABLE,
            self.repo,
            f"{self.path}::{qualname}",
            name=d.name,
            owner=self.owner,
            path=self.path,
            language=LANGUAGE,
            span=Span(d.line, d.line),
            attrs={"qualname": f"{self.module}.{qualname}" if self.module else qualname},
        )
        if entity.id not in self._seen:
            self._relate(RelationKind.DEFINES, self.module_id, entity.id)
        self._add(entity)
        return entity.id

    def _symbol(self, d: SyntaxDef, qualname: str) -> str:
        node = d.node
        assert node is not None
        kind = EntityKind.CLASS if d.kind == "class" else EntityKind.FUNCTION
        scope = self.scope_of_def.get(id(d))
        parent = self.syntax.scopes[d.scope]
        attrs = _symbol_attrs(self, node, d, parent)
        attrs["qualname"] = f"{self.module}.{qualname}" if self.module else qualname
        if scope is not None:
            attrs["complexity"] = self.syntax.complexity.get(scope, 0) + 1
        entity = Entity.make(
            kind,
            self.repo,
            f"{self.path}::{qualname}",
            name=d.name,
            owner=self.owner,
            path=self.path,
            language=LANGUAGE,
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
        if entity.id not in self._seen:
            self._relate(RelationKind.DEFINES, self._entity_of(d.scope), entity.id)
            self._document(entity, qualname, node, attrs)
        self._add(entity)
        return entity.id

    def _document(
        self, entity: Entity, qualname: str, node: Node, attrs: dict[str, AttrValue]
    ) -> None:
        self.batch.documents.append(
            symbol_document(entity, qualname, self.path, LANGUAGE, attrs, self._code(node, attrs))
        )

    def _code(self, node: Node, attrs: dict[str, AttrValue]) -> str:
        doc = attrs.get("docstring", "")
        start, end = node.byte_range
        return code_prefix(self.src, start, end, doc if isinstance(doc, str) else "")

    def _file_document(self) -> None:
        self.batch.documents.append(
            file_document(
                self.repo,
                self.path,
                LANGUAGE,
                _docstring(self, self.syntax.scopes[0].node),
                self.batch.entities,
            )
        )

    def _module_def(self) -> dict[str, object]:
        # The module itself, as the target of ``import m``: qualname '' marks it.
        return {"qualname": "", "id": self.module_id, "kind": "module", "line": self._first_line()}

    def _import(self, info: ImportInfo, quals: list[str]) -> dict[str, object]:
        """The fields of ``info``'s :class:`ImportBinding`."""
        return {
            "local": info.local,
            "target": info.target,
            "level": info.level,
            "symbol": info.symbol,
            "line": info.line,
            "scope": quals[info.scope],
        }


def _docstring(builder: _Builder, node: Node | None) -> str:
    body = node if node is None or node.type == "module" else node.child_by_field_name("body")
    if body is None or not body.named_child_count:
        return ""
    string = body.named_child(0)
    if string.type == "expression_statement" and string.named_child_count:
        string = string.named_child(0)  # grammar versions differ on this wrapper
    if string.type != "string":
        return ""
    return "".join(builder.text(c) for c in string.named_children if c.type == "string_content")


def _symbol_attrs(
    builder: _Builder, node: Node, d: SyntaxDef, parent: ScopeInfo
) -> dict[str, AttrValue]:
    attrs: dict[str, AttrValue] = {"docstring": _docstring(builder, node)}
    decorated = node.parent if node.parent is not None else None
    decorators: list[str] = []
    if decorated is not None and decorated.type == "decorated_definition":
        decorators = [
            builder.text(c).lstrip("@").strip()
            for c in decorated.named_children
            if c.type == "decorator"
        ]
    attrs["decorators"] = decorators
    if d.kind == "class":
        attrs["bases"] = d.bases
        return attrs
    params = node.child_by_field_name("parameters")
    returns = node.child_by_field_name("return_type")
    signature = d.name + (builder.text(params) if params is not None else "()")
    if returns is not None:
        signature += " -> " + builder.text(returns)
    attrs["signature"] = " ".join(signature.split())
    attrs["is_method"] = parent.kind == "class"
    attrs["is_async"] = builder.src[node.start_byte : node.start_byte + 5] == b"async"
    return attrs
