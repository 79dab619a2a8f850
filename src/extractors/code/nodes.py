"""What a name can stand for while the resolver evaluates it (a small abstract value domain)."""

from __future__ import annotations

from dataclasses import dataclass

from extractors.base import Definition, ImportBinding
from extractors.code.expr import Expr


@dataclass(frozen=True, slots=True)
class Ctx:
    """Where an expression is evaluated: file, scope qualname, line (for flow), bound args."""

    path: str
    scope: str
    line: int
    env: tuple[tuple[str, tuple[Node, ...]], ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class DefNode:
    path: str
    d: Definition

    @property
    def key(self) -> tuple[object, ...]:
        return ("d", self.path, id(self.d))


@dataclass(frozen=True, slots=True, eq=False)
class BindNode:
    """An import binding seen through ``prefix`` of its local name (``a`` of ``import a.b``)."""

    path: str
    b: ImportBinding
    prefix: str

    @property
    def key(self) -> tuple[object, ...]:
        return ("b", self.path, id(self.b), self.prefix)


@dataclass(frozen=True, slots=True, eq=False)
class ModNode:
    name: str
    external: bool = False

    @property
    def key(self) -> tuple[object, ...]:
        return ("m", self.name, self.external)


@dataclass(frozen=True, slots=True, eq=False)
class InstNode:
    """An instance of a class; ``env``: what ``new C(args)`` bound its constructor's
    parameters to (a member assigned from one holds that argument)."""

    cls: DefNode
    env: tuple[tuple[str, tuple[Node, ...]], ...] = ()

    @property
    def key(self) -> tuple[object, ...]:
        return ("i", *self.cls.key) if not self.env else ("ie", id(self))


@dataclass(frozen=True, slots=True, eq=False)
class SuperNode:
    cls: DefNode

    @property
    def key(self) -> tuple[object, ...]:
        return ("s", *self.cls.key)


@dataclass(frozen=True, slots=True, eq=False)
class TupleNode:
    items: tuple[Expr, ...]
    ctx: Ctx

    @property
    def key(self) -> tuple[object, ...]:
        return ("t", id(self))


@dataclass(frozen=True, slots=True, eq=False)
class ArgNode:
    """A parameter bound to the argument of one call."""

    param: DefNode
    bound: tuple[Node, ...]

    @property
    def key(self) -> tuple[object, ...]:
        return ("a", id(self))


@dataclass(frozen=True, slots=True, eq=False)
class PathNode:
    """``a.c`` when only ``a.c.d = ...`` binds anything under it."""

    path: str
    scope: str
    name: str

    @property
    def key(self) -> tuple[object, ...]:
        return ("p", self.path, self.scope, self.name)


Node = PathNode | DefNode | BindNode | ModNode | InstNode | SuperNode | TupleNode | ArgNode

STABLE = (PathNode, DefNode, BindNode, ModNode, InstNode, SuperNode)


def uniq(nodes: list[Node], cap: int = 32) -> list[Node]:
    if len(nodes) < 2:  # the common case; callers always pass a list of their own
        return nodes
    seen: set[tuple[object, ...]] = set()
    out: list[Node] = []
    for n in nodes:
        k = n.key
        if k not in seen:
            seen.add(k)
            out.append(n)
            if len(out) >= cap:
                break
    return out
