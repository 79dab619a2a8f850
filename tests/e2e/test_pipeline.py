"""The indexing pipeline end to end on real files, real git, real SQLite and real Qdrant edge."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kg.events.base import Event
from kg.model import EntityKind, RelationKind
from kg.pipeline import FileChange
from kg.runtime import Runtime, open_runtime
from kg.settings import Settings
from kg.stores.base import EntityQuery

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Ada",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}

FILES = {
    "pkg/__init__.py": "",
    "pkg/util.py": (
        '"""Helpers."""\n\n\ndef slugify(text: str) -> str:\n'
        '    """Turn a title into a url slug."""\n    return text.lower().replace(" ", "-")\n'
    ),
    "pkg/app.py": (
        "from pkg.util import slugify\n\n\nclass Page:\n"
        "    def url(self) -> str:\n        return '/' + slugify(self.title())\n\n"
        "    def title(self) -> str:\n        return 'Hello World'\n\n\n"
        "def main() -> None:\n    print(Page().url())\n"
    ),
}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, env=GIT_ENV, capture_output=True)


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    root.mkdir()
    write(root, dict(FILES))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first")
    return root


@pytest.fixture
async def rt(tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(
        graph_url=f"sqlite:///{tmp_path}/kg/graph.db", vector_url=f"edge:///{tmp_path}/kg/vec"
    )
    async with open_runtime(settings) as runtime:
        yield runtime


async def one(rt: Runtime, kind: EntityKind, name: str) -> str:
    found = await rt.store.find(EntityQuery(kinds=[kind], name=name))
    assert len(found) == 1, (kind, name, found)
    return found[0].id


@pytest.mark.slow
async def test_index_builds_graph_vectors_and_is_idempotent(rt: Runtime, repo: Path) -> None:
    sub = rt.bus.subscribe(["graph.delta"])
    first = await rt.indexer().index(repo)
    assert first.files_changed == 3
    assert first.commits == 1
    assert first.embedded > 0

    url = await one(rt, EntityKind.FUNCTION, "url")
    slugify = await one(rt, EntityKind.FUNCTION, "slugify")
    calls = await rt.store.neighbors([url], [RelationKind.CALLS], "out")
    targets = {n.entity.id: n.relation for n in calls[url]}
    assert slugify in targets, "cross-file call through an import must be resolved"
    assert targets[slugify].confidence >= 0.9
    assert targets[slugify].provenance.startswith("code:")

    event: Event | None = None
    async for received in sub:
        event = received
        break
    assert event is not None and event.type == "graph.delta"
    assert event.payload["repo"] == "demo" and event.payload["added"]

    again = await rt.indexer().index(repo)
    assert again.files_changed == 0 and again.commits == 0
    assert not again.wrote_anything, "unchanged tree must not write"
    assert again.embedded == 0, "unchanged text must not be embedded again"

    hits = await rt.service().search("make a url slug from a title", first=5)
    assert any(h.entity.id == slugify for h in hits)


@pytest.mark.slow
async def test_incremental_edit_rename_delete_matches_fresh_index(
    rt: Runtime, repo: Path, tmp_path: Path
) -> None:
    await rt.indexer().index(repo)
    # Rename slugify -> to_slug in util.py only: app.py's call no longer binds to a function.
    (repo / "pkg/util.py").write_text(FILES["pkg/util.py"].replace("slugify", "to_slug"))
    report = await rt.indexer().index(repo)
    assert report.files_changed == 1
    assert report.files_resolved == 2, "app.py depends on util.py and must be re-resolved"
    assert not await rt.store.find(EntityQuery(kinds=[EntityKind.FUNCTION], name="slugify"))
    url = await one(rt, EntityKind.FUNCTION, "url")
    calls = await rt.store.neighbors([url], [RelationKind.CALLS], "out")
    assert all(n.entity.name != "slugify" for n in calls[url])

    (repo / "pkg/app.py").unlink()
    report = await rt.indexer().index(repo)
    assert report.files_deleted == 1
    assert not await rt.store.find(EntityQuery(kinds=[EntityKind.FUNCTION], name="url"))

    fresh_settings = Settings(graph_url=f"sqlite:///{tmp_path}/fresh.db", embed=False)
    async with open_runtime(fresh_settings) as fresh:
        await fresh.indexer(embed=False).index(repo)
        for kind in (EntityKind.FILE, EntityKind.MODULE, EntityKind.FUNCTION, EntityKind.CLASS):
            q = EntityQuery(kinds=[kind], limit=1000)
            inc = sorted(e.id for e in await rt.store.find(q))
            new = sorted(e.id for e in await fresh.store.find(q))
            assert inc == new, kind
        code = [RelationKind.CALLS, RelationKind.IMPORTS, RelationKind.DEFINES]
        inc_rel = {r.id for r in await rt.store.relations("demo", code)}
        new_rel = {r.id for r in await fresh.store.relations("demo", code)}
        assert inc_rel == new_rel


async def test_bad_files_are_skipped_with_reasons(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    write(
        root,
        {
            "ok.py": "def fine():\n    return 1\n",
            "broken.py": "def good():\n    return 1\n\ndef bad(:\n    pass\n",
            "blob.py": b"\x00\x01\x02binary",
            "latin.py": "x = 'caf\xe9'\n".encode("latin-1"),
            "big.py": "x = 1\n" * 300_000,
            "empty.py": "",
            "notes.txt": "hello",
            "gen.py": "x = [" + "1," * 6000 + "]\n",
        },
    )
    settings = Settings(graph_url=f"sqlite:///{tmp_path}/g.db", embed=False)
    async with open_runtime(settings) as rt:
        report = await rt.indexer(embed=False).index(root)
        assert report.skipped == {
            "binary": 1,
            "non-utf8": 1,
            "huge": 1,
            "empty": 1,
            "generated": 1,
        }
        assert report.unknown_extension == 1
        assert report.files_changed == 2
        assert any("not a git repository" in n for n in report.notes)
        # the syntax error does not cost the file its good function
        assert await rt.store.find(EntityQuery(kinds=[EntityKind.FUNCTION], name="good"))
        assert report.parse_errors


async def test_update_files_applies_only_the_change(repo: Path, tmp_path: Path) -> None:
    settings = Settings(graph_url=f"sqlite:///{tmp_path}/u.db", embed=False)
    async with open_runtime(settings) as rt:
        indexer = rt.indexer(embed=False)
        await indexer.index(repo)
        # An editor buffer (not yet on disk) adds a helper and calls it.
        buffer = (
            FILES["pkg/util.py"] + "\n\ndef shout(text: str) -> str:\n    return text.upper()\n"
        )
        report = await indexer.update_files(repo, [FileChange("pkg/util.py", buffer.encode())])
        # app.py reads util.py but mentions no name the edit changed: not re-resolved
        assert (report.files_changed, report.files_resolved) == (1, 1)
        assert await rt.store.find(EntityQuery(kinds=[EntityKind.FUNCTION], name="shout"))
        same = await indexer.update_files(repo, [FileChange("pkg/util.py", buffer.encode())])
        assert same.files_changed == 0 and not same.wrote_anything
        gone = await indexer.update_files(repo, [FileChange("pkg/app.py", deleted=True)])
        assert gone.files_deleted == 1
        assert not await rt.store.find(EntityQuery(kinds=[EntityKind.CLASS], name="Page"))
        bad = await indexer.update_files(repo, [FileChange("pkg/bin.py", b"\x00\x01")])
        assert bad.skipped == {"binary": 1} and not bad.wrote_anything


async def test_moving_lines_does_not_ripple_but_new_modules_do(repo: Path, tmp_path: Path) -> None:
    settings = Settings(graph_url=f"sqlite:///{tmp_path}/r.db", embed=False)
    async with open_runtime(settings) as rt:
        await rt.indexer(embed=False).index(repo)
        # A fresh indexer (cache loaded from the store, as after a restart).
        indexer = rt.indexer(embed=False)
        shifted = "# a comment that moves every line down\n\n" + FILES["pkg/util.py"]
        report = await indexer.update_files(repo, [FileChange("pkg/util.py", shifted.encode())])
        assert (report.files_changed, report.files_resolved) == (1, 1)

        # app.py imports a module that does not exist yet: the call points outside the project
        app = FILES["pkg/app.py"] + "\nfrom pkg.extra import helper\n\n\ndef run() -> None:\n"
        app += "    helper()\n"
        await indexer.update_files(repo, [FileChange("pkg/app.py", app.encode())])
        extra = "def helper() -> int:\n    return 1\n"
        report = await indexer.update_files(repo, [FileChange("pkg/extra.py", extra.encode())])
        assert report.files_resolved >= 2, "the importer of a new module must be re-resolved"
        run = await one(rt, EntityKind.FUNCTION, "run")
        helper = await one(rt, EntityKind.FUNCTION, "helper")
        calls = await rt.store.neighbors([run], [RelationKind.CALLS], "out")
        assert helper in {n.entity.id for n in calls[run]}
