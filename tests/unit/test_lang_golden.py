"""Golden name-resolution tests of every tree-sitter language (``fixtures/langs/golden/<lang>``),
written from what each language means, scored through the product's extractors and resolvers.

Each floor is the score the engine reached: a change that loses an assertion fails here. Raise a
floor when the engine gets better; never lower one to make a change pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.registry import ExtractorRegistry
from kg.evaluation.resolution import ResolutionScore, score_directory

GOLDEN = Path(__file__).parent.parent / "fixtures" / "langs" / "golden"

# language folder → (passed at least, assertions)
FLOORS = {
    "c": (27, 27),
    "cpp": (31, 32),
    "csharp": (88, 88),
    "go": (45, 45),
    "java": (144, 145),
    "javascript": (144, 145),
    "kotlin": (102, 102),
    "php": (79, 79),
    "ruby": (65, 65),
    "rust": (48, 48),
    "typescript": (103, 106),
}


@pytest.fixture(scope="module")
def registry() -> ExtractorRegistry:
    return ExtractorRegistry.from_entry_points(strict=False)


@pytest.mark.parametrize("language", sorted(FLOORS))
def test_golden_score_does_not_drop(language: str, registry: ExtractorRegistry) -> None:
    score: ResolutionScore = score_directory(GOLDEN / language, registry)
    floor, total = FLOORS[language]
    assert score.total == total, "assertions were added or lost: update FLOORS"
    failures = [f for s in score.per_file.values() for f in s.failures]
    assert score.passed >= floor, failures


def test_every_language_folder_has_a_floor() -> None:
    folders = {p.name for p in GOLDEN.iterdir() if p.is_dir()}
    assert folders == set(FLOORS)
