"""Anonymous scopes (lambdas, callbacks, object literals, blocks) are numbered within their
parent, not named by position: a line inserted above them changes no qualified name, no entity
id and no interface digest, so an edit re-resolves the edited file alone."""

from __future__ import annotations

from pathlib import Path

from extractors.base import SourceFile
from extractors.registry import ExtractorRegistry
from kg.model import RelationKind
from kg.pipeline import FileChange
from kg.runtime import open_runtime
from kg.settings import Settings

SPEC_TS = """import { compile } from './compiler'

describe('compile', () => {
  const root = { helpers: [], codegen: { emit() { return 1 } } }
  test('emits', () => {
    const out = compile(root)
    if (out) {
      const again = { value: out }
      return again.value
    }
  })
})
"""
COMPILER_TS = "export function compile(x: any) {\n  return x\n}\n"
OTHER_TS = (
    "import { compile } from './compiler'\n\n"
    "test('other', () => {\n  const emit = compile(1)\n  return emit\n})\n"
)
PY = "def apply(xs):\n    return sorted(xs, key=lambda x: x.weight)\n"


def _tables(path: str, text: str) -> tuple[list[str], str]:
    registry = ExtractorRegistry.from_entry_points(strict=False)
    extractor = registry.for_path(path)
    assert extractor is not None
    symbols = extractor.extract_file(SourceFile("r", path, text.encode())).symbols
    return [d.qualname for d in symbols.definitions], symbols.interface_digest()


def test_a_line_inserted_above_changes_no_name_and_no_digest() -> None:
    for path, text, comment in (("spec.ts", SPEC_TS, "//"), ("m.py", PY, "#")):
        names, digest = _tables(path, text)
        assert any("#" in n for n in names), names  # there are anonymous scopes
        moved, moved_digest = _tables(path, f"{comment} a new first line\n\n" + text)
        assert moved == names and moved_digest == digest, path


def test_a_second_callback_is_numbered_within_its_parent() -> None:
    head = "describe('compile', () => {"
    two = SPEC_TS.replace(head, head + "\n  x(() => 1)")
    names, _ = _tables("spec.ts", SPEC_TS)
    after, _ = _tables("spec.ts", two)
    assert any(n.startswith("<lambda#1>.<lambda#2>") for n in after)
    assert not any(n.startswith("<lambda#1>.<lambda#2>") for n in names)


async def test_an_edit_above_callbacks_re_resolves_the_file_alone(tmp_path: Path) -> None:
    root = tmp_path / "web"
    root.mkdir()
    for rel, text in (
        ("compiler.ts", COMPILER_TS),
        ("compile.spec.ts", SPEC_TS),
        ("other.spec.ts", OTHER_TS),
    ):
        (root / rel).write_text(text)
    settings = Settings(graph_url=f"sqlite:///{tmp_path}/g.db", embed=False, history=False)
    async with open_runtime(settings) as rt:
        await rt.indexer(embed=False).index(root)
        indexer = rt.indexer(embed=False)
        await indexer.warm(root.name)
        calls = {r.id for r in await rt.store.relations(root.name, [RelationKind.CALLS])}
        assert calls
        edited = "// a comment above everything\n" + SPEC_TS
        report = await indexer.update_files(root, [FileChange("compile.spec.ts", edited.encode())])
        assert report.resolved == ["compile.spec.ts"]
        assert {r.id for r in await rt.store.relations(root.name, [RelationKind.CALLS])} == calls
