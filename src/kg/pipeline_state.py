"""What the indexing pipeline stores about each file besides the graph, and the batches that
carry it: content hashes (salted with the extractor's name and version), symbol tables,
dependencies, identifiers used and external entities pointed at, as ``state`` entries under
these prefixes. A run writes the files' entities first, their resolved edges next, and the
hashes and tables that mark them indexed last (``done_batch``)::

    batches = file_batches("repo", extracts, deleted, chunk=200)
    decode_into(cache, tables, deps, uses, externals)   # read back: kg.pipeline
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence

from pydantic import ValidationError

from extractors.base import FileExtract, FileExtractor, SymbolTable
from kg.bulk import Resolved
from kg.impact import RepoCache
from kg.model import Batch, content_hash, file_scope, resolve_scope
from kg.parallel import gc_paused

log = logging.getLogger(__name__)

HASH = "hash:"
SYMTAB = "symtab:"
DEPS = "deps:"
USES = "uses:"
EXT = "ext:"


def salted_hash(extractor: FileExtractor, data: bytes) -> str:
    """A file's stored hash: another extractor version makes every file changed."""
    return content_hash(f"{extractor.name}@{extractor.version}\0".encode() + data)


def file_batches(
    repo: str,
    extracts: Mapping[str, FileExtract],
    deleted: Sequence[str],
    chunk: int,
) -> Iterable[Batch]:
    """The files' own entities and edges, ``chunk`` files a batch, then one batch removing
    what the deleted files made (their hashes and tables go last, with ``done_batch``)."""
    items = sorted(extracts.items())
    for start in range(0, len(items), chunk):
        batch = Batch(repo=repo)
        for path, ex in items[start : start + chunk]:
            batch.extend(ex.batch)
            batch.replace_scopes.add(file_scope(repo, path))
        yield batch
    if deleted:
        batch = Batch(repo=repo)
        for path in deleted:
            batch.replace_scopes |= {file_scope(repo, path), resolve_scope(repo, path)}
            for prefix in (DEPS, USES, EXT):
                batch.state[prefix + path] = None
        yield batch


def done_batch(
    repo: str,
    extracts: Mapping[str, FileExtract],
    hashes: Mapping[str, str],
    deleted: Sequence[str],
) -> Batch:
    """The last write of a run: the hashes and symbol tables that say a file is indexed.
    Until it lands, a later run sees the files as changed (and compares interfaces with
    the tables from before), so a run that fails part way is redone whole, never taken
    for done with edges missing."""
    batch = Batch(repo=repo)
    for path, ex in extracts.items():
        batch.state[HASH + path] = hashes[path]
        batch.state[SYMTAB + path] = ex.symbols.model_dump_json()
    for path in deleted:
        batch.state[HASH + path] = batch.state[SYMTAB + path] = None
    return batch


def resolved_batch(repo: str, items: Sequence[Resolved], cache: RepoCache) -> Batch:
    """The resolved edges of ``items`` with what the cache keeps of them (also recorded)."""
    batch = Batch(repo=repo)
    for item in items:
        scope = resolve_scope(repo, item.path)
        batch.replace_scopes.add(scope)
        if item.deps is None:
            continue
        batch.relations += [r if r.owner == scope else r.with_owner(scope) for r in item.relations]
        batch.entities += item.entities
        cache.deps[item.path] = item.deps
        batch.state[DEPS + item.path] = json.dumps(sorted(item.deps))
        cache.uses[item.path] = item.uses
        batch.state[USES + item.path] = json.dumps(sorted(item.uses))
        externals = frozenset(e.id for e in item.entities)
        cache.point(item.path, externals)
        batch.state[EXT + item.path] = json.dumps(sorted(externals))
    return batch


def decode_into(
    cache: RepoCache,
    tables: Mapping[str, str],
    deps: Mapping[str, str],
    uses: Mapping[str, str],
    externals: Mapping[str, str],
) -> None:
    """Fill ``cache`` from the pipeline's stored state (keys keep their prefixes); what the
    cache already holds is newer and stays."""
    with gc_paused():
        for key, raw in tables.items():
            path = key[len(SYMTAB) :]
            if path in cache.tables:
                continue
            try:
                cache.tables[path] = SymbolTable.model_validate_json(raw)
            except ValidationError:
                log.warning("ignoring unreadable symbol table of %s (re-index to refresh)", key)
        for key, raw in deps.items():
            cache.deps.setdefault(key[len(DEPS) :], set(json.loads(raw)))
        for key, raw in uses.items():
            cache.uses.setdefault(key[len(USES) :], frozenset(json.loads(raw)))
        for key, raw in externals.items():
            cache.externals.setdefault(key[len(EXT) :], frozenset(json.loads(raw)))
    cache.partial = False
