"""A tiny, language-neutral expression language for what flows into a name.

Extractors write the value of an assignment, a return, a call's callee or a reference as a
string in this language; the resolver parses it back. Keeping it textual keeps ``SymbolTable``
JSON-serialisable and the resolver independent of any grammar::

    a.b(c, k=d)[0]      name a, member b, call with args (c, k=d), element 0
    @..pkg.mod.x        absolute import path x in ../pkg/mod (two leading dots: level 2)
    (a,b)               a tuple of a and b
    ^ / ^^              the receiver (``self``/``this``) / its base classes (``super()``)
    ?                   something we cannot describe

>>> parse("f(x).y").ops[-1]
Attr(name='y')
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

UNKNOWN = "?"
RECEIVER = "^"
SUPER = "^^"


@dataclass(frozen=True, slots=True)
class Attr:
    name: str


@dataclass(frozen=True, slots=True)
class Call:
    args: tuple[Expr, ...]
    kwargs: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True, slots=True)
class Index:
    index: int


Op = Attr | Call | Index


@dataclass(frozen=True, slots=True)
class Expr:
    """``head`` is one of: ``name`` (a lexical name), ``import`` (``path`` with ``level``),
    ``tuple`` (``items``), ``receiver``, ``super``, ``unknown``."""

    head: str
    name: str = ""
    level: int = 0
    items: tuple[Expr, ...] = ()
    ops: tuple[Op, ...] = ()

    @property
    def last_name(self) -> str:
        """The identifier a reference to this expression points at (its last member)."""
        for op in reversed(self.ops):
            if isinstance(op, Attr):
                return op.name
            if isinstance(op, Call | Index):
                return ""
        return self.name.rsplit(".", 1)[-1]

    @property
    def is_path(self) -> bool:
        """A plain dotted name: binding it to another name makes an alias (no call, no index)."""
        return self.head == "name" and all(isinstance(op, Attr) for op in self.ops)


_UNKNOWN_EXPR = Expr("unknown")
_PUNCT = frozenset("().,[]=")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _PUNCT:
            out.append(ch)
            i += 1
            continue
        j = i
        while j < n and text[j] not in _PUNCT:
            j += 1
        out.append(text[i:j].strip())
        i = j
    return out


class _Parser:
    """Recursive descent; extractors cap the nesting of what they write, so depth is bounded."""

    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.pos = 0

    def peek(self) -> str:
        return self.toks[self.pos] if self.pos < len(self.toks) else ""

    def take(self) -> str:
        tok = self.peek()
        self.pos += 1
        return tok

    def expr(self) -> Expr:
        head = self.primary()
        ops: list[Op] = []
        while True:
            tok = self.peek()
            if tok == ".":
                self.take()
                ops.append(Attr(self.take()))
            elif tok == "(":
                self.take()
                ops.append(self.call_args())
            elif tok == "[":
                self.take()
                raw = self.take()
                self.take()  # ]
                ops.append(Index(int(raw)) if raw.lstrip("-").isdigit() else Index(-1))
            else:
                break
        if not ops:
            return head
        return Expr(head.head, head.name, head.level, head.items, head.ops + tuple(ops))

    def primary(self) -> Expr:
        tok = self.take()
        if tok == "(":
            items: list[Expr] = []
            while self.peek() not in (")", ""):
                items.append(self.expr())
                if self.peek() == ",":
                    self.take()
            self.take()
            return Expr("tuple", items=tuple(items))
        if tok == RECEIVER:
            return Expr("receiver")
        if tok == SUPER:
            return Expr("super")
        if tok.startswith("@"):
            return self.import_path(tok[1:])
        if not tok or tok == UNKNOWN or tok in _PUNCT:
            return _UNKNOWN_EXPR
        return Expr("name", name=tok)

    def import_path(self, first: str) -> Expr:
        level = 0
        parts = [first] if first else []
        if not first:
            while self.peek() == ".":
                self.take()
                level += 1
            if self.peek() and self.peek() not in _PUNCT:
                parts.append(self.take())
        while self.peek() == "." and self.pos + 1 < len(self.toks):
            self.take()
            parts.append(self.take())
        return Expr("import", name=".".join(parts), level=level)

    def call_args(self) -> Call:
        args: list[Expr] = []
        kwargs: list[tuple[str, Expr]] = []
        while self.peek() not in (")", ""):
            if self.pos + 1 < len(self.toks) and self.toks[self.pos + 1] == "=":
                key = self.take()
                self.take()
                kwargs.append((key, self.expr()))
            else:
                args.append(self.expr())
            if self.peek() == ",":
                self.take()
        self.take()
        return Call(tuple(args), tuple(kwargs))


@lru_cache(maxsize=65536)
def parse(text: str) -> Expr:
    """Parse an expression string; malformed input yields an ``unknown`` expression."""
    try:
        return _Parser(text).expr()
    except (IndexError, ValueError):
        return _UNKNOWN_EXPR


@lru_cache(maxsize=65536)
def names_read(text: str) -> tuple[tuple[str, ...], bool]:
    """The lexical names evaluating ``text`` looks up where it is written (its head's and
    those of the arguments and tuple items in it; members are looked up elsewhere), and
    whether it reads the receiver (``^``, ``^^``: the enclosing class)."""
    found: set[str] = set()
    receiver = False
    todo = [parse(text)]
    while todo:
        e = todo.pop()
        if e.head == "name":
            found.add(e.name)
        receiver = receiver or e.head in ("receiver", "super")
        todo += e.items
        for op in e.ops:
            if isinstance(op, Call):
                todo += op.args
                todo += [arg for _, arg in op.kwargs]
    return tuple(sorted(found)), receiver
