"""Docstring → code pairs mined from Python source, for adapting an embedding model.

Each documented function gives one pair: the query is the first sentence of its docstring
(what a user would ask for), the code is the function as the code extractor indexes it
(signature and body) with the docstring taken out, so the model has to learn to find the
code from what it does rather than by matching the docstring's own words. Tests, private
helpers of one line and docstrings that only say "See X" are skipped::

    mined = mine_directory(Path("src"), limit=20_000)
    mined.pairs[0]   # Pair(query='Return the sum of a and b.', code='def add(a, b):\\n    ...')
"""

from __future__ import annotations

import ast
import random
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MIN_QUERY_WORDS = 3
MAX_QUERY_CHARS = 200
MIN_BODY_LINES = 2
MAX_FILE_BYTES = 1_000_000
SKIP_DIRS = frozenset({".git", ".venv", "venv", "node_modules", "__pycache__", "build", "dist"})
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_NOT_A_DESCRIPTION = re.compile(r"^(see |deprecated|todo|xxx|fixme|:|>>>|\.\.)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Pair:
    query: str
    code: str


@dataclass(slots=True)
class Mined:
    """Pairs found under a directory, and how many files were read or could not be parsed."""

    pairs: list[Pair] = field(default_factory=list)
    files: int = 0
    unreadable: int = 0


def summary_line(docstring: str) -> str | None:
    """The first sentence of a docstring's first paragraph, or None if it describes nothing."""
    paragraph = " ".join(docstring.strip().split("\n\n", 1)[0].split())
    sentence = _SENTENCE_END.split(paragraph, maxsplit=1)[0].strip()
    if len(sentence.split()) < MIN_QUERY_WORDS or _NOT_A_DESCRIPTION.match(sentence):
        return None
    return sentence[:MAX_QUERY_CHARS]


def source_pairs(source: str) -> list[Pair]:
    """One pair per documented, non-test function of a module's source (none if unparsable)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes in old code are not our concern
            tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    lines = source.splitlines(keepends=True)
    out: list[Pair] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if node.name.startswith("test") or (node.name.startswith("__") and node.name != "__call__"):
            continue
        pair = _function_pair(node, lines)
        if pair is not None:
            out.append(pair)
    return out


def _function_pair(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> Pair | None:
    doc = ast.get_docstring(node, clean=True)
    query = summary_line(doc) if doc else None
    if query is None or len(node.body) < 2 or node.end_lineno is None:
        return None
    first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
    doc_node = node.body[0]
    assert doc_node.end_lineno is not None  # parsed nodes carry their positions
    # Keep what precedes and follows the docstring statement; drop its lines.
    kept = lines[first - 1 : doc_node.lineno - 1] + lines[doc_node.end_lineno : node.end_lineno]
    code = _dedent("".join(kept)).strip("\n")
    if code.count("\n") + 1 < MIN_BODY_LINES:
        return None
    return Pair(query, code)


def _dedent(text: str) -> str:
    rows = text.splitlines()
    indents = [len(r) - len(r.lstrip()) for r in rows if r.strip()]
    cut = min(indents, default=0)
    return "\n".join(r[cut:] for r in rows)


def python_files(root: Path) -> Iterator[Path]:
    """``.py`` files under ``root`` in a stable order, skipping tests and tool directories."""
    for path in sorted(root.rglob("*.py")):
        parts = set(path.relative_to(root).parts[:-1])
        if parts & SKIP_DIRS or any(p in ("test", "tests") for p in parts):
            continue
        if path.name.startswith("test_"):
            continue
        yield path


def mine_directory(roots: Path | list[Path], limit: int, seed: int = 0) -> Mined:
    """At most ``limit`` pairs from the Python files under ``roots``, one per distinct query,
    sampled evenly (``seed``) when there are more."""
    mined = Mined()
    seen: set[str] = set()
    for root in [roots] if isinstance(roots, Path) else roots:
        for path in python_files(root):
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    continue
                source = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                mined.unreadable += 1
                continue
            mined.files += 1
            for pair in source_pairs(source):
                if pair.query.lower() not in seen:
                    seen.add(pair.query.lower())
                    mined.pairs.append(pair)
    if len(mined.pairs) > limit:
        mined.pairs = random.Random(seed).sample(mined.pairs, limit)
    return mined
