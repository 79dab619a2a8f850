"""History end to end: a real git repository built here, indexed by the real pipeline (Python
extractor, git + per-symbol history extractors, SQLite), then queried: a function's history
across a rename, ownership, co-change, callers as of a tag, a deleted file's history, identities.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from extractors.code.python import PythonExtractor
from extractors.discussions.export import export_batch
from extractors.discussions.webhook import payload_batch
from extractors.git import GitExtractor
from extractors.history.extractor import SymbolHistoryExtractor
from extractors.registry import ExtractorRegistry
from kg.derived.asof import as_of, callers_of
from kg.derived.discussions import ingest_discussions
from kg.derived.ownership import churn, owners, symbol_history
from kg.model import EntityKind, RelationKind, entity_id
from kg.pipeline import Indexer
from kg.stores.base import GraphStore
from kg.stores.sqlite import SqliteGraphStore

REPO = "hist"
ADA = ("Ada Lovelace", "ada@example.com")
BOB = ("Bob Builder", "bob@example.com")


class Repo:
    def __init__(self, root: Path) -> None:
        self.root, self.tick = root, 0
        root.mkdir(parents=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, who: tuple[str, str] = ADA) -> str:
        self.tick += 1
        date = f"2024-01-{1 + self.tick // 24:02d}T{self.tick % 24:02d}:00:00+00:00"
        env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": who[0],
            "GIT_AUTHOR_EMAIL": who[1],
            "GIT_COMMITTER_NAME": who[0],
            "GIT_COMMITTER_EMAIL": who[1],
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
        }
        out = subprocess.run(
            ["git", "-C", str(self.root), *args], check=True, capture_output=True, env=env
        )
        return out.stdout.decode().strip()

    def commit(self, msg: str, files: dict[str, str | None], who: tuple[str, str] = ADA) -> str:
        for path, text in files.items():
            target = self.root / path
            if text is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", msg, who=who)
        return self.git("rev-parse", "HEAD")


def registry() -> ExtractorRegistry:
    return ExtractorRegistry([PythonExtractor(), GitExtractor(), SymbolHistoryExtractor()])


CORE_V1 = """def parse(text):
    items = text.split(",")
    items = [i.strip() for i in items]
    return [i for i in items if i]


def render(items):
    return ", ".join(items)
"""
APP_V1 = """from pkg.core import parse, render


def main(text):
    return render(parse(text))


def other(text):
    return parse(text)
