# strawberry types field(description=...) as returning Any, which strict mypy rejects
# mypy: disable-error-code="untyped-decorator"
"""The Relay ``Node`` interface and the mapping from graph entities to GraphQL objects.

A node's ``id`` is the entity id itself (``Function:…``): its kind prefix lets ``node(id)``
pick the type without a lookup. Concrete types register themselves with ``register(kind)``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import TypeVar

import strawberry

from kg.model import Entity, EntityKind

N = TypeVar("N", bound="Node")
_TYPES: dict[EntityKind, type[Node]] = {}


@strawberry.interface(description="An object with a global id (Relay); refetch it by `node(id)`.")
class Node:
    id: strawberry.ID
    entity: strawberry.Private[Entity]

    @strawberry.field(description="Display name (a symbol's short name, a file's base name).")
    def name(self) -> str:
        return self.entity.name

    @strawberry.field(description="Name of the repository this belongs to.")
    def repo(self) -> str:
        return self.entity.repo


def to_node(entity: Entity | None) -> Node | None:
    """The GraphQL object for an entity; None for kinds this API version does not expose."""
    if entity is None:
        return None
    cls = _TYPES.get(entity.kind)
    return None if cls is None else cls(id=strawberry.ID(entity.id), entity=entity)


def register(kind: EntityKind) -> Callable[[type[N]], type[N]]:
    def deco(cls: type[N]) -> type[N]:
        _TYPES[kind] = cls
        return cls

    return deco


def attr(entity: Entity, key: str) -> str | None:
    value = entity.attrs.get(key)
    return value if isinstance(value, str) and value else None


def attr_int(entity: Entity, key: str) -> int | None:
    value = entity.attrs.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def attr_strs(entity: Entity, key: str) -> list[str]:
    value = entity.attrs.get(key)
    if isinstance(value, list):
        return [str(v) for v in value]
    return [value] if isinstance(value, str) and value else []


def attr_time(entity: Entity, key: str) -> datetime | None:
    value = attr(entity, key)
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@strawberry.enum(description="Kinds of code symbols.")
class SymbolKind(Enum):
    MODULE = EntityKind.MODULE.value
    CLASS = EntityKind.CLASS.value
    FUNCTION = EntityKind.FUNCTION.value
    VARIABLE = EntityKind.VARIABLE.value


def symbol_kinds(kinds: list[SymbolKind] | None) -> list[EntityKind]:
    return [EntityKind(k.value) for k in (kinds or list(SymbolKind))]


@strawberry.type(description="A source range: lines 1-based inclusive, columns 0-based.")
class Span:
    start_line: int
    end_line: int
    start_col: int
    end_col: int
