"""What code search embeds: one document per class/function and one summary per file.

Shared by every language's extractor so chunking changes in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kg.model import AttrValue, Document, Entity, EntityKind, entity_id

DOC_LIMIT = 2000


def symbol_document(
    entity: Entity,
    qualname: str,
    path: str,
    language: str,
    attrs: Mapping[str, AttrValue],
    body: str,
) -> Document:
    """The code as written (its signature and docstring are in it), after the names that
    enclose it and a doc comment that sits outside it, truncated to ``DOC_LIMIT`` characters.

    Repeating the module-qualified name, signature and docstring in front of the code (as
    this once did) cost 0.026 MRR with MiniLM on CoSQA: the model embeds code best as code,
    and the header pushed the body's tail past its 256-token window."""
    enclosing = qualname.rsplit(".", 1)[0] if "." in qualname else ""
    doc = attrs.get("docstring", "")
    outside = isinstance(doc, str) and doc.strip() and doc.strip().splitlines()[0] not in body
    parts = (enclosing, doc if outside else "", body)
    text = "\n".join(p for p in parts if isinstance(p, str) and p)[:DOC_LIMIT]
    return Document(
        entity.id,
        entity.repo,
        entity.kind,
        text,
        payload={
            "path": path,
            "language": language,
            "name": qualname,
            "kind": entity.kind.value,
        },
    )


def code_prefix(src: bytes, start: int, end: int, docstring: str) -> str:
    """``src[start:end]`` decoded, or as much of it as ``symbol_document`` can read: its text
    stops at ``DOC_LIMIT`` characters, so only a prefix is needed unless the docstring's first
    line is looked for past it. ``src`` must be valid UTF-8 (the cut may split a character)."""
    cut = start + 4 * DOC_LIMIT + 4  # at least DOC_LIMIT whole characters
    if end <= cut:
        return src[start:end].decode("utf-8", "replace")
    head = src[start:cut].decode("utf-8", "ignore")  # drops only the split last character
    line = docstring.strip()
    if not line or line.splitlines()[0] in head:
        return head
    return src[start:end].decode("utf-8", "replace")


def file_document(
    repo: str, path: str, language: str, docstring: str, entities: Iterable[Entity]
) -> Document:
    """The file's path, its module docstring and the names of the classes/functions it holds."""
    names = [e.name for e in entities if e.kind in (EntityKind.CLASS, EntityKind.FUNCTION)]
    text = "\n".join(p for p in (path, docstring, " ".join(names)) if p)[:DOC_LIMIT]
    return Document(
        entity_id(EntityKind.FILE, repo, path),
        repo,
        EntityKind.FILE,
        text,
        payload={"path": path, "language": language, "name": path, "kind": "File"},
    )
