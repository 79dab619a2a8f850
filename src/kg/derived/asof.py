"""The code graph as of a commit or tag: "callers of f at v1.2".

Design: the current graph holds one version of the code, so a past version is built on demand.
``as_of`` writes the tree of that commit (``git archive``, nothing of the working tree is
touched) to a temporary directory and indexes it with the same extractors and resolvers into a
temporary SQLite store, which it yields; both vanish on exit. Ids are the same as in the main
graph (same repo name, same keys), so an id found in one can be looked up in the other. The cost
is one code index of that tree (no history, no vectors)::

    async with as_of(store, registry, "demo", "v1.2") as old:
        callers = await callers_of(old, "demo", "pkg.mod.f")
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import tarfile
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from extractors.registry import ExtractorRegistry
from kg.errors import InvalidInput, NotFound
from kg.model import Entity, EntityKind, RelationKind
from kg.pipeline import Indexer
from kg.stores.base import EntityQuery, GraphStore
from kg.stores.sqlite import SqliteGraphStore


async def repo_root(store: GraphStore, repo: str) -> Path:
    found = await store.find(EntityQuery(repo=repo, kinds=[EntityKind.REPOSITORY], limit=1))
    root = found[0].attrs.get("root") if found else None
    if not isinstance(root, str):
        raise NotFound(f"repository {repo!r} is not indexed (no root known); run `kg index` first")
    return Path(root)


def _export(root: Path, rev: str, dest: Path) -> str:
    """Write the tree of ``rev`` under ``root`` into ``dest``; returns the commit sha."""
    sha = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", "-q", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not sha or rev.startswith("-"):
        raise InvalidInput(
            f"{rev!r} names no commit in {root}; pass a sha, a branch or a tag (git tag -l)"
        )
    tar = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", f"{sha}:./"],
        capture_output=True,
        check=False,
    )
    if tar.returncode != 0:
        raise InvalidInput(f"git archive {sha} failed in {root}: {tar.stderr.decode()[:200]}")
    with tarfile.open(fileobj=io.BytesIO(tar.stdout)) as archive:
        archive.extractall(dest, filter="data")
    return sha


@asynccontextmanager
async def as_of(
    store: GraphStore, registry: ExtractorRegistry, repo: str, rev: str
) -> AsyncIterator[GraphStore]:
    """A temporary graph of ``repo``'s code at ``rev`` (a sha, branch or tag)."""
    root = await repo_root(store, repo)
    with tempfile.TemporaryDirectory(prefix="kg-asof-") as tmp:
        tree = Path(tmp) / "tree"
        tree.mkdir()
        sha = await asyncio.to_thread(_export, root, rev, tree)
        old = SqliteGraphStore(Path(tmp) / "graph.db")
        await old.start()
        try:
            await Indexer(old, registry, history=False).index(tree, repo)
            await old.set_state(repo, "as_of", sha)
            yield old
        finally:
            await old.close()


async def find_symbol(store: GraphStore, repo: str, qualname: str) -> list[Entity]:
    """Functions/classes whose qualified name (``pkg.mod.Class.f``) or name is ``qualname``."""
    tail = qualname.rsplit(".", 1)[-1]
    found = await store.find(
        EntityQuery(repo=repo, kinds=[EntityKind.FUNCTION, EntityKind.CLASS], name=tail, limit=1000)
    )
    exact = [e for e in found if e.attrs.get("qualname") == qualname]
    return exact or ([] if "." in qualname else found)


async def callers_of(store: GraphStore, repo: str, qualname: str) -> list[Entity]:
    """Entities with a CALLS edge into the symbol(s) named ``qualname``."""
    targets = await find_symbol(store, repo, qualname)
    edges = await store.neighbors([t.id for t in targets], [RelationKind.CALLS], "in")
    callers = {nb.entity.id: nb.entity for nbs in edges.values() for nb in nbs}
    return sorted(callers.values(), key=lambda e: e.key)
