"""The built-in tree-sitter languages: a :class:`LangSpec`, a resolver :class:`Profile` and a
one-line extractor class each, registered as ``kg.extractors`` entry points.

Specs and profiles live with their family: ``lang_ecmascript.py`` (JavaScript, TypeScript,
TSX), ``lang_jvm.py`` (Java, Kotlin, C#), ``lang_systems.py`` (Go, Rust, C, C++) and
``lang_scripting.py`` (Ruby, PHP).

Adding a language: write ``queries/<grammar>/{definitions,imports,references}.scm``, add a
spec and a profile to its family's module (or reuse a family's profile), an extractor class
here, an entry point, and a test.
"""

from __future__ import annotations

from extractors.base import FileExtract, SourceFile
from extractors.code.lang_ecmascript import JAVASCRIPT, JS_PROFILE, TSX, TYPESCRIPT
from extractors.code.lang_jvm import (
    CSHARP,
    CSHARP_PROFILE,
    JAVA,
    JVM_PROFILE,
    KOTLIN,
    KOTLIN_PROFILE,
)
from extractors.code.lang_scripting import PHP, PHP_PROFILE, RUBY, RUBY_PROFILE
from extractors.code.lang_systems import C_PROFILE, CPP, GO, GO_PROFILE, RUST, RUST_PROFILE, C
from extractors.code.projects import CONFIG_NAMES, config_extract
from extractors.code.treesitter import TreeSitterExtractor


class JavaScriptExtractor(TreeSitterExtractor):
    spec, profile = JAVASCRIPT, JS_PROFILE

    def __init__(self) -> None:
        super().__init__()
        # Project files decide what the family's import paths mean (``projects.py``).
        self.extensions = self.spec.extensions | CONFIG_NAMES

    def extract_file(self, file: SourceFile) -> FileExtract:
        if file.path.rpartition("/")[2] in CONFIG_NAMES:
            return config_extract(file, self.spec.name)
        return super().extract_file(file)


class TypeScriptExtractor(TreeSitterExtractor):
    spec, profile = TYPESCRIPT, JS_PROFILE


class TsxExtractor(TreeSitterExtractor):
    spec, profile = TSX, JS_PROFILE


class GoExtractor(TreeSitterExtractor):
    spec, profile = GO, GO_PROFILE


class JavaExtractor(TreeSitterExtractor):
    spec, profile = JAVA, JVM_PROFILE


class KotlinExtractor(TreeSitterExtractor):
    spec, profile = KOTLIN, KOTLIN_PROFILE


class CSharpExtractor(TreeSitterExtractor):
    spec, profile = CSHARP, CSHARP_PROFILE


class RustExtractor(TreeSitterExtractor):
    spec, profile = RUST, RUST_PROFILE


class CExtractor(TreeSitterExtractor):
    spec, profile = C, C_PROFILE


class CppExtractor(TreeSitterExtractor):
    spec, profile = CPP, C_PROFILE


class RubyExtractor(TreeSitterExtractor):
    spec, profile = RUBY, RUBY_PROFILE


class PhpExtractor(TreeSitterExtractor):
    spec, profile = PHP, PHP_PROFILE
