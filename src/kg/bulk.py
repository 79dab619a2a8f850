"""The pipeline's CPU-bound code stages, extraction and resolution, on two cores when large.

Both run in a worker thread; past a size where a fork pays for itself (about half a second of
work) :func:`kg.parallel.split_fork` hands a share to a forked child, which inherits the
extractors, symbol tables and resolver index copy-on-write and sends its results back as
:mod:`kg.wire` rows. Results are the same either way (``tests/e2e/test_pipeline_parallel.py``)::

    extracts = extract_files("repo", [(path, extractor, data)], progress)
    resolved = resolve_files("repo", list(zip(paths, extracts)), tables, resolver_of)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from extractors.base import FileExtract, FileExtractor, Resolver, SourceFile, SymbolTable
from kg.impact import uses_of
from kg.model import Entity, Relation
from kg.parallel import split_fork
from kg.wire import (
    Row,
    entity_from_row,
    entity_row,
    extract_from_row,
    extract_row,
    relation_from_row,
    relation_row,
)

# Work below these sizes stays in process (a fork of a large heap costs tens of
# milliseconds): about half a second of extraction or resolution, so an edit never forks.
FORK_EXTRACT_BYTES = 1_000_000
FORK_RESOLVE_REFERENCES = 30_000

Progress = Callable[[int, int], None]  # (done, total), called in the calling process only


@dataclass(slots=True)
class Resolved:
    """One file's resolution: its edges and entities, and what the repository cache keeps of
    it (``deps`` None: no resolver for its language)."""

    path: str
    relations: list[Relation] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    deps: set[str] | None = None
    uses: frozenset[str] = frozenset()

    def row(self) -> Row:
        return (
            self.path,
            [relation_row(r) for r in self.relations],
            [entity_row(e) for e in self.entities],
            None if self.deps is None else sorted(self.deps),
            sorted(self.uses),
        )

    @staticmethod
    def from_row(row: Row) -> Resolved:
        path, relations, entities, deps, uses = row
        return Resolved(
            path,
            [relation_from_row(r) for r in relations],
            [entity_from_row(e) for e in entities],
            None if deps is None else set(deps),
            frozenset(uses),
        )


def extract_files(
    repo: str, items: Sequence[tuple[str, FileExtractor, bytes]], progress: Progress
) -> list[FileExtract]:
    """Each file's extract, in ``items`` order."""
    parent = os.getpid()

    def work(part: Sequence[tuple[str, FileExtractor, bytes]]) -> list[FileExtract]:
        out: list[FileExtract] = []
        for path, extractor, data in part:
            out.append(extractor.extract_file(SourceFile(repo=repo, path=path, data=data)))
            if len(out) % 50 == 0 and os.getpid() == parent:
                progress(len(out), len(items))
        return out

    extracts = split_fork(
        items,
        work,
        weight=lambda item: len(item[2]),
        min_weight=FORK_EXTRACT_BYTES,
        encode=extract_row,
        decode=extract_from_row,
    )
    progress(len(items), len(items))
    return extracts


def resolve_files(
    repo: str,
    items: Sequence[tuple[str, FileExtract]],
    tables: Mapping[str, SymbolTable],
    resolver_of: Mapping[str, Resolver | None],
) -> list[Resolved]:
    """Each file's resolution against ``tables``, in ``items`` order; ``resolver_of`` maps
    every path to its language's resolver (asked for before any fork)."""

    def work(part: Sequence[tuple[str, FileExtract]]) -> list[Resolved]:
        out: list[Resolved] = []
        for path, ex in part:
            resolver = resolver_of.get(path)
            if resolver is None:
                out.append(Resolved(path))
                continue
            batch = resolver.resolve(repo, ex, tables)
            deps = resolver.depends_on(ex.symbols, tables) - {path}
            out.append(Resolved(path, batch.relations, batch.entities, deps, uses_of(ex)))
        return out

    return split_fork(
        items,
        work,
        weight=lambda item: len(item[1].references) + 10,
        min_weight=FORK_RESOLVE_REFERENCES,
        encode=Resolved.row,
        decode=Resolved.from_row,
        # The parent also writes the extracted files to the store meanwhile (the pipeline).
        child_share=0.65,
    )
