"""Per-symbol history over real git repositories built here (and this checkout's history):
outlines equal to the code extractor's, hunk mapping, renames and moves, bad input."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from extractors.base import RepoBatch, RepoContext, SourceFile
from extractors.code.python import PythonExtractor
from extractors.history.diff import parse_patches
from extractors.history.extractor import SymbolHistoryExtractor, history_scope, symbols_scope
from extractors.history.outline import outline_python
from extractors.registry import ExtractorRegistry
from kg.model import EntityKind, Relation, RelationKind, entity_id

REPO = "sym"
ROOT = Path(__file__).parents[2]
REGISTRY = ExtractorRegistry([PythonExtractor()])


class Repo:
    def __init__(self, root: Path) -> None:
        self.root, self.tick = root, 0
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        self.tick += 1
        date = f"2024-03-01T00:{self.tick // 60:02d}:{self.tick % 60:02d}+00:00"
        env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Ada",
            "GIT_AUTHOR_EMAIL": "ada@example.com",
            "GIT_COMMITTER_NAME": "Ada",
            "GIT_COMMITTER_EMAIL": "ada@example.com",
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
        }
        out = subprocess.run(
            ["git", "-C", str(self.root), *args], check=True, capture_output=True, env=env
        )
        return out.stdout.decode().strip()

    def commit(self, msg: str, files: dict[str, str | bytes | None]) -> str:
        for path, data in files.items():
            target = self.root / path
            if data is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data.encode() if isinstance(data, str) else data)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", msg)
        return self.git("rev-parse", "HEAD")


def run(root: Path, state: str | None = None) -> list[RepoBatch]:
    ctx = RepoContext(REPO, root, file_extractor=REGISTRY.for_path)
    return list(SymbolHistoryExtractor(batch_size=3).extract_repo(ctx, state))


def rels(batches: list[RepoBatch], kind: RelationKind) -> list[Relation]:
    return [r for b in batches for r in b.batch.relations if r.kind is kind]


def fn(key: str, kind: EntityKind = EntityKind.FUNCTION) -> str:
    return entity_id(kind, REPO, key)


def cid(sha: str) -> str:
    return entity_id(EntityKind.COMMIT, REPO, sha)


def test_outline_matches_the_code_extractor_on_real_files() -> None:
    files = sorted((ROOT / "src").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py"))
    assert len(files) > 100
    ex = PythonExtractor()
    kinds = (EntityKind.FUNCTION, EntityKind.CLASS)
    for path in files:
        rel, data = str(path.relative_to(ROOT)), path.read_bytes()
        full = ex.extract_file(SourceFile(REPO, rel, data)).batch.entities
        want = {(e.id, e.span) for e in full if e.kind in kinds}
        assert {(e.id, e.span) for e in outline_python(REPO, rel, data)} == want, rel


A1 = "def f(x):\n    y = x + 1\n    return y\n\n\ndef g():\n    return 2\n"
A2 = "def f(x):\n    y = x + 2\n    return y\n\n\ndef g():\n    return 2\n"
KLASS = (
    "class K:\n    def m(self, a):\n        total = a * 2\n        total += 1\n"
    "        return total\n"
)


def test_hunks_map_to_symbols_with_line_counts(tmp_path: Path) -> None:
    r = Repo(tmp_path / "r")
    first = r.commit("add", {"a.py": A1})
    second = r.commit("edit f", {"a.py": A2 + "\n\ndef h():\n    pass\n"})
    batches = run(r.root)
    mods = {(x.src, x.dst): x.attrs for x in rels(batches, RelationKind.MODIFIES)}
    assert mods[(cid(first), fn("a.py::f"))] == {
        "change": "A",
        "added": 3,
        "removed": 0,
        "path": "a.py",
    }
    assert mods[(cid(second), fn("a.py::f"))]["added"] == 1
    assert mods[(cid(second), fn("a.py::f"))]["removed"] == 1
    assert mods[(cid(second), fn("a.py::h"))]["change"] == "A"
    assert (cid(second), fn("a.py::g")) not in mods  # untouched
    assert {history_scope(REPO, first), history_scope(REPO, second)} <= batches[
        0
    ].batch.replace_scopes
    assert batches[-1].state == second
    assert run(r.root, second) == []  # resumed: nothing new


def test_rename_and_cross_file_move(tmp_path: Path) -> None:
    r = Repo(tmp_path / "r")
    r.commit("add", {"a.py": A1, "b.py": KLASS})
    renamed = r.commit("rename f", {"a.py": A1.replace("def f(", "def f2(")})
    moved = r.commit("move K to c.py", {"b.py": None, "c.py": "import os\n\n\n" + KLASS})
    pairs = {(x.src, x.dst): x for x in rels(run(r.root), RelationKind.RENAMED_TO)}
    rn = pairs[(fn("a.py::f"), fn("a.py::f2"))]
    assert (rn.confidence, rn.provenance, rn.attrs["commit"]) == (
        0.95,
        "history:body-hash",
        renamed,
    )
    cls = pairs[(fn("b.py::K", EntityKind.CLASS), fn("c.py::K", EntityKind.CLASS))]
    assert cls.confidence == 1.0 and cls.attrs["commit"] == moved  # same name, same body
    meth = pairs[(fn("b.py::K.m"), fn("c.py::K.m"))]
    assert meth.confidence == 1.0


def test_similar_body_rename_has_lower_confidence(tmp_path: Path) -> None:
    body = "".join(f"    v{i} = {i}\n" for i in range(10))
    r = Repo(tmp_path / "r")
    r.commit("add", {"a.py": f"def old():\n{body}    return v1\n"})
    r.commit("rename + edit", {"a.py": f"def new():\n{body}    return v2\n"})
    [rn] = rels(run(r.root), RelationKind.RENAMED_TO)
    assert rn.provenance == "history:similarity" and 0.7 < rn.confidence < 0.9


def test_symbols_gone_at_head_get_history_owned_entities(tmp_path: Path) -> None:
    r = Repo(tmp_path / "r")
    r.commit("add", {"a.py": A1})
    gone = r.commit("drop g", {"a.py": "def f(x):\n    y = x + 1\n    return y\n"})
    ents = {e.id: e for b in run(r.root) for e in b.batch.entities}
    g = ents[fn("a.py::g")]
    assert g.owner == symbols_scope(REPO) and g.attrs["historical"] is True
    assert g.valid.to_commit == gone
    assert fn("a.py::f") not in ents  # alive at HEAD: the code stage owns it


def test_bad_input_octopus_submodule_binary_shallow_detached(tmp_path: Path) -> None:
    sub = Repo(tmp_path / "sub")
    sub.commit("sub", {"s.py": "def s():\n    return 1\n"})
    r = Repo(tmp_path / "r")
    base = r.commit("base", {"a.py": A1})
    for name in ("x", "y", "z"):
        r.git("checkout", "-q", "-b", name, base)
        r.commit(f"branch {name}", {f"{name}.py": f"def {name}():\n    return 1\n"})
    r.git("checkout", "-q", "main")
    r.git("merge", "-q", "--no-edit", "x", "y", "z")  # an octopus merge
    octopus = r.git("rev-parse", "HEAD")
    r.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.root), "mod")
    r.commit("submodule", {})
    r.commit("blob", {"big.bin": os.urandom(300_000), "data.py": b"\x00\x01" * 1000})
    r.git("checkout", "-q", "--detach", "HEAD~1")
    batches = run(r.root)
    mods = rels(batches, RelationKind.MODIFIES)
    assert {m.dst for m in mods} == {
        fn("a.py::f"),
        fn("a.py::g"),
        fn("x.py::x"),
        fn("y.py::y"),
        fn("z.py::z"),
    }
    assert all(m.src != cid(octopus) for m in mods)  # a merge's changes belong to its branches
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{r.root}", str(clone)],
        check=True,
        capture_output=True,
    )
    shallow = run(clone)
    assert {m.dst for m in rels(shallow, RelationKind.MODIFIES)} >= {fn("a.py::f")}


def test_this_checkouts_history() -> None:
    parse = subprocess.run(
        [
            "git",
            "-C",
            str(ROOT),
            "log",
            "--reverse",
            "--format=%H",
            "-n",
            "20",
            "--",
            "src/extractors/git.py",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert parse, "this checkout has history for src/extractors/git.py"
    batches = run(ROOT)
    mods = rels(batches, RelationKind.MODIFIES)
    touched = {m.dst for m in mods if m.attrs["path"] == "src/extractors/git.py"}
    assert entity_id(EntityKind.CLASS, REPO, "src/extractors/git.py::GitExtractor") in touched
    assert sum(1 for b in batches for e in b.batch.entities) >= 1  # some symbols are gone


def test_patch_parser_reads_quoted_and_binary_paths(tmp_path: Path) -> None:
    r = Repo(tmp_path / "r")
    r.commit("add", {"dir with space/é.py": "x = 1\n", "img.bin": b"\x00\xff" * 10})
    r.commit("edit", {"dir with space/é.py": "x = 2\ny = 3\n", "img.bin": b"\x00\xfe" * 10})
    out = subprocess.run(
        [
            "git",
            "-C",
            str(r.root),
            "log",
            "-p",
            "-U0",
            "--full-index",
            "--format=%x1eH%H %ct %P",
            "--reverse",
        ],
        capture_output=True,
        check=True,
    ).stdout
    commits = list(parse_patches(out.splitlines(keepends=True)))
    edit = commits[1].files
    by_path = {f.new_path: f for f in edit}
    assert set(by_path) == {"dir with space/é.py", "img.bin"}
    assert by_path["img.bin"].binary and not by_path["img.bin"].hunks
    [hunk] = by_path["dir with space/é.py"].hunks
    assert (hunk.old_start, hunk.old_count, hunk.new_start, hunk.new_count) == (1, 1, 1, 2)
    assert by_path["dir with space/é.py"].old_blob is not None


@pytest.mark.parametrize("batch_size", [1, 2])
def test_resume_mid_history(tmp_path: Path, batch_size: int) -> None:
    r = Repo(tmp_path / "r")
    shas = [r.commit(f"c{i}", {"a.py": A1.replace("1", str(i + 1))}) for i in range(4)]
    ctx = RepoContext(REPO, r.root, file_extractor=REGISTRY.for_path)
    ex = SymbolHistoryExtractor(batch_size=batch_size)
    first = next(iter(ex.extract_repo(ctx, None)))
    resumed = list(ex.extract_repo(ctx, first.state))
    seen = {x.src for b in resumed for x in b.batch.relations}
    assert cid(shas[-1]) in seen and cid(shas[0]) not in seen
