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
    """Qualified name, signature, docstring and body, truncated to ``DOC_LIMIT`` characters."""
    parts = (attrs["qualname"], attrs.get("signature", ""), attrs.get("docstring", ""), body)
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
