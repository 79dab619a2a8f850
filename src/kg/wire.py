"""Plain-tuple rows for the pipeline's results, for a forked worker to send back.

Pickling the model's dataclasses and pydantic models goes through ``__reduce__`` per object
and cost more than the work it would parallelise; tuples of str/int/float pickle at C speed.
Each encoder has its inverse, and a round trip gives an equal object::

    relations_from_columns(relation_columns(rs)) == rs
    batch_from_row(batch_row(b)) == b

Lists go as columns (one list per field): a list of plain values pickles and unpickles faster
than a tuple per object, and ``map`` builds the objects back without unpacking each row. Kinds
travel as enum members, which pickle stores once per record and then refers back to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from extractors.base import FileExtract, Reference, SymbolTable
from kg.model import (
    ALWAYS,
    Batch,
    Document,
    Entity,
    Relation,
    Span,
    Validity,
)

Row = tuple[Any, ...]


def _valid(v: Validity) -> Validity | None:
    return None if v is ALWAYS or v == ALWAYS else v


def relation_columns(rs: Sequence[Relation]) -> Row:
    return (
        [r.kind for r in rs],
        [r.src for r in rs],
        [r.dst for r in rs],
        [r.confidence for r in rs],
        [r.provenance for r in rs],
        [r.owner for r in rs],
        [r.attrs or None for r in rs],
        [_valid(r.valid) for r in rs],
    )


def relations_from_columns(columns: Row) -> list[Relation]:
    kind, src, dst, confidence, provenance, owner, attrs, valid = columns
    return list(
        map(
            Relation,
            kind,
            src,
            dst,
            confidence,
            provenance,
            owner,
            [a if a is not None else {} for a in attrs],
            [v if v is not None else ALWAYS for v in valid],
        )
    )


def entity_columns(es: Sequence[Entity]) -> Row:
    return (
        [e.id for e in es],
        [e.kind for e in es],
        [e.repo for e in es],
        [e.key for e in es],
        [e.name for e in es],
        [e.owner for e in es],
        [e.path for e in es],
        [_span(e.span) for e in es],
        [e.language for e in es],
        [e.attrs or None for e in es],
        [_valid(e.valid) for e in es],
    )


def entities_from_columns(columns: Row) -> list[Entity]:
    id_, kind, repo, key, name, owner, path, span, language, attrs, valid = columns
    return list(
        map(
            Entity,
            id_,
            kind,
            repo,
            key,
            name,
            owner,
            path,
            [None if s is None else Span(*s) for s in span],
            language,
            [a if a is not None else {} for a in attrs],
            [v if v is not None else ALWAYS for v in valid],
        )
    )


def _span(span: Span | None) -> tuple[int, int, int, int] | None:
    return None if span is None else (span.start_line, span.end_line, span.start_col, span.end_col)


def document_row(d: Document) -> Row:
    return (d.entity_id, d.repo, d.kind, d.text, d.payload or None, d.vector)


def document_from_row(row: Row) -> Document:
    entity_id, repo, kind, text, payload, vector = row
    return Document(entity_id, repo, kind, text, payload if payload is not None else {}, vector)


def batch_row(b: Batch) -> Row:
    return (
        b.repo,
        entity_columns(b.entities),
        relation_columns(b.relations),
        [document_row(d) for d in b.documents],
        sorted(b.replace_scopes),
        list(b.deletions),
        dict(b.state),
    )


def batch_from_row(row: Row) -> Batch:
    repo, entities, relations, documents, scopes, deletions, state = row
    return Batch(
        repo=repo,
        entities=entities_from_columns(entities),
        relations=relations_from_columns(relations),
        documents=[document_from_row(d) for d in documents],
        replace_scopes=set(scopes),
        deletions=deletions,
        state=state,
    )


# -- extracts -------------------------------------------------------------------------------
def extract_row(x: FileExtract) -> Row:
    # The symbol table travels as its JSON (pydantic parses it faster than it constructs
    # models from Python values).
    refs = x.references
    return (
        x.path,
        x.language,
        batch_row(x.batch),
        x.symbols.model_dump_json(),
        (
            [r.src for r in refs],
            [r.name for r in refs],
            [r.kind for r in refs],
            [r.line for r in refs],
            [r.col for r in refs],
            [r.scope for r in refs],
        ),
        list(x.errors),
    )


def extract_from_row(row: Row) -> FileExtract:
    path, language, batch, table, refs, errors = row
    return FileExtract(
        path=path,
        language=language,
        batch=batch_from_row(batch),
        symbols=SymbolTable.model_validate_json(table),
        references=list(map(Reference, *refs)),
        errors=errors,
    )
