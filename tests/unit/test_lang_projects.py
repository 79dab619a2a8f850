"""JavaScript/TypeScript project files (package.json, tsconfig.json): read leniently, mapped
to what import paths mean, and extracted by the registry's JavaScript extractor."""

from __future__ import annotations

from extractors.base import SourceFile, SymbolTable
from extractors.code.projects import Projects, parse_config
from extractors.registry import ExtractorRegistry
from kg.model import EntityKind

TSCONFIG = b"""{
  // comments and trailing commas, as TypeScript reads them
  "compilerOptions": {
    "baseUrl": "./src", /* a block comment */
    "paths": {
      "@app/*": ["app/*", "fallback/*"],
      "@app/core": ["core/index.ts"],
      "@/*": ["./*"],
    },
    "rootDirs": ["src/a", "src/b"],
  },
}"""


def _table(path: str, data: bytes) -> SymbolTable:
    return SymbolTable(
        path=path,
        language="javascript",
        module="",
        module_id="m",
        project=parse_config(path, data),
    )


def test_tsconfig_is_read_with_comments_trailing_commas_and_slashes_in_strings() -> None:
    cfg = parse_config("web/tsconfig.json", TSCONFIG)
    assert cfg.base_url == "web/src"
    assert dict(cfg.paths)["@/*"] == ["web/src/*"]  # "./*" is no comment opener
    assert dict(cfg.paths)["@app/*"] == ["web/src/app/*", "web/src/fallback/*"]
    assert cfg.root_dirs == ["web/src/a", "web/src/b"]


def test_paths_exact_pattern_wins_then_longest_prefix_then_base_url() -> None:
    projects = Projects([_table("web/tsconfig.json", TSCONFIG)])
    assert projects.bare("web/src/main.ts", "@app/core") == ["web.src.core", "web.src.@app.core"]
    assert projects.bare("web/src/main.ts", "@app/ui/button")[:2] == [
        "web.src.app.ui.button",
        "web.src.fallback.ui.button",
    ]
    assert projects.bare("web/src/main.ts", "lodash") == ["web.src.lodash"]
    assert projects.bare("other/main.ts", "lodash") == []  # not governed by web's config
    assert projects.relative("web/src/a/x/m.ts", "./y") == ["web.src.b.x.y"]


def test_a_package_is_seen_by_name_only_from_packages_depending_on_it() -> None:
    projects = Projects(
        [
            _table("core/package.json", b'{"name": "@acme/core", "main": "./lib/main.js"}'),
            _table("web/package.json", b'{"dependencies": {"@acme/core": "1"}}'),
            _table("cli/package.json", b'{"name": "cli"}'),
        ]
    )
    assert projects.bare("web/app.ts", "@acme/core") == ["core.lib.main"]
    assert projects.bare("web/app.ts", "@acme/core/util") == ["core.util"]
    assert projects.bare("cli/app.ts", "@acme/core") == []
    assert projects.governing("web/app.ts") == ["web/package.json", "core/package.json"]


def test_an_unreadable_project_file_has_no_settings_and_still_is_a_file() -> None:
    registry = ExtractorRegistry.from_entry_points(strict=False)
    extractor = registry.for_path("pkg/package.json")
    assert extractor is not None
    out = extractor.extract_file(SourceFile("r", "pkg/package.json", b'{"name": "x",,, \xff'))
    assert out.symbols.project is not None and out.symbols.project.name == ""
    assert [e.kind for e in out.batch.entities] == [EntityKind.FILE]
    assert registry.for_path("pkg/other.json") is None
