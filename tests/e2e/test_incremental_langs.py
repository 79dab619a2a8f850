"""Incremental indexing of JavaScript and TypeScript equals a fresh index, edit after edit.

The values these languages flow (object literal namespaces, destructuring, reassignment,
returned objects, CommonJS exports, type aliases) create bindings whose changes must reach the
files that read them; each step re-indexes the changed working tree and compares every entity
and code relation with a from-scratch index of the same tree (real git, real SQLite).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from kg.model import RelationKind
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
CODE = [
    RelationKind.CALLS,
    RelationKind.IMPORTS,
    RelationKind.REFERENCES,
    RelationKind.DEFINES,
    RelationKind.INHERITS,
    RelationKind.CONTAINS,
]

FILES = {
    "src/config.js": (
        "export const settings = {\n"
        "  retries: 3,\n"
        "  connect() { return open(); },\n"
        "};\n"
        "export function open() { return { socket: 1 }; }\n"
    ),
    "src/client.js": (
        "import { settings, open } from './config.js';\n"
        "const { retries } = settings;\n"
        "let attempts = 0;\n"
        "export function run() {\n"
        "  attempts = attempts + 1;\n"
        "  settings.connect();\n"
        "  settings.reconnect();\n"
        "  return open().socket + retries;\n"
        "}\n"
    ),
    "src/legacy.js": (
        "const helpers = require('./helpers.js');\n"
        "module.exports = { start: () => helpers.boot() };\n"
    ),
    "src/helpers.js": "exports.boot = function () { return 1; };\n",
    "src/shapes.ts": (
        "export type Point = { x: number; y: number };\n"
        "export interface Named { name: string }\n"
        "export class Marker implements Named {\n"
        "  name = 'm';\n"
        "  at(): Point { return { x: 0, y: 0 }; }\n"
        "}\n"
    ),
    "src/view.ts": (
        "import { Marker, Point } from './shapes';\n"
        "import { run } from './client.js';\n"
        "export function draw(p: Point): number {\n"
        "  const m = new Marker();\n"
        "  run();\n"
        "  m.hide();\n"
        "  return m.at().x + p.y;\n"
        "}\n"
    ),
    # A path alias of the project file: its importers follow the file when it changes.
    "tsconfig.json": '{\n  "compilerOptions": { "paths": { "@ui/*": ["./src/*"] } },\n}\n',
    # A module made a global name: its users import nothing, yet follow it.
    "src/geo.d.ts": "export declare function area(r: number): number;\nexport as namespace Geo;\n",
    "src/use_geo.ts": "export const a = Geo.area(1);\n",
    "lib/view.ts": "export function draw(p: object): number { return 0; }\n",
    "src/panel.ts": (
        "import { draw } from '@ui/view';\nexport const show = () => draw({ x: 1, y: 2 });\n"
    ),
}

EDITS: list[dict[str, str | None]] = [
    # members readers already call appear: their calls must now bind
    {
        "src/config.js": FILES["src/config.js"].replace(
            "  retries: 3,\n", "  retries: 3,\n  reconnect() {},\n"
        )
    },
    {
        "src/shapes.ts": FILES["src/shapes.ts"].replace(
            "  name = 'm';\n", "  name = 'm';\n  hide() {}\n"
        )
    },
    # a key of an object literal another file reads, renamed
    {"src/config.js": FILES["src/config.js"].replace("retries", "attempts")},
    # an exported function renamed, its caller left behind
    {"src/config.js": FILES["src/config.js"].replace("open", "dial")},
    # a type alias's member renamed and a class method removed
    {
        "src/shapes.ts": FILES["src/shapes.ts"]
        .replace("x: number", "left: number")
        .replace("  at(): Point { return { x: 0, y: 0 }; }\n", "")
    },
    # the global name renamed, then back
    {"src/geo.d.ts": FILES["src/geo.d.ts"].replace("Geo;", "Shapes;")},
    {"src/geo.d.ts": FILES["src/geo.d.ts"]},
    # the path alias points elsewhere, then back
    {"tsconfig.json": FILES["tsconfig.json"].replace("./src/*", "./lib/*")},
    {"tsconfig.json": FILES["tsconfig.json"]},
    # a CommonJS export removed, then a file deleted
    {"src/helpers.js": "exports.other = 1;\n"},
    {"src/client.js": None},
]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, env=GIT_ENV, capture_output=True)


def write(root: Path, files: dict[str, str | None]) -> None:
    for rel, content in files.items():
        path = root / rel
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


async def snapshot(rt: Runtime) -> tuple[list[str], set[str]]:
    entities = sorted(e.id for e in await rt.store.find(EntityQuery(repo="web", limit=10_000)))
    relations = {r.id for r in await rt.store.relations("web", CODE)}
    return entities, relations


@pytest.mark.slow
async def test_javascript_and_typescript_edits_match_a_fresh_index(tmp_path: Path) -> None:
    root = tmp_path / "web"
    root.mkdir()
    write(root, dict(FILES))
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "first")
    settings = Settings(graph_url=f"sqlite:///{tmp_path}/inc.db", embed=False)
    async with open_runtime(settings) as rt:
        await rt.indexer(embed=False).index(root, "web")
        _, first = await snapshot(rt)
        assert len(first) > 20  # the project resolved into a real graph
        for step, edit in enumerate(EDITS):
            write(root, edit)
            report = await rt.indexer(embed=False).index(root, "web")
            assert report.files_changed + report.files_deleted == 1, step
            fresh_settings = Settings(graph_url=f"sqlite:///{tmp_path}/fresh{step}.db", embed=False)
            async with open_runtime(fresh_settings) as fresh:
                await fresh.indexer(embed=False).index(root, "web")
                assert await snapshot(rt) == await snapshot(fresh), step
