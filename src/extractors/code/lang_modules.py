"""Module names from paths and import statements → ``ImportBinding``s, per language family.

Every language is mapped onto the resolver's dotted module namespace:

* ``path`` (JavaScript/TypeScript, C/C++, Ruby): the path without extension (C/C++ keep it as
  ``_h``, ``_c``: a header is not its source), ``/`` → ``.``;
  ``index.js`` is its directory's package; relative imports count levels like Python's.
* ``package`` (Java, Kotlin, C#, PHP): the declared package/namespace; files share it.
* ``dir`` (Go): the directory is the package.
* ``rust``: ``<crate>.<path under src>``; ``lib.rs``/``main.rs`` are the crate, ``mod.rs``
  its directory; every file is a package (``self::`` is the file, ``super::`` its parent).
"""

from __future__ import annotations

import posixpath

from tree_sitter import Node

from extractors.base import ImportBinding
from extractors.code.generic_model import GImport, last_name
from extractors.code.lang_spec import LangSpec

_JS_EXTS = (".d.ts", ".tsx", ".ts", ".jsx", ".mjs", ".cjs", ".js")
_MAX_USES = 256


def _seg(part: str) -> str:
    return part.replace(".", "_")


def _strip_ext(name: str, exts: tuple[str, ...]) -> str:
    lowered = name.lower()
    for ext in exts:
        if lowered.endswith(ext):
            return name[: -len(ext)]
    dot = name.rfind(".")
    return name[:dot] if dot > 0 else name


def module_for(spec: LangSpec, path: str, package: str | None) -> tuple[str, bool]:
    """The dotted module ``path`` belongs to, and whether it is a package."""
    if spec.module_style == "package":
        return (package or ""), False
    directory, _, base = path.rpartition("/")
    if spec.module_style == "dir":
        return ".".join(_seg(p) for p in directory.split("/") if p), False
    if spec.module_style == "rust":
        return _rust_module(path), True
    # C/C++ keep the extension: ``vec.h`` and ``vec.c`` are different modules (an include
    # names the header, never the source that defines what it declares).
    stem = (
        base
        if spec.import_style == "c"
        else _strip_ext(base, _JS_EXTS if spec.import_style == "js" else ())
    )
    parts = [_seg(p) for p in directory.split("/") if p]
    if spec.import_style == "js" and stem == "index":
        return ".".join(parts), True
    return ".".join([*parts, _seg(stem)]), False


def _rust_crate(path: str) -> tuple[str, list[str]]:
    parts = path.split("/")
    if "src" in parts:
        at = len(parts) - 1 - parts[::-1].index("src")
        crate = parts[at - 1].replace("-", "_") if at > 0 else "crate"
        return crate, parts[at + 1 :]
    return "crate", parts


def _rust_module(path: str) -> str:
    crate, rel = _rust_crate(path)
    rel = [*rel[:-1], _strip_ext(rel[-1], (".rs",))] if rel else []
    if rel and (rel[-1] == "mod" or (len(rel) == 1 and rel[0] in ("lib", "main"))):
        rel = rel[:-1]
    return ".".join([crate, *(_seg(p) for p in rel)])


def bindings(spec: LangSpec, path: str, imp: GImport, src: bytes) -> list[ImportBinding]:
    """The bindings one import statement makes (``local`` '*' for wildcards, '' for none)."""
    style = spec.import_style
    if style == "rust":
        return _rust(spec, path, imp, src)
    raw = imp.source.strip().strip("'\"`").strip()
    if style == "ruby" and imp.name == "require_relative":
        level, parts = _relative(raw if raw.startswith(".") else "./" + raw, (".rb",))
    elif style == "js":
        level, parts = _relative(raw, _JS_EXTS)
    elif style == "c" and imp.namespace:  # C++ ``using namespace a::b``
        return [_bind(imp, "*", [p for p in raw.split("::") if p], 0)]
    elif style in ("go", "c", "ruby"):
        level, parts = _absolute_path(spec, path, raw)
    else:  # java, kotlin, csharp, php: dotted names
        text = "".join(raw.split()).replace("\\", ".").replace("::", ".").strip(".")
        wildcard = imp.wildcard or text.endswith(".*")
        level, parts = 0, [p for p in text.removesuffix(".*").split(".") if p]
        if imp.name:  # PHP ``use A\{B, C}``: each name under the group's prefix
            parts.append(imp.name.replace("\\", ".").strip("."))
        if style == "csharp" and not imp.alias:
            wildcard = True
        return [
            _bind(
                imp,
                "*" if wildcard else (imp.alias or (parts[-1] if parts else "")),
                parts,
                level,
                symbol=not wildcard,
            )
        ]
    module = ".".join(parts)
    if style in ("c", "ruby") or imp.wildcard or (style == "go" and imp.alias == "."):
        return [_bind(imp, "*", parts, level)]
    if style == "go":
        local = "" if imp.alias == "_" else (imp.alias or (parts[-1] if parts else ""))
        return [_bind(imp, local, parts, level)]
    if imp.namespace:
        return [_bind(imp, imp.alias, parts, level)]
    if imp.default:
        return [_bind(imp, imp.alias, [*parts, "default"], level, symbol=True)]
    if imp.name:
        return [_bind(imp, imp.alias or imp.name, [*parts, imp.name], level, symbol=True)]
    return [ImportBinding(local="", target=module, level=level, line=imp.line, scope=imp.scope)]


