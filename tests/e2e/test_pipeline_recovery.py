"""A run whose store write fails part way (a lost connection, a full disk) is redone whole by
the next run: no file is taken for indexed while its edges are missing, whichever write failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import kg.pipeline
from kg.errors import StoreError
from kg.model import Batch, GraphDelta, RelationKind
from kg.pipeline import Indexer
from kg.runtime import open_runtime
from kg.settings import Settings
from kg.stores.base import GraphStore

CODE = [RelationKind.CALLS, RelationKind.IMPORTS, RelationKind.REFERENCES, RelationKind.INHERITS]
FILES = {
    "pkg/__init__.py": "from .core import helper\n",
    "pkg/core.py": "def helper(x):\n    return x\n\n\nclass Base:\n    pass\n",
    **{
        f"pkg/m{i}.py": (
            f"from pkg.core import helper, Base\n\n\nclass C{i}(Base):\n"
            f"    def run(self):\n        return helper({i})\n"
        )
        for i in range(12)
    },
}


class FailingStore:
    """The real store, except that its ``nth`` apply raises (0: never)."""

    def __init__(self, store: GraphStore, nth: int) -> None:
        self._store, self.nth, self.applies = store, nth, 0

    async def apply(self, batch: Batch) -> GraphDelta:
        self.applies += 1
        if self.applies == self.nth:
            raise StoreError("lost the graph store (test)")
        return await self._store.apply(batch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def _relations(store: GraphStore, repo: str) -> set[tuple[str, float]]:
    return {(r.id, r.confidence) for r in await store.relations(repo, CODE)}


@pytest.mark.parametrize("nth", [1, 3, 4, 6, 7])
async def test_a_failed_write_is_redone_by_the_next_run(
    tmp_path: Path, nth: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small chunks: the files, their resolution and the closing write are 3 + 3 + 1 batches.
    monkeypatch.setattr(kg.pipeline, "CHUNK_FILES", 5)
    root = tmp_path / "proj"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    fresh_settings = Settings(graph_url=f"sqlite:///{tmp_path}/f.db", embed=False, history=False)
    async with open_runtime(fresh_settings) as fresh:
        await fresh.indexer(embed=False).index(root)
        expected = await _relations(fresh.store, "proj")
    settings = Settings(graph_url=f"sqlite:///{tmp_path}/g.db", embed=False, history=False)
    async with open_runtime(settings) as rt:
        failing = FailingStore(rt.store, nth)
        indexer = Indexer(failing, rt.registry, history=False)
        with pytest.raises(StoreError, match="test"):
            await indexer.index(root)
        assert failing.applies == nth
        # The same long-lived indexer, and a new one (a new process), both finish it.
        again = await indexer.index(root)
        assert again.files_changed > 0
        assert await _relations(rt.store, "proj") == expected
        after = await Indexer(rt.store, rt.registry, history=False).index(root)
        assert after.files_changed == 0
