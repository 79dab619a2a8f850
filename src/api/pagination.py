# strawberry types field(description=...) as returning Any, which strict mypy rejects
# mypy: disable-error-code="untyped-decorator"
"""Relay cursor connections: opaque cursors, ``PageInfo`` and the generic edge/connection types.

Cursors are base64 of ``<tag>:<value>`` so clients treat them as opaque while we keep them
stable: ``k:`` wraps an entity id (keyset pagination in the store, or a position in an
in-memory list), ``o:`` a search offset.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import strawberry

from kg.errors import InvalidInput

MAX_PAGE = 500
T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    """A page of nodes; ``totalCount`` is computed only when asked for."""

    edges: list[Edge[T]]
    page_info: PageInfo
    counter: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many nodes match, across all pages.")
    async def total_count(self) -> int:
        return await self.counter()


def encode(tag: str, value: str | int) -> str:
    return base64.urlsafe_b64encode(f"{tag}:{value}".encode()).decode("ascii")


def decode(cursor: str | None, tag: str) -> str | None:
    """The value inside a cursor made by ``encode(tag, ...)``; None for no cursor."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raw = ""
    got, sep, value = raw.partition(":")
    if not sep or got != tag:
        raise InvalidInput(
            f"after={cursor!r} is not a cursor of this list; pass an `endCursor` or `cursor` "
            "from the same field, or omit `after` to start at the beginning"
        )
    return value


def decode_offset(cursor: str | None) -> int | None:
    value = decode(cursor, "o")
    if value is None:
        return None
    if not value.isdigit():
        raise InvalidInput(f"after={cursor!r} is not a search cursor; omit it or pass `cursor`")
    return int(value)


def check_first(first: int) -> int:
    if not 0 <= first <= MAX_PAGE:
        raise InvalidInput(f"first={first}: page size must be between 0 and {MAX_PAGE}")
    return first


def page_after(
    items: Sequence[T], key: Callable[[T], str], first: int, after: str | None
) -> tuple[list[T], bool]:
    """Slice an in-memory list like keyset pagination: items after the one whose key is
    ``after`` (a decoded ``k:`` cursor), at most ``first`` of them, and whether more follow."""
    check_first(first)
    start = 0
    if after is not None:
        keys = [key(i) for i in items]
        start = keys.index(after) + 1 if after in keys else len(items)
    chunk = list(items[start : start + first])
    return chunk, start + first < len(items)


def page_info(cursors: Sequence[str], has_next: bool) -> PageInfo:
    return PageInfo(has_next_page=has_next, end_cursor=cursors[-1] if cursors else None)