"""


@pytest.fixture
async def indexed(tmp_path: Path) -> AsyncIterator[tuple[Repo, GraphStore, dict[str, str]]]:
    r = Repo(tmp_path / "repo")
    shas: dict[str, str] = {}
    shas["init"] = r.commit(
        "Add core and app",
        {
            "pkg/__init__.py": "",
            "pkg/core.py": CORE_V1,
            "pkg/app.py": APP_V1,
            "notes.txt": "notes\n",
        },
    )
    shas["tune"] = r.commit(
        "Tune parse",
        {
            "pkg/core.py": CORE_V1.replace('split(",")', 'split(";")'),
            "pkg/app.py": APP_V1.replace("render(parse", "render( parse"),
        },
        who=BOB,
    )
    r.git("tag", "v1.2")
    # rename parse -> parse_items (body unchanged), update callers; drop `other`
    core2 = CORE_V1.replace('split(",")', 'split(";")').replace("def parse(", "def parse_items(")
    app2 = (
        "from pkg.core import parse_items, render\n\n\n"
        "def main(text):\n    return render(parse_items(text))\n"
    )
    shas["rename"] = r.commit(
        "Rename parse to parse_items",
        {
            "pkg/core.py": core2,
            "pkg/app.py": app2,
            "notes.txt": None,
        },
    )
    shas["grow"] = r.commit(
        "parse_items: drop blanks",
        {
            "pkg/core.py": core2.replace("if i]", "if i and not i.isspace()]"),
            "pkg/app.py": app2 + "\n\ndef extra():\n    return 1\n",
        },
        who=("B. Builder", "bob@example.com"),
    )
    store = SqliteGraphStore(tmp_path / "g.db")
    await store.start()
    try:
        await Indexer(store, registry()).index(r.root, REPO)
        yield r, store, shas
    finally:
        await store.close()


def fn(key: str) -> str:
    return entity_id(EntityKind.FUNCTION, REPO, key)


async def test_function_history_across_rename(
    indexed: tuple[Repo, GraphStore, dict[str, str]],
) -> None:
    _, store, shas = indexed
    new, old = fn("pkg/core.py::parse_items"), fn("pkg/core.py::parse")
    [renamed] = (await store.neighbors([new], [RelationKind.RENAMED_TO], "in"))[new]
    assert renamed.entity.id == old
    assert renamed.entity.attrs["historical"] is True  # gone at HEAD, kept by the history
    assert renamed.relation.confidence == 0.95  # identical body, new name
    assert renamed.relation.attrs["commit"] == shas["rename"]
    history = await symbol_history(store, new)
    assert [c.commit.key for c in history] == [
        shas["grow"],
        shas["rename"],
        shas["tune"],
        shas["init"],
    ]
    assert [c.change for c in history] == ["M", "R", "M", "A"]
    assert history[0].added == 1 and history[0].removed == 1
    assert history[2].target == old and history[2].confidence == 0.95
    c = await churn(store, new)
    assert c.commits == 4 and c.first is not None and c.last is not None and c.first < c.last


async def test_ownership_ranking_and_identity_merge(
    indexed: tuple[Repo, GraphStore, dict[str, str]],
) -> None:
    _, store, _ = indexed
    app = entity_id(EntityKind.FILE, REPO, "pkg/app.py")
    ranked = await owners(store, app)
    assert [o.person.name for o in ranked] == ["Ada Lovelace", "Bob Builder"] or [
        o.person.attrs["email"] for o in ranked
    ] == ["ada@example.com", "bob@example.com"]
    bob = next(o for o in ranked if o.person.attrs["email"] == "bob@example.com")
    assert bob.commits == 2  # "Bob Builder" and "B. Builder" share the email: one person
    assert sorted(bob.person.attrs["aliases"]) == ["B. Builder", "Bob Builder"]
    ranked_fn = await owners(store, fn("pkg/core.py::parse_items"), half_life_days=0.05)
    assert ranked_fn[0].person.attrs["email"] == "bob@example.com"  # the most recent change


async def test_cochange_pairs(indexed: tuple[Repo, GraphStore, dict[str, str]]) -> None:
    _, store, _ = indexed
    core = entity_id(EntityKind.FILE, REPO, "pkg/core.py")
    app = entity_id(EntityKind.FILE, REPO, "pkg/app.py")
    edges = (await store.neighbors([core], [RelationKind.CO_CHANGES], "out"))[core]
    by_dst = {nb.entity.id: nb.relation for nb in edges}
    assert by_dst[app].attrs["support"] == 4
    assert by_dst[app].attrs["confidence"] == 1.0
    notes = entity_id(EntityKind.FILE, REPO, "notes.txt")
    assert notes in by_dst and by_dst[notes].attrs["support"] == 2


async def test_deleted_file_keeps_its_history(
    indexed: tuple[Repo, GraphStore, dict[str, str]],
) -> None:
    _, store, shas = indexed
    notes = entity_id(EntityKind.FILE, REPO, "notes.txt")
    [entity] = await store.get([notes])
    assert entity is not None and entity.attrs["historical"] is True
    assert entity.valid.to_commit == shas["rename"]
    mods = (await store.neighbors([notes], [RelationKind.MODIFIES], "in"))[notes]
    assert {nb.entity.key for nb in mods} == {shas["init"], shas["rename"]}


async def test_callers_as_of_tag(indexed: tuple[Repo, GraphStore, dict[str, str]]) -> None:
    _, store, _ = indexed
    now = await callers_of(store, REPO, "pkg.core.parse_items")
    assert [e.name for e in now] == ["main"]
    assert await callers_of(store, REPO, "pkg.core.parse") == []
    async with as_of(store, registry(), REPO, "v1.2") as old:
        then = await callers_of(old, REPO, "pkg.core.parse")
        assert [e.name for e in then] == ["main", "other"]
        assert then[0].id == fn("pkg/app.py::main")  # same ids as the current graph


async def test_incremental_run_adds_only_new_commits(
    indexed: tuple[Repo, GraphStore, dict[str, str]],
) -> None:
    r, store, _ = indexed
    again = await Indexer(store, registry()).index(r.root, REPO)
    assert again.commits == 0 and not again.wrote_anything
    sha = r.commit(
        "render: sort",
        {
            "pkg/core.py": (r.root / "pkg/core.py")
            .read_text()
            .replace('return ", ".join(items)', 'return ", ".join(sorted(items))'),
        },
    )
    report = await Indexer(store, registry()).index(r.root, REPO)
    assert report.commits == 1
    render = fn("pkg/core.py::render")
    history = await symbol_history(store, render)
    assert history[0].commit.key == sha and (history[0].added, history[0].removed) == (1, 1)
    # the renamed function's old edges survived the code stage re-extracting its file
    assert len(await symbol_history(store, fn("pkg/core.py::parse_items"))) == 4


def recorded_export() -> dict[str, list[dict[str, object]]]:
    """The REST objects of the recorded acme/widgets responses (tests/fixtures/github)."""
    fixture = Path(__file__).parents[1] / "fixtures" / "github" / "acme-widgets.json"
    routes = json.loads(fixture.read_text())["routes"]
    bodies = {
        r["path"].split("/repos/acme/widgets/")[1]: r["body"] for r in routes if r["status"] == 200
    }
    return {
        "issues": bodies["issues"],
        "pulls": bodies["pulls"],
        "comments": bodies["issues/comments"],
        "review_comments": bodies["pulls/comments"],
        "reviews": bodies["pulls/9/reviews"],
    }


async def test_discussions_link_to_symbols_commits_and_issues(
    indexed: tuple[Repo, GraphStore, dict[str, str]],
) -> None:
    r, store, shas = indexed
    fix = r.commit(
        "Faster parse_items, fixes #7 (#9)",
        {
            "pkg/core.py": (r.root / "pkg/core.py").read_text() + "\n\nCACHE = {}\n",
        },
    )
    await Indexer(store, registry()).index(r.root, REPO)
    report = await ingest_discussions(store, export_batch(REPO, recorded_export()))
    assert report.commits_relinked == 1 and report.links > 0

    issue = entity_id(EntityKind.ISSUE, REPO, "#7")
    pull = entity_id(EntityKind.PULL_REQUEST, REPO, "#9")
    parse_items = fn("pkg/core.py::parse_items")
    core = entity_id(EntityKind.FILE, REPO, "pkg/core.py")
    out = await store.neighbors([issue, pull], None, "out")
    issue_links = {(nb.relation.kind, nb.entity.id) for nb in out[issue]}
    assert (RelationKind.MENTIONS, parse_items) in issue_links  # `parse_items` in its body
    assert (RelationKind.MENTIONS, core) in issue_links  # pkg/core.py in its body
    assert (RelationKind.CLOSES, issue) in {(nb.relation.kind, nb.entity.id) for nb in out[pull]}
    commit = entity_id(EntityKind.COMMIT, REPO, fix)
    from_commit = {
        (nb.relation.kind, nb.entity.id, nb.relation.attrs.get("role"))
        for nb in (await store.neighbors([commit], None, "out"))[commit]
    }
    assert (RelationKind.CLOSES, issue, None) in from_commit
    assert (RelationKind.MENTIONS, pull, "squash") in from_commit
    review = entity_id(EntityKind.COMMENT, REPO, "review-comment:401")
    on = {
        nb.entity.id: nb.relation.confidence
        for nb in (await store.neighbors([review], [RelationKind.COMMENTS_ON], "out"))[review]
    }
    assert on == {pull: 1.0, core: 1.0, parse_items: 0.8}  # line 2 is inside parse_items

    # a webhook comment naming a commit by short sha and a symbol: MENTIONS both
    payload = {
        "action": "created",
        "issue": recorded_export()["issues"][0],
        "comment": {
            "id": 999,
            "body": f"Bisected to {shas['rename'][:9]}, see `render()`.",
            "user": {"login": "carol", "id": 3},
            "created_at": "2024-02-06T00:00:00Z",
            "html_url": "https://github.com/acme/widgets/issues/7#issuecomment-999",
        },
    }
    batch = payload_batch(REPO, "issue_comment", payload)
    assert batch is not None
    await ingest_discussions(store, batch)
    comment = entity_id(EntityKind.COMMENT, REPO, "issue-comment:999")
    mentions = {
        nb.entity.id
        for nb in (await store.neighbors([comment], [RelationKind.MENTIONS], "out"))[comment]
    }
    assert mentions == {
        entity_id(EntityKind.COMMIT, REPO, shas["rename"]),
        fn("pkg/core.py::render"),
    }


async def test_function_deleted_later_keeps_its_history(
    indexed: tuple[Repo, GraphStore, dict[str, str]],
) -> None:
    r, store, shas = indexed
    render = fn("pkg/core.py::render")
    before = [c.commit.key for c in await symbol_history(store, render)]
    assert before == [shas["init"]]  # alive at HEAD: the code stage owns it
    core = (r.root / "pkg/core.py").read_text()
    dropped = r.commit(
        "Drop render",
        {
            "pkg/core.py": core[: core.index("def render")].rstrip() + "\n",
            "pkg/app.py": "def main(text):\n    return text\n",
        },
    )
    await Indexer(store, registry()).index(r.root, REPO)
    [entity] = await store.get([render])
    assert entity is not None and entity.attrs["historical"] is True
    assert entity.valid.to_commit == dropped
    after = [(c.commit.key, c.change) for c in await symbol_history(store, render)]
    assert after == [(dropped, "D"), (shas["init"], "A")]  # the old edge was re-derived