def _bind(
    imp: GImport, local: str, parts: list[str], level: int, symbol: bool = False
) -> ImportBinding:
    return ImportBinding(
        local=local,
        target=".".join(parts),
        level=level,
        symbol=symbol,
        line=imp.line,
        scope=imp.scope,
    )


def _relative(raw: str, exts: tuple[str, ...]) -> tuple[int, list[str]]:
    """``./a/b.js`` → (1, [a, b]); ``../c`` → (2, [c]); a bare ``pkg/x`` → (0, [pkg, x])."""
    parts = [p for p in raw.split("/") if p]
    if not raw.startswith("."):
        return 0, [_seg(p) for p in parts]
    level = 1
    rest: list[str] = []
    for p in parts:
        if p == "..":
            level += 1
        elif p != ".":
            rest.append(p)
    if rest:
        rest[-1] = _strip_ext(rest[-1], exts) if rest[-1].lower().endswith(exts) else rest[-1]
        if rest[-1] == "index" and exts == _JS_EXTS:
            rest.pop()
    return level, [_seg(p) for p in rest]


def _absolute_path(spec: LangSpec, path: str, raw: str) -> tuple[int, list[str]]:
    """Go import paths, C includes and Ruby requires as absolute dotted names; a quoted C
    include is taken relative to the including file (the resolver falls back to suffixes)."""
    if spec.import_style == "c":
        if raw.startswith("<"):
            raw = raw.strip("<>")
        else:
            raw = posixpath.normpath(posixpath.join(posixpath.dirname(path), raw))
    elif spec.import_style == "ruby":
        raw = _strip_ext(raw, (".rb",)) if raw.endswith(".rb") else raw
    return 0, [_seg(p) for p in raw.split("/") if p and p != "."]


def _rust(spec: LangSpec, path: str, imp: GImport, src: bytes) -> list[ImportBinding]:
    node = imp.node
    if node is None:
        return []
    # A match per name of a use list (``use a::{B, C as D}``): the paths ending at that name.
    only = imp.name_node.start_byte if imp.name and imp.name_node is not None else -1
    crate, _ = _rust_crate(path)
    if node.parent is not None and node.parent.type == "mod_item":  # ``mod x;``
        name = _text(src, node)
        return [ImportBinding(local=name, target=name, level=1, line=imp.line, scope=imp.scope)]
    out: list[ImportBinding] = []
    for parts, alias, wildcard, leaf in _use_tree(node, src):
        if only >= 0 and last_name(spec, leaf).start_byte != only:
            continue
        if parts and parts[-1] == "self":
            parts = parts[:-1]
        level = 0
        if parts and parts[0] == "crate":
            parts = [crate, *parts[1:]]
        elif parts and parts[0] in ("self", "super"):
            supers = sum(1 for p in parts if p == "super")
            rest = [p for p in parts if p not in ("self", "super")]
            # Inside ``mod ops { ... }`` of a file, self/super start at the inline module.
            inline = imp.scope.split(".") if imp.scope else []
            if supers <= len(inline):
                level, parts = 1, [*inline[: len(inline) - supers], *rest]
            else:
                level, parts = 1 + supers - len(inline), rest
        if not parts and not wildcard:
            continue
        local = "*" if wildcard else (alias or parts[-1])
        out.append(
            ImportBinding(
                local=local,
                target=".".join(parts),
                level=level,
                symbol=not wildcard,
                line=imp.line,
                scope=imp.scope,
            )
        )
    return out


def _text(src: bytes, node: Node) -> str:
    return src[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _path_parts(node: Node | None, src: bytes) -> list[str]:
    parts: list[str] = []
    while node is not None and node.type == "scoped_identifier":
        name = node.child_by_field_name("name")
        if name is not None:
            parts.append(_text(src, name))
        node = node.child_by_field_name("path")
    if node is not None:
        parts.append(_text(src, node))
    return parts[::-1]


def _use_tree(node: Node, src: bytes) -> list[tuple[list[str], str, bool, Node]]:
    """Every path a ``use`` argument names: (parts, alias, wildcard, the node naming it);
    iterative and capped."""
    out: list[tuple[list[str], str, bool, Node]] = []
    stack: list[tuple[Node, list[str]]] = [(node, [])]
    while stack and len(out) < _MAX_USES:
        n, prefix = stack.pop()
        t = n.type
        if t == "use_as_clause":
            alias, named = n.child_by_field_name("alias"), n.child_by_field_name("path")
            parts = _path_parts(named, src)
            out.append(([*prefix, *parts], _text(src, alias) if alias else "", False, named or n))
        elif t == "use_wildcard":
            inner = n.named_children[0] if n.named_child_count else None
            out.append(([*prefix, *_path_parts(inner, src)], "", True, n))
        elif t == "scoped_use_list":
            base = _path_parts(n.child_by_field_name("path"), src)
            lst = n.child_by_field_name("list")
            if lst is not None:
                stack.append((lst, [*prefix, *base]))
        elif t == "use_list":
            stack.extend((c, prefix) for c in reversed(n.named_children))
        elif t in ("scoped_identifier", "identifier", "crate", "self", "super"):
            out.append(([*prefix, *_path_parts(n, src)], "", False, n))
    return out
