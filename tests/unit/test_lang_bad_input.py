"""Hostile input in every tree-sitter language: a syntax error never costs the file its other
symbols, deep nesting never overflows the stack, garbage bytes never raise."""

from __future__ import annotations

import pytest

from extractors.base import SourceFile
from extractors.registry import ExtractorRegistry
from kg.model import EntityKind

REGISTRY = ExtractorRegistry.from_entry_points()

# (file name, source with a broken statement between two good functions, deep nesting)
CASES = {
    "javascript": (
        "a.js",
        "function good() { return 1; }\nlet = = ;\nfunction fine() {}\n",
        "let x = {0}1{1};",
    ),
    "typescript": (
        "a.ts",
        "function good(): number { return 1 }\nclass {{\nfunction fine() {}\n",
        "let x = {0}1{1};",
    ),
    "tsx": (
        "a.tsx",
        "function good() { return <a/> }\nconst = ;\nfunction fine() {}\n",
        "let x = {0}1{1};",
    ),
    "go": (
        "a.go",
        "package a\nfunc good() int { return 1 }\nfunc ( {\nfunc fine() {}\n",
        "package a\nvar x = {0}1{1}",
    ),
    "java": (
        "A.java",
        "class A { int good() { return 1; } void ( { } int fine() { return 2; } }",
        "class A {{ int x = {0}1{1}; }}",
    ),
    "kotlin": ("a.kt", "fun good(): Int = 1\nfun ( {\nfun fine() {}\n", "val x = {0}1{1}"),
    "csharp": (
        "A.cs",
        "class A { int Good() { return 1; } void ( { } int Fine() => 2; }",
        "class A {{ int x = {0}1{1}; }}",
    ),
    "rust": ("a.rs", "fn good() -> i32 { 1 }\nfn ( {\nfn fine() {}\n", "const X: i32 = {0}1{1};"),
    "c": (
        "a.c",
        "int good(void) { return 1; }\nint ( {\nint fine(void) { return 2; }\n",
        "int x = {0}1{1};",
    ),
    "cpp": (
        "a.cpp",
        "int good() { return 1; }\nclass {{\nint fine() { return 2; }\n",
        "int x = {0}1{1};",
    ),
    "ruby": ("a.rb", "def good\n  1\nend\ndef (\nend end\ndef fine\nend\n", "x = {0}1{1}"),
    "php": (
        "a.php",
        "<?php\nfunction good() { return 1; }\nfunction ( {\nfunction fine() {}\n",
        "<?php $x = {0}1{1};",
    ),
}


def _functions(lang: str, data: bytes) -> tuple[set[str], list[str]]:
    name = CASES[lang][0]
    extractor = REGISTRY.for_path(name)
    assert extractor is not None and extractor.name == f"code-{lang}"
    out = extractor.extract_file(SourceFile("r", name, data))
    funcs = {e.name for e in out.batch.entities if e.kind is EntityKind.FUNCTION}
    assert {e.kind for e in out.batch.entities} >= {EntityKind.FILE, EntityKind.MODULE}
    return funcs, out.errors


@pytest.mark.parametrize("lang", sorted(CASES))
def test_a_syntax_error_keeps_the_other_symbols(lang: str) -> None:
    funcs, errors = _functions(lang, CASES[lang][1].encode())
    assert errors, "the broken statement is reported"
    assert "good" in {f.lower() for f in funcs}, funcs


@pytest.mark.parametrize("lang", sorted(CASES))
def test_deep_nesting_does_not_overflow(lang: str) -> None:
    depth = 3000
    src = CASES[lang][2].replace("{0}", "(" * depth).replace("{1}", ")" * depth)
    _functions(lang, src.encode())  # no RecursionError, no crash


@pytest.mark.parametrize("lang", sorted(CASES))
def test_garbage_bytes_and_empty_files(lang: str) -> None:
    _, errors = _functions(lang, bytes(range(256)) * 8)
    assert any("UTF-8" in e for e in errors)
    funcs, errors = _functions(lang, b"")
    assert funcs == set()


@pytest.mark.parametrize("lang", sorted(CASES))
def test_references_of_deep_code_resolve_without_overflow(lang: str) -> None:
    name = CASES[lang][0]
    extractor = REGISTRY.for_path(name)
    assert extractor is not None
    src = CASES[lang][2].replace("{0}", "(" * 2000).replace("{1}", ")" * 2000)
    out = extractor.extract_file(SourceFile("r", name, src.encode()))
    resolver = extractor.resolver()
    assert resolver is not None
    resolver.resolve("r", out, {name: out.symbols})
