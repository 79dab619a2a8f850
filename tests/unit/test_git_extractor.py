"""GitExtractor over real git repositories built in tmp dirs with the git CLI."""

from __future__ import annotations

import itertools
import os
import subprocess
from pathlib import Path

import pytest

from extractors.base import RepoBatch, RepoContext, RepoExtractor
from extractors.code.python import PythonExtractor
from extractors.git import GitExtractor, commit_scope
from extractors.gitlog import parse_log, split_nul
from kg.errors import ExtractorError
from kg.model import Entity, EntityKind, Relation, RelationKind, entity_id

REPO = "demo"


class GitRepo:
    """A throwaway repository with deterministic identities and dates."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tick = 0
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def env(
        self, name: str = "Ada Lovelace", email: str = "Ada@Example.COM", *, tick: bool = True
    ) -> dict[str, str]:
        """Commits get one second apart each, so dates are fixed and increasing."""
        self.tick += tick
        date = f"2024-01-01T00:{self.tick // 60:02d}:{self.tick % 60:02d}+00:00"
        return {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_DATE": date,
        }

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        out = subprocess.run(
            ["git", "-C", str(self.root), *args],
            check=True,
            capture_output=True,
            env=env or self.env(tick=False),
        )
        return out.stdout.decode("utf-8", "replace").strip()

    def write(self, path: str, data: bytes | str) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode() if isinstance(data, str) else data)

    def commit(
        self,
        message: str,
        files: dict[str, bytes | str] | None = None,
        name: str = "Ada Lovelace",
        email: str = "Ada@Example.COM",
    ) -> str:
        for path, data in (files or {}).items():
            self.write(path, data)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, env=self.env(name, email))
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def ctx_of(repo: GitRepo) -> RepoContext:
    return RepoContext(REPO, repo.root)


def run(root: Path, state: str | None = None, **kw: bool | int) -> list[RepoBatch]:
    return list(GitExtractor(**kw).extract_repo(RepoContext(REPO, root), state))  # type: ignore[arg-type]


def commits(batches: list[RepoBatch]) -> list[Entity]:
    return [e for b in batches for e in b.batch.entities if e.kind is EntityKind.COMMIT]


def relations(batches: list[RepoBatch], kind: RelationKind) -> list[Relation]:
    return [r for b in batches for r in b.batch.relations if r.kind is kind]


def modifies(batches: list[RepoBatch], sha: str) -> dict[str, Relation]:
    cid = entity_id(EntityKind.COMMIT, REPO, sha)
    return {r.dst: r for r in relations(batches, RelationKind.MODIFIES) if r.src == cid}


def fid(path: str) -> str:
    return entity_id(EntityKind.FILE, REPO, path)


def test_is_a_repo_extractor() -> None:
    assert isinstance(GitExtractor(), RepoExtractor)


def test_linear_history(repo: GitRepo) -> None:
    first = repo.commit("Add a\n\nLonger body\nover two lines.", {"a.py": "x = 1\ny = 2\n"})
    second = repo.commit("Grow a", {"a.py": "x = 1\ny = 3\nz = 4\n", "b.md": "doc\n"})
    (repo.root / "b.md").unlink()
    third = repo.commit("Drop b", name="Bob", email="bob@example.com")

    batches = run(repo.root)
    assert GitExtractor().applies(ctx_of(repo)) == (True, "")
    assert [b.state for b in batches] == [None, third]  # people first, then commits
    shas = [c.key for c in commits(batches)]
    assert shas == [first, second, third]

    c1 = commits(batches)[0]
    assert c1.attrs["summary"] == "Add a"
    assert c1.attrs["message"] == "Add a\n\nLonger body\nover two lines."
    assert c1.attrs["author_time"] == "2024-01-01T00:00:01+00:00"
    assert c1.attrs["parents"] == []
    assert (c1.attrs["files_changed"], c1.attrs["insertions"], c1.attrs["deletions"]) == (1, 2, 0)
    assert c1.owner == commit_scope(REPO, first) == f"git:{REPO}:{first}"
    assert c1.valid.from_commit == first
    assert c1.valid.from_time is not None
    c2 = commits(batches)[1]
    assert (c2.attrs["insertions"], c2.attrs["deletions"], c2.attrs["is_merge"]) == (3, 1, False)

    m2 = modifies(batches, second)
    assert set(m2) == {fid("a.py"), fid("b.md")}
    assert dict(m2[fid("a.py")].attrs) == {"change": "M", "added": 2, "removed": 1, "binary": False}
    assert m2[fid("b.md")].attrs["change"] == "A"
    assert modifies(batches, third)[fid("b.md")].attrs["change"] == "D"

    people = {e.key: e for b in batches for e in b.batch.entities if e.kind is EntityKind.PERSON}
    assert set(people) == {"ada@example.com", "bob@example.com"}
    assert people["ada@example.com"].name == "Ada Lovelace"
    authored = relations(batches, RelationKind.AUTHORED)
    assert len(authored) == 3
    assert {r.src for r in authored} == {people["ada@example.com"].id, people["bob@example.com"].id}
    parent_of = relations(batches, RelationKind.PARENT_OF)
    assert [(r.src, r.dst) for r in parent_of] == [
        (entity_id(EntityKind.COMMIT, REPO, a), entity_id(EntityKind.COMMIT, REPO, b))
        for a, b in itertools.pairwise(shas)
    ]
    assert all(r.provenance == "git:log" and r.valid.from_commit for r in parent_of)

    docs = batches[1].batch.documents
    assert len(docs) == 3
    assert all(d.vector == "text" for d in docs)
    assert docs[0].text == "Add a\n\nLonger body\nover two lines."
    assert docs[0].payload["kind"] == "commit"
    assert docs[0].payload["author"] == "Ada Lovelace"
    assert batches[1].batch.replace_scopes == {commit_scope(REPO, s) for s in shas}


def test_rename_keeps_old_path(repo: GitRepo) -> None:
    body = "".join(f"line {i}\n" for i in range(50))
    repo.commit("add", {"old/name.txt": body})
    (repo.root / "new").mkdir()
    repo.git("mv", "old/name.txt", "new/name.txt")
    repo.write("new/name.txt", body + "one more\n")
    sha = repo.commit("rename")
    rel = modifies(run(repo.root), sha)
    assert list(rel) == [fid("new/name.txt")]
    attrs = rel[fid("new/name.txt")].attrs
    assert (attrs["change"], attrs["old_path"], attrs["added"]) == ("R", "old/name.txt", 1)


def test_binary_file_counts_zero_lines(repo: GitRepo) -> None:
    sha = repo.commit("bin", {"img.png": bytes(range(256)) * 4, "t.txt": "a\nb\n"})
    batches = run(repo.root)
    rel = modifies(batches, sha)
    assert rel[fid("img.png")].attrs["binary"] is True
    assert rel[fid("img.png")].attrs["added"] == 0
    assert rel[fid("t.txt")].attrs["added"] == 2
    assert commits(batches)[0].attrs["insertions"] == 2


def test_merge_and_octopus(repo: GitRepo) -> None:
    base = repo.commit("base", {"a.txt": "a\n"})
    tips = []
    for name in ("b1", "b2", "b3"):
        repo.git("checkout", "-q", "-b", name, base)
        tips.append(repo.commit(f"work {name}", {f"{name}.txt": name}))
    repo.git("checkout", "-q", "main")
    repo.commit("main work", {"m.txt": "m"})
    repo.git("merge", "-q", "--no-ff", "--no-edit", "b1", env=repo.env())
    merge = repo.head()
    repo.git("merge", "-q", "--no-edit", "b2", "b3", env=repo.env())
    octopus = repo.head()

    batches = run(repo.root)
    order = [c.key for c in commits(batches)]
    assert len(order) == 7
    assert order[0] == base
    assert order[-1] == octopus
    for c in commits(batches):  # topological: every parent comes before its child
        parents = c.attrs["parents"]
        assert isinstance(parents, list)
        assert all(order.index(str(p)) < order.index(c.key) for p in parents)
    by_sha = {c.key: c for c in commits(batches)}
    assert by_sha[merge].attrs["is_merge"] is True
    assert len(by_sha[octopus].attrs["parents"]) == 3  # type: ignore[arg-type]
    into_octopus = [
        r
        for r in relations(batches, RelationKind.PARENT_OF)
        if r.dst == entity_id(EntityKind.COMMIT, REPO, octopus)
    ]
    assert len(into_octopus) == 3


def test_non_utf8_message_author_and_path(repo: GitRepo) -> None:
    raw_name = os.fsencode("caf\udce9.txt")  # the bytes b"caf\xe9.txt"
    (repo.root / os.fsdecode(raw_name)).write_text("x\n")
    repo.git("add", os.fsdecode(raw_name))
    tree = repo.git("write-tree")
    # `git commit` would transcode latin-1 to UTF-8, so write the object itself: legacy
    # imports do carry such raw bytes.
    obj = (
        f"tree {tree}\n".encode()
        + b"author Jos\xe9 <jose@example.com> 1700000000 +0000\n"
        + b"committer Jos\xe9 <jose@example.com> 1700000000 +0000\n\n"
        + b"Caf\xe9 au lait\n\nlatin-1 \xff body\n"
    )
    sha = (
        subprocess.run(
            ["git", "-C", str(repo.root), "hash-object", "-t", "commit", "-w", "--stdin"],
            input=obj,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    repo.git("update-ref", "refs/heads/main", sha)

    batches = run(repo.root)
    commit = commits(batches)[0]
    assert commit.key == sha
    assert commit.attrs["summary"] == "Caf\ufffd au lait"
    assert "\ufffd body" in str(commit.attrs["message"])
    assert commit.attrs["author_name"] == "Jos\ufffd"
    assert set(modifies(batches, sha)) == {fid(os.fsdecode(raw_name))}


def test_paths_that_look_like_records_are_parsed_positionally(repo: GitRepo) -> None:
    weird = ["\x1eCfake", ":colon", "1\t2\ttabs", "-\t-\tdash", "new\nline"]
    sha = repo.commit("weird", dict.fromkeys(weird, "w\n"))
    rel = modifies(run(repo.root), sha)
    assert set(rel) == {fid(p) for p in weird}
    assert all(r.attrs["added"] == 1 for r in rel.values())


def test_parser_handles_any_chunking(repo: GitRepo) -> None:
    repo.commit("one", {"a": "1\n"})
    repo.commit("two\n\nbody", {"a": "2\n", "b": "b\n"})
    from extractors.gitlog import LOG_FORMAT

    out = subprocess.run(
        [
            "git",
            "-C",
            str(repo.root),
            "log",
            "--reverse",
            "--raw",
            "--numstat",
            "-z",
            f"--format={LOG_FORMAT}",
        ],
        check=True,
        capture_output=True,
    ).stdout
    whole = list(parse_log(split_nul([out])))
    tiny = list(parse_log(split_nul(out[i : i + 3] for i in range(0, len(out), 3))))
    assert [c.message for c in whole] == ["one", "two\n\nbody"] == [c.message for c in tiny]
    assert [c.changes for c in whole] == [c.changes for c in tiny]


def test_resume_yields_only_new_commits(repo: GitRepo) -> None:
    repo.commit("one", {"a": "1"})
    repo.commit("two", {"a": "2"})
    state = run(repo.root)[-1].state
    assert commits(run(repo.root, state)) == []  # nothing new
    new = [repo.commit("three", {"a": "3"}), repo.commit("four", {"a": "4"})]
    resumed = run(repo.root, state)
    assert [c.key for c in commits(resumed)] == new
    assert resumed[-1].state == new[-1]
    assert resumed[0].note == ""


def test_batches_carry_resume_state(repo: GitRepo) -> None:
    shas = [repo.commit(f"c{i}", {"f": str(i)}) for i in range(5)]
    batches = run(repo.root, batch_size=2)
    assert [len(commits([b])) for b in batches] == [0, 2, 2, 1]
    assert [b.state for b in batches] == [None, shas[1], shas[3], shas[4]]
    resumed = run(repo.root, batches[1].state, batch_size=2)
    assert [c.key for c in commits(resumed)] == shas[2:]


def test_rewritten_history_falls_back_to_full_scan(repo: GitRepo) -> None:
    repo.commit("one", {"a": "1"})
    old = repo.commit("two", {"a": "2"})
    repo.git("commit", "-q", "--amend", "-m", "two, amended", env=repo.env())
    new = repo.head()
    assert new != old
    batches = run(repo.root, old)  # the old object still exists but is not an ancestor
    assert "not an ancestor" in batches[0].note
    assert old in batches[0].note
    assert [c.key for c in commits(batches)][-1] == new
    assert len(commits(batches)) == 2
    gone = run(repo.root, "0123456789abcdef0123456789abcdef01234567")
    assert "no longer exists" in gone[0].note
    assert len(commits(gone)) == 2
    assert "no longer exists" in run(repo.root, "--all")[0].note  # never passed to git


def test_not_a_repository(tmp_path: Path) -> None:
    ctx = RepoContext(REPO, tmp_path)
    ok, why = GitExtractor().applies(ctx)
    assert not ok
    assert why.startswith(f"not a git repository: {tmp_path}; indexing code without history")
    with pytest.raises(ExtractorError, match="not a git repository"):
        list(GitExtractor().extract_repo(ctx, None))
    assert GitExtractor().applies(RepoContext(REPO, tmp_path / "missing"))[0] is False
    ok, why = GitExtractor(git=str(tmp_path / "no-git")).applies(ctx)
    assert not ok
    assert "git executable" in why


def test_empty_repository(repo: GitRepo) -> None:
    ok, why = GitExtractor().applies(ctx_of(repo))
    assert not ok
    assert "no commits" in why
    assert run(repo.root) == []


def test_detached_head_and_all_branches(repo: GitRepo) -> None:
    first = repo.commit("one", {"a": "1"})
    repo.commit("two", {"a": "2"})
    repo.git("checkout", "-q", "-b", "side", first)
    side = repo.commit("side", {"s": "s"})
    repo.git("checkout", "-q", "--detach", first)
    assert [c.key for c in commits(run(repo.root))] == [first]
    everything = [c.key for c in commits(run(repo.root, all_branches=True))]
    assert len(everything) == 3
    assert side in everything
    assert GitExtractor(all_branches=True).applies(ctx_of(repo)) == (True, "")


def test_shallow_clone_is_noted(repo: GitRepo, tmp_path: Path) -> None:
    for i in range(3):
        repo.commit(f"c{i}", {"a": str(i)})
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)],
        check=True,
        capture_output=True,
    )
    batches = run(clone)
    assert [c.key for c in commits(batches)] == [repo.head()]
    assert "shallow clone" in batches[0].note


def test_broken_object_raises_naming_the_repo(repo: GitRepo) -> None:
    repo.commit("one", {"a.txt": "first version\n"})
    repo.commit("two", {"a.txt": "second version\n"})
    blob = repo.git("rev-parse", "HEAD~1:a.txt")
    (repo.root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    with pytest.raises(ExtractorError, match=f"repository '{REPO}' at {repo.root}"):
        run(repo.root)


def test_consumer_may_stop_early(repo: GitRepo) -> None:
    for i in range(4):
        repo.commit(f"c{i}", {"a": str(i)})
    gen = GitExtractor(batch_size=1).extract_repo(ctx_of(repo), None)
    next(gen)  # the people
    first = next(gen)
    gen.close()  # kills git; must not hang or raise
    assert len(commits([first])) == 1


def test_this_checkout() -> None:
    root = Path(__file__).resolve().parents[2]
    batches = run(root)
    assert len(commits(batches)) >= 1
    assert (
        batches[-1].state
        == subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )


def test_subdirectory_root_gets_paths_relative_to_it(repo: GitRepo) -> None:
    sha = repo.commit("both", {"sub/a.py": "a\n", "other/b.py": "b\n"})
    batches = run(repo.root / "sub")
    assert set(modifies(batches, sha)) == {fid("a.py")}


# -- identities, copies, tags, historical files ---------------------------------------------


def people_of(batches: list[RepoBatch]) -> dict[str, Entity]:
    return {e.key: e for b in batches for e in b.batch.entities if e.kind is EntityKind.PERSON}


def test_identities_merge_by_email_mailmap_and_name_domain(repo: GitRepo) -> None:
    a = repo.commit("one", {"a": "1"}, name="Ada Lovelace", email="ada@example.com")
    b = repo.commit("two", {"a": "2"}, name="A. Lovelace", email="ADA@example.com")
    c = repo.commit("three", {"a": "3"}, name="Ada Lovelace", email="lovelace@example.com")
    d = repo.commit("four", {"a": "4"}, name="ada", email="ada@home.example")
    e = repo.commit("five", {"a": "5"}, name="Bob", email="bob@example.com")
    people = people_of(run(repo.root))
    assert set(people) == {"ada@example.com", "ada@home.example", "bob@example.com"}
    ada = people["ada@example.com"]
    assert ada.attrs["emails"] == ["ada@example.com", "lovelace@example.com"]
    assert ada.attrs["aliases"] == ["A. Lovelace", "Ada Lovelace"]
    assert ada.attrs["commits"] == 3
    authored = {r.dst: r.src for r in relations(run(repo.root), RelationKind.AUTHORED)}
    assert {authored[entity_id(EntityKind.COMMIT, REPO, s)] for s in (a, b, c)} == {ada.id}
    assert authored[entity_id(EntityKind.COMMIT, REPO, d)] != ada.id  # one word: no merge
    assert authored[entity_id(EntityKind.COMMIT, REPO, e)] == people["bob@example.com"].id
    # .mailmap joins "ada@home.example" to Ada, and the commit shows the mapped identity
    repo.write(".mailmap", "Ada Lovelace <ada@example.com> <ada@home.example>\n")
    repo.commit("mailmap", name="Bob", email="bob@example.com")
    batches = run(repo.root)
    people = people_of(batches)
    assert set(people) == {"ada@example.com", "bob@example.com"}
    assert "ada@home.example" in people["ada@example.com"].attrs["emails"]
    [four] = [c for c in commits(batches) if c.key == d]
    assert four.attrs["author_email"] == "ada@example.com"


def test_copies_and_renames_between_files(repo: GitRepo) -> None:
    body = "".join(f"line {i}\n" for i in range(40))
    repo.commit("add", {"src/a.txt": body})
    repo.write("src/b.txt", body)
    repo.write("src/a.txt", body + "changed\n")
    copy_sha = repo.commit("copy and edit")
    repo.git("mv", "src/b.txt", "src/c.txt")
    rename_sha = repo.commit("rename")
    batches = run(repo.root)
    copied = modifies(batches, copy_sha)[fid("src/b.txt")].attrs
    assert (copied["change"], copied["old_path"], copied["similarity"]) == ("C", "src/a.txt", 100)
    [renamed] = relations(batches, RelationKind.RENAMED_TO)
    assert (renamed.src, renamed.dst) == (fid("src/b.txt"), fid("src/c.txt"))
    assert renamed.confidence == 1.0 and renamed.attrs["commit"] == rename_sha
    files = {e.key: e for b in batches for e in b.batch.entities if e.kind is EntityKind.FILE}
    assert files["src/b.txt"].attrs["historical"] is True  # renamed away: kept by the history
    assert files["src/b.txt"].valid.to_commit == rename_sha
    assert files["src/c.txt"].attrs["historical"] is False  # alive, claimed by no extractor


def test_claimed_files_alive_at_head_belong_to_the_code_stage(repo: GitRepo) -> None:
    repo.commit("add", {"a.py": "x = 1\n", "old.py": "y = 2\n"})
    (repo.root / "old.py").unlink()
    gone = repo.commit("drop old", {"a.py": "x = 2\n"})
    python = PythonExtractor()
    ctx = RepoContext(
        REPO, repo.root, file_extractor=lambda p: python if p.endswith(".py") else None
    )
    batches = list(GitExtractor().extract_repo(ctx, None))
    files = {e.key: e for b in batches for e in b.batch.entities if e.kind is EntityKind.FILE}
    assert set(files) == {"old.py"}
    assert files["old.py"].valid.to_commit == gone


def test_tags_are_commit_attrs_and_moving_them_re_emits(repo: GitRepo) -> None:
    first = repo.commit("one", {"a": "1"})
    repo.git("tag", "v1.0")
    second = repo.commit("two", {"a": "2"})
    repo.git("tag", "-a", "v1.1", "-m", "annotated")
    batches = run(repo.root)
    tagged = {c.key: c.attrs.get("tags") for c in commits(batches)}
    assert tagged == {first: ["v1.0"], second: ["v1.1"]}
    state = batches[-1].state
    assert state is not None and state.startswith(second + ";")
    assert commits(run(repo.root, state)) == []  # nothing moved, nothing new
    repo.git("tag", "v0.9", first)
    again = run(repo.root, state)
    assert {c.key: c.attrs.get("tags") for c in commits(again)} == {
        first: ["v0.9", "v1.0"],
        second: ["v1.1"],
    }
    assert again[-1].state is not None and again[-1].state != state
