"""Stored extracts are tied to the code that made them: an upgrade that changes extraction
re-extracts every file instead of keeping what the old code made for unchanged ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import extractors
from extractors.code.engine import CODE_VERSION, code_version
from extractors.code.python import PythonExtractor
from extractors.registry import ExtractorRegistry
from kg.model import RelationKind
from kg.runtime import open_runtime
from kg.settings import Settings

PACKAGE = Path(extractors.__file__).parent


def test_the_version_follows_the_code_queries_and_table_model(tmp_path: Path) -> None:
    copy = tmp_path / "extractors"
    shutil.copytree(PACKAGE / "code", copy / "code", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PACKAGE / "base.py", copy / "base.py")
    assert code_version(copy) == CODE_VERSION
    seen = {CODE_VERSION}
    for edited in ("code/queries/python/references.scm", "code/evaluate.py", "base.py"):
        path = copy / edited
        path.write_text(path.read_text() + "\n")
        version = code_version(copy)
        assert version not in seen, edited
        seen.add(version)


def test_every_built_in_code_extractor_carries_it() -> None:
    registry = ExtractorRegistry.from_entry_points(strict=False)
    code = [e for e in registry.file_extractors() if e.name.startswith("code-")]
    assert len(code) >= 12
    assert {e.version for e in code} == {CODE_VERSION}


async def test_files_made_by_other_code_are_extracted_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "util.py").write_text("def slug(t):\n    return t.lower()\n")
    (root / "app.py").write_text("from pkg.util import slug\n\n\ndef main():\n    slug('A')\n")
    settings = Settings(graph_url=f"sqlite:///{tmp_path}/g.db", embed=False, history=False)
    async with open_runtime(settings) as rt:
        first = await rt.indexer(embed=False).index(root)
        assert first.files_changed == 3
        assert (await rt.indexer(embed=False).index(root)).files_changed == 0
        calls = {r.id for r in await rt.store.relations("proj", [RelationKind.CALLS])}

        monkeypatch.setattr(PythonExtractor, "version", "made-by-other-code")
        again = await rt.indexer(embed=False).index(root)
        assert again.files_changed == 3
        assert {r.id for r in await rt.store.relations("proj", [RelationKind.CALLS])} == calls
