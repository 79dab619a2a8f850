"""Scores name resolution on golden tests in the stack-graphs format.

A test file holds one or more source files, each after a header ``#--- path: NAME ---#``
(``global: ROOT_PATH=dir`` headers set the import root), and assertions under the line they
test: ``#   ^ defined: 3, 7`` says the identifier above the caret resolves to definitions on
those lines of the whole test file (nothing after ``defined:`` means: nothing in the project).
Any language's line comment works (``#``, ``//``, ``--``, ``;``), and headers may also be
block comments (``/*--- path: a.ts ---*/``), so golden tests of every language are read alike.

Every embedded file goes through the extractor the registry picks for its extension and that
extractor's resolver, exactly as in ingestion::

    score = score_directory(Path("../shared/eval/name-resolution/python"))
    print(f"{score.passed}/{score.total} = {score.ratio:.3f}")
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from extractors.base import FileExtract, SourceFile
from extractors.code.expr import parse
from extractors.code.resolver import ScopeResolver
from extractors.registry import ExtractorRegistry

_COMMENT = r"(?:#|//|--|;|/\*)"
_HEADER = re.compile(rf"^\s*{_COMMENT}\s*-+\s*(path|global):\s*(.+?)\s*-*\s*(?:\*/|#|//|--|;)?\s*$")
_ASSERT = re.compile(rf"^\s*{_COMMENT}[^\^]*\^\s*defined:(.*)$")
_REPO = "golden"


@dataclass(slots=True)
class FileScore:
    passed: int = 0
    total: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ResolutionScore:
    passed: int
    total: int
    per_file: dict[str, FileScore]

    @property
    def ratio(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass(slots=True)
class _Assertion:
    line: int  # 1-based line of the asserted identifier
    col: int
    expected: frozenset[int]
    source_line: int


def split_sources(text: str, default_name: str) -> tuple[dict[str, str], list[_Assertion]]:
    """The embedded files (each keeps its line numbers: other lines are blanked) and the
    assertions of a golden test file."""
    lines = text.split("\n")
    owner: list[str | None] = [None] * len(lines)
    current, root = (default_name if not any(_is_path_header(x) for x in lines) else None), ""
    names: list[str] = []
    for i, raw in enumerate(lines):
        header = _HEADER.match(raw)
        if header and header.group(1) == "path":
            current = header.group(2)
            names.append(current)
            continue
        if header:
            key, _, value = header.group(2).partition("=")
            if key.strip() == "ROOT_PATH":
                root = value.strip().rstrip("/") + "/"
            continue
        owner[i] = current
    if current == default_name:
        names.append(default_name)
    files: dict[str, str] = {}
    for name in dict.fromkeys(names):
        body = "\n".join(raw if owner[i] == name else "" for i, raw in enumerate(lines))
        rel = name[len(root) :] if root and name.startswith(root) else name
        files[rel] = body
    return files, _assertions(lines)


def _is_path_header(line: str) -> bool:
    m = _HEADER.match(line)
    return bool(m and m.group(1) == "path")


def _assertions(lines: list[str]) -> list[_Assertion]:
    out: list[_Assertion] = []
    target = 0
    for i, raw in enumerate(lines):
        m = _ASSERT.match(raw)
        if m is None:
            target = i
            continue
        expected = frozenset(int(x) for x in re.findall(r"\d+", m.group(1)))
        out.append(_Assertion(target + 1, raw.index("^"), expected, i + 1))
    return out


def score_file(path: Path, registry: ExtractorRegistry) -> FileScore:
    files, assertions = split_sources(path.read_text(encoding="utf-8"), path.name)
    sites = _resolve(files, registry)
    score = FileScore(total=len(assertions))
    for a in assertions:
        got: set[int] = set()
        for (line, start, end), lines in sites.items():
            if line == a.line and start <= a.col < end:
                got |= lines
        if got == set(a.expected):
            score.passed += 1
        else:
            score.failures.append(
                f"{path.name}:{a.source_line}: expected {sorted(a.expected)}, got {sorted(got)}"
            )
    return score


def _resolve(
    files: dict[str, str], registry: ExtractorRegistry
) -> dict[tuple[int, int, int], set[int]]:
    """(line, start col, end col) of each reference → the lines it resolves to."""
    # Keyed by language family: TypeScript files resolve against JavaScript ones.
    by_resolver: dict[frozenset[str], tuple[ScopeResolver, list[FileExtract]]] = {}
    for name, body in files.items():
        extractor = registry.for_path(name)
        if extractor is None:
            continue
        resolver = extractor.resolver()
        if not isinstance(resolver, ScopeResolver):
            continue
        extract = extractor.extract_file(SourceFile(_REPO, name, body.encode("utf-8")))
        slot = by_resolver.setdefault(resolver.profile.family, (resolver, []))
        slot[1].append(extract)
    out: dict[tuple[int, int, int], set[int]] = {}
    for resolver, extracts in by_resolver.values():
        tables = {e.path: e.symbols for e in extracts}
        for extract in extracts:
            for binding in resolver.bind(extract, tables):
                ref = binding.reference
                width = max(len(parse(ref.name).last_name), 1)
                key = (ref.line, ref.col, ref.col + width)
                out.setdefault(key, set()).update(line for _, line in binding.sites)
    return out


def score_directory(path: Path | str, registry: ExtractorRegistry | None = None) -> ResolutionScore:
    """Score every golden test file under ``path`` (recursively)."""
    root = Path(path)
    reg = registry if registry is not None else ExtractorRegistry.from_entry_points(strict=False)
    per_file: dict[str, FileScore] = {}
    for test in sorted(p for p in root.rglob("*") if p.is_file()):
        if reg.for_path(test.name) is None:
            continue
        per_file[str(test.relative_to(root))] = score_file(test, reg)
    return ResolutionScore(
        sum(s.passed for s in per_file.values()), sum(s.total for s in per_file.values()), per_file
    )
