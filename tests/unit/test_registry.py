"""ExtractorRegistry over real entry points: tiny distributions written to tmp dirs."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from extractors.base import FileExtract, FileExtractor, RepoExtractor, SourceFile
from extractors.git import GitExtractor
from extractors.registry import GROUP, ExtractorRegistry
from kg.errors import ExtractorError

PLUGIN_SOURCE = """
from extractors.base import FileExtract, RepoBatch, SourceFile, SymbolTable
from kg.model import Batch, Entity, EntityKind, file_scope


class TomlExtractor:
    name = "toml"
    version = "1"
    extensions = frozenset({".toml", "Pipfile"})

    def extract_file(self, file):
        scope = file_scope(file.repo, file.path)
        entity = Entity.make(EntityKind.FILE, file.repo, file.path, name=file.path, owner=scope)
        batch = Batch(repo=file.repo, entities=[entity], replace_scopes={scope})
        table = SymbolTable(path=file.path, language="toml", module=file.path, module_id=entity.id)
        return FileExtract(path=file.path, language="toml", batch=batch, symbols=table)

    def resolver(self):
        return None


class OtherToml(TomlExtractor):
    name = "toml2"


class SameName(TomlExtractor):
    extensions = frozenset({".ini"})


class Notes:
    name = "notes"
    version = "1"

    def applies(self, ctx):
        return True, ""

    def extract_repo(self, ctx, state):
        return iter([RepoBatch(batch=Batch(repo=ctx.repo), state="done")])


def make_notes():
    return Notes()


def exploding_factory():
    raise RuntimeError("boom")


class NotAnExtractor:
    name = "nope"


