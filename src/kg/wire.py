"""Plain-tuple rows for the pipeline's results, for a forked worker to send back.

Pickling the model's dataclasses and pydantic models goes through ``__reduce__`` per object
and cost more than the work it would parallelise; tuples of str/int/float pickle at C speed.
Each ``*_row`` has its inverse, and a round trip gives an equal object::

    relation_from_row(relation_row(r)) == r
"""

from __future__ import annotations

from typing import Any

from extractors.base import FileExtract, Reference, SymbolTable
from kg.model import (
    ALWAYS,
    Batch,
    Document,
    Entity,
    EntityKind,
    Relation,
    RelationKind,
    Span,
    Validity,
)

Row = tuple[Any, ...]

_ENTITY_KINDS = {k.value: k for k in EntityKind}
_RELATION_KINDS = {k.value: k for k in RelationKind}


def _valid(v: Validity) -> Validity | None:
    return None if v is ALWAYS or v == ALWAYS else v


def relation_row(r: Relation) -> Row:
    return (
        r.kind.value,
        r.src,
        r.dst,
        r.confidence,
        r.provenance,
        r.owner,
        r.attrs or None,
        _valid(r.valid),
    )


def relation_from_row(row: Row) -> Relation:
    kind, src, dst, confidence, provenance, owner, attrs, valid = row
    return Relation(
        _RELATION_KINDS[kind],
        src,
        dst,
        confidence,
        provenance,
        owner,
        attrs if attrs is not None else {},
        valid if valid is not None else ALWAYS,
    )


def entity_row(e: Entity) -> Row:
    span = e.span
    return (
        e.id,
        e.kind.value,
        e.repo,
        e.key,
        e.name,
        e.owner,
        e.path,
        None if span is None else (span.start_line, span.end_line, span.start_col, span.end_col),
        e.language,
        e.attrs or None,
        _valid(e.valid),
    )


def entity_from_row(row: Row) -> Entity:
    id_, kind, repo, key, name, owner, path, span, language, attrs, valid = row
    return Entity(
        id_,
        _ENTITY_KINDS[kind],
        repo,
        key,
        name,
        owner,
        path,
        None if span is None else Span(*span),
        language,
        attrs if attrs is not None else {},
        valid if valid is not None else ALWAYS,
    )


def document_row(d: Document) -> Row:
    return (d.entity_id, d.repo, d.kind.value, d.text, d.payload or None, d.vector)


def document_from_row(row: Row) -> Document:
    entity_id, repo, kind, text, payload, vector = row
    return Document(
        entity_id, repo, _ENTITY_KINDS[kind], text, payload if payload is not None else {}, vector
    )


def batch_row(b: Batch) -> Row:
    return (
        b.repo,
        [entity_row(e) for e in b.entities],
        [relation_row(r) for r in b.relations],
        [document_row(d) for d in b.documents],
        sorted(b.replace_scopes),
        list(b.deletions),
        dict(b.state),
    )


def batch_from_row(row: Row) -> Batch:
    repo, entities, relations, documents, scopes, deletions, state = row
    return Batch(
        repo=repo,
        entities=[entity_from_row(e) for e in entities],
        relations=[relation_from_row(r) for r in relations],
        documents=[document_from_row(d) for d in documents],
        replace_scopes=set(scopes),
        deletions=deletions,
        state=state,
    )


# -- extracts -------------------------------------------------------------------------------
def extract_row(x: FileExtract) -> Row:
    # The symbol table travels as its JSON (pydantic parses it faster than it constructs
    # models from Python values).
    return (
        x.path,
        x.language,
        batch_row(x.batch),
        x.symbols.model_dump_json(),
        [(r.src, r.name, r.kind.value, r.line, r.col, r.scope) for r in x.references],
        list(x.errors),
    )


def extract_from_row(row: Row) -> FileExtract:
    path, language, batch, table, refs, errors = row
    kinds = _RELATION_KINDS
    return FileExtract(
        path=path,
        language=language,
        batch=batch_from_row(batch),
        symbols=SymbolTable.model_validate_json(table),
        references=[Reference(s, n, kinds[k], ln, c, sc) for s, n, k, ln, c, sc in refs],
        errors=errors,
    )
