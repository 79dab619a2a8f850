"""Indexing on two cores gives the very graph, state and incremental behaviour of indexing
in one process (real code: codekg's own source, real SQLite)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import kg.bulk as bulk
import kg.parallel as parallel
from kg.model import RelationKind
from kg.pipeline import FileChange
from kg.runtime import Runtime, open_runtime
from kg.settings import Settings
from kg.stores.base import EntityQuery

SRC = Path(__file__).resolve().parents[2] / "src"
CODE = [RelationKind.CALLS, RelationKind.IMPORTS, RelationKind.REFERENCES, RelationKind.INHERITS]


def corpus(tmp: Path) -> Path:
    root = tmp / "proj"
    for pkg in ("extractors", "kg"):
        shutil.copytree(SRC / pkg, root / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return root


async def graph(rt: Runtime, repo: str) -> tuple[object, ...]:
    entities = sorted((e.id, e.owner, e.name, e.span) for e in await rt.store.find(EntityQuery()))
    relations = sorted(
        (r.id, r.confidence, r.provenance, r.owner)
        for r in await rt.store.relations(
            repo, [*CODE, RelationKind.DEFINES, RelationKind.CONTAINS]
        )
    )
    return entities, relations, await rt.store.states(repo, "")


async def index(tmp: Path, root: Path, name: str) -> tuple[object, ...]:
    settings = Settings(graph_url=f"sqlite:///{tmp}/{name}.db", embed=False, history=False)
    async with open_runtime(settings) as rt:
        report = await rt.indexer(embed=False).index(root)
        assert report.files_changed >= 50 and not report.parse_errors
        return await graph(rt, root.name)


def fork_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "FORK_EXTRACT_BYTES", 1)
    monkeypatch.setattr(bulk, "FORK_RESOLVE_REFERENCES", 1)
    monkeypatch.setattr(parallel, "spare_cpu", lambda: True)  # whatever the machine's load


async def test_a_forked_index_equals_an_in_process_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = corpus(tmp_path)
    monkeypatch.setattr(bulk, "FORK_EXTRACT_BYTES", 10**12)
    monkeypatch.setattr(bulk, "FORK_RESOLVE_REFERENCES", 10**12)
    alone = await index(tmp_path, root, "alone")
    fork_everything(monkeypatch)
    forked = await index(tmp_path, root, "forked")
    assert forked == alone


async def test_edits_after_a_forked_index_equal_a_fresh_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = corpus(tmp_path)
    fork_everything(monkeypatch)
    settings = Settings(graph_url=f"sqlite:///{tmp_path}/g.db", embed=False, history=False)
    async with open_runtime(settings) as rt:
        await rt.indexer(embed=False).index(root)
        model = root / "kg" / "model.py"
        text = model.read_text().replace("def content_hash(", "def content_digest(")
        report = await rt.indexer(embed=False).update_files(
            root, [FileChange("kg/model.py", text.encode())]
        )
        assert len(report.resolved) > 10  # its importers were re-resolved through the cache
        model.write_text(text)
        edited = await graph(rt, root.name)
    entities, relations, states = await index(tmp_path, root, "fresh")
    assert edited[0] == entities and edited[1] == relations
    assert {k: v for k, v in edited[2].items() if not k.startswith("extractor:")} == {
        k: v for k, v in states.items() if not k.startswith("extractor:")
    }