CONSTANT = 42
"""


def install_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entries: dict[str, str], group: str
) -> str:
    """Write a module and a ``*.dist-info`` whose entry points name ``{mod}`` attributes."""
    mod = f"kgplugin_{uuid.uuid4().hex[:8]}"
    dist = f"{mod}-0.1.dist-info"
    (tmp_path / f"{mod}.py").write_text(PLUGIN_SOURCE)
    (tmp_path / dist).mkdir()
    (tmp_path / dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {mod}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {value.format(mod=mod)}\n" for name, value in entries.items())
    (tmp_path / dist / "entry_points.txt").write_text(f"[{group}]\n{lines}")
    monkeypatch.syspath_prepend(str(tmp_path))
    return mod


def fresh_group() -> str:
    return f"kg.test_extractors.{uuid.uuid4().hex[:8]}"


def test_plugins_load_through_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    group = fresh_group()
    install_plugin(
        tmp_path, monkeypatch, {"toml": "{mod}:TomlExtractor", "notes": "{mod}:make_notes"}, group
    )
    registry = ExtractorRegistry.from_entry_points(group)
    assert registry.names() == ["notes", "toml"]
    assert registry.errors == []
    [toml] = registry.file_extractors()
    [notes] = registry.repo_extractors()
    assert isinstance(toml, FileExtractor)
    assert isinstance(notes, RepoExtractor)
    assert registry.get("notes") is notes
    assert registry.for_path("conf/app.toml") is toml
    out = toml.extract_file(SourceFile("r", "conf/app.toml", b"a = 1\n"))
    assert isinstance(out, FileExtract)
    assert out.batch.entities[0].key == "conf/app.toml"


def test_builtins_come_through_the_same_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path, monkeypatch, {"toml": "{mod}:TomlExtractor"}, GROUP)
    registry = ExtractorRegistry.from_entry_points(strict=False)
    # "python" comes from another module that may not be importable yet; any failure must
    # name its entry point instead of hiding it.
    assert {"git", "toml"} <= set(registry.names())
    assert isinstance(registry.get("git"), GitExtractor)
    assert any(isinstance(e, GitExtractor) for e in registry.repo_extractors())
    assert all(err.startswith("extractor plugin '") for err in registry.errors)


BROKEN = {
    "a_missing_module": "kg_no_such_module_xyz:Thing",
    "b_missing_attr": "{mod}:DoesNotExist",
    "c_wrong_shape": "{mod}:NotAnExtractor",
    "d_not_callable": "{mod}:CONSTANT",
    "e_raises": "{mod}:exploding_factory",
}


def test_broken_plugin_raises_naming_the_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = fresh_group()
    install_plugin(tmp_path, monkeypatch, {**BROKEN, "toml": "{mod}:TomlExtractor"}, group)
    with pytest.raises(ExtractorError, match=r"'a_missing_module'.*failed to import"):
        ExtractorRegistry.from_entry_points(group)


def test_non_strict_skips_and_collects_every_broken_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = fresh_group()
    install_plugin(tmp_path, monkeypatch, {**BROKEN, "toml": "{mod}:TomlExtractor"}, group)
    registry = ExtractorRegistry.from_entry_points(group, strict=False)
    assert registry.names() == ["toml"]
    errors = registry.errors
    assert len(errors) == len(BROKEN)
    for name, err in zip(sorted(BROKEN), errors, strict=True):
        assert f"extractor plugin '{name}'" in err
        assert group in err
    assert "failed to import" in errors[1]
    assert "neither a FileExtractor" in errors[2]
    assert "not a class or factory" in errors[3]
    assert "RuntimeError('boom')" in errors[4]


def test_duplicate_names_through_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = fresh_group()
    install_plugin(
        tmp_path, monkeypatch, {"first": "{mod}:TomlExtractor", "second": "{mod}:SameName"}, group
    )
    with pytest.raises(ExtractorError, match="named 'toml' is already registered"):
        ExtractorRegistry.from_entry_points(group)
    lenient = ExtractorRegistry.from_entry_points(group, strict=False)
    assert lenient.names() == ["toml"]
    assert lenient.for_path("x.toml") is not None
    assert lenient.for_path("x.ini") is None  # the skipped duplicate claimed nothing
    assert "'second'" in lenient.errors[0]


def test_register_rejects_duplicates_and_non_extractors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    group = fresh_group()
    install_plugin(
        tmp_path, monkeypatch, {"toml": "{mod}:TomlExtractor", "toml2": "{mod}:OtherToml"}, group
    )
    registry = ExtractorRegistry([GitExtractor()])
    with pytest.raises(ExtractorError, match="'git' is already registered"):
        registry.register(GitExtractor(all_branches=True))
    with pytest.raises(ExtractorError, match="neither a FileExtractor nor a RepoExtractor"):
        registry.register(object())  # type: ignore[arg-type]
    loaded = ExtractorRegistry.from_entry_points(group, strict=False)
    assert loaded.names() == ["toml"]
    assert (
        "extension '.toml' of extractor 'toml2' is already handled by 'toml'" in (loaded.errors[0])
    )
    with pytest.raises(ExtractorError, match="no extractor named 'python'; registered: git"):
        registry.get("python")


class Ext:
    """A minimal in-test FileExtractor; only dispatch is exercised."""

    version = "1"

    def __init__(self, name: str, *extensions: str) -> None:
        self.name = name
        self.extensions = frozenset(extensions)

    def extract_file(self, file: SourceFile) -> FileExtract:
        raise AssertionError("dispatch only")

    def resolver(self) -> None:
        return None


def test_extension_dispatch() -> None:
    ts, dts, make, rc = (
        Ext("ts", ".ts", ".TSX"),
        Ext("dts", ".d.ts"),
        Ext("make", "Makefile"),
        (Ext("rc", ".bashrc")),
    )
    registry = ExtractorRegistry([ts, dts, make, rc])
    assert registry.for_path("src/app.ts") is ts
    assert registry.for_path("src/App.TS") is ts
    assert registry.for_path("ui/view.tsx") is ts
    assert registry.for_path("types/index.d.ts") is dts  # the longest suffix wins
    assert registry.for_path("pkg.v2/Makefile") is make
    assert registry.for_path("makefile") is None  # file names are exact
    assert registry.for_path("home/.bashrc") is rc
    assert registry.for_path("src/app.py") is None
    assert registry.for_path("README") is None
    assert registry.extensions() == frozenset({".ts", ".tsx", ".d.ts", "Makefile", ".bashrc"})
    assert [e.name for e in registry.file_extractors()] == ["dts", "make", "rc", "ts"]
    assert registry.repo_extractors() == []
