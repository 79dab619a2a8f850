"""Where a file sits in the module namespace of its repository (Python-style dotted names)."""

from __future__ import annotations

_SOURCE_ROOTS = ("src/",)


def module_name(path: str, extensions: tuple[str, ...] = (".py", ".pyi")) -> tuple[str, bool]:
    """The dotted module a repository-relative path defines, and whether it is a package.

    >>> module_name("src/pkg/__init__.py")
    ('pkg', True)
    >>> module_name("pkg/sub/mod.py")
    ('pkg.sub.mod', False)
    """
    rel = path
    for root in _SOURCE_ROOTS:
        if rel.startswith(root):
            rel = rel[len(root) :]
            break
    for ext in extensions:
        if rel.endswith(ext):
            rel = rel[: -len(ext)]
            break
    parts = [p for p in rel.split("/") if p]
    is_package = bool(parts) and parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def parent_module(name: str) -> str:
    return name.rpartition(".")[0]
