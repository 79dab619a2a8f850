"""Symbol spans of a file version, and what one file diff did to them.

``Parsed`` is what the history keeps of one blob: its Function/Class entities with spans and a
hash of each body, produced by the same file extractor the code stage uses (so keys and ids
match the current graph). ``map_hunks`` intersects a diff's hunks with the spans of the old and
new versions; ``pair_renames`` matches symbols that vanished with symbols that appeared in the
same commit (renames, moves between classes or files) by body evidence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from extractors.base import FileExtractor, SourceFile
from extractors.history.diff import Hunk
from extractors.history.outline import OUTLINERS
from kg.model import Entity, EntityKind, Span, content_hash

KINDS = frozenset({EntityKind.FUNCTION, EntityKind.CLASS})
MIN_SIMILARITY = 0.7
MAX_PAIRS = 40_000  # removed x added candidates per commit before we stop looking for renames


@dataclass(frozen=True, slots=True)
class Symbol:
    entity: Entity
    span: Span
    body: tuple[str, ...]  # stripped lines after the first (the signature names the symbol)
    body_hash: str


@dataclass(frozen=True, slots=True)
class Parsed:
    path: str
    symbols: dict[str, Symbol]  # by entity id


def parse_blob(repo: str, path: str, data: bytes, extractor: FileExtractor) -> Parsed:
    """The Function/Class symbols of one version of ``path`` (through the extractor's fast
    outliner when it has one, else its full ``extract_file``)."""
    outliner = OUTLINERS.get(extractor.name)
    if outliner is not None:
        entities = outliner(repo, path, data)
    else:
        extract = extractor.extract_file(SourceFile(repo=repo, path=path, data=data))
        entities = extract.batch.entities
    lines = data.decode("utf-8", "replace").splitlines()
    symbols: dict[str, Symbol] = {}
    for e in entities:
        if e.kind not in KINDS or e.span is None:
            continue
        body = tuple(ln.strip() for ln in lines[e.span.start_line : e.span.end_line])
        body = tuple(ln for ln in body if ln)
        symbols[e.id] = Symbol(e, e.span, body, content_hash("\n".join(body)))
    return Parsed(path, symbols)


@dataclass(slots=True)
class Touch:
    """What a commit did to one symbol."""

    symbol: Symbol
    change: str  # A added, D deleted, M modified, R renamed/moved (see the RENAMED_TO edge)
    added: int = 0
    removed: int = 0


def _overlap(span: Span, start: int, count: int) -> int:
    if count <= 0:
        return 0
    lo, hi = max(span.start_line, start), min(span.end_line, start + count - 1)
    return max(0, hi - lo + 1)


def map_hunks(old: Parsed | None, new: Parsed | None, hunks: Sequence[Hunk]) -> list[Touch]:
    """Per symbol: lines removed (old side) and added (new side); appeared/vanished ones too.

    A line inside a method also counts for its class: "the class changed" is true then.
    """
    olds = old.symbols if old is not None else {}
    news = new.symbols if new is not None else {}
    touches: list[Touch] = []
    for sid, sym in news.items():
        added = sum(_overlap(sym.span, h.new_start, h.new_count) for h in hunks)
        if sid not in olds:
            touches.append(Touch(sym, "A", added=added or _size(sym)))
            continue
        removed = sum(_overlap(olds[sid].span, h.old_start, h.old_count) for h in hunks)
        if added or removed:
            touches.append(Touch(sym, "M", added=added, removed=removed))
    for sid, sym in olds.items():
        if sid not in news:
            removed = sum(_overlap(sym.span, h.old_start, h.old_count) for h in hunks)
            touches.append(Touch(sym, "D", removed=removed or _size(sym)))
    return touches


def _size(sym: Symbol) -> int:
    return sym.span.end_line - sym.span.start_line + 1


@dataclass(frozen=True, slots=True)
class Rename:
    old: Symbol
    new: Symbol
    confidence: float
    method: str  # body-hash | similarity


@dataclass(slots=True)
class _Candidates:
    gone: list[Symbol] = field(default_factory=list)
    born: list[Symbol] = field(default_factory=list)


def pair_renames(touches: Iterable[Touch]) -> list[Rename]:
    """One-to-one pairs of (vanished, appeared) symbols of the same kind, best evidence first.

    Identical body: confidence 1.0 when the name is unchanged (a move), 0.95 when renamed.
    Otherwise the line similarity of the bodies, if at least ``MIN_SIMILARITY``, times 0.9.
    Bodies of fewer than two lines carry too little evidence and are never paired.
    """
    by_kind: dict[EntityKind, _Candidates] = {}
    for t in touches:
        if len(t.symbol.body) < 2:
            continue
        c = by_kind.setdefault(t.symbol.entity.kind, _Candidates())
        if t.change == "D":
            c.gone.append(t.symbol)
        elif t.change == "A":
            c.born.append(t.symbol)
    scored: list[tuple[float, str, str, Rename]] = []
    for c in by_kind.values():
        if len(c.gone) * len(c.born) > MAX_PAIRS:
            continue
        for g in c.gone:
            for b in c.born:
                r = _score(g, b)
                if r is not None:
                    scored.append((-r.confidence, g.entity.id, b.entity.id, r))
    scored.sort(key=lambda s: s[:3])
    used: set[str] = set()
    out: list[Rename] = []
    for _, gid, bid, r in scored:
        if gid not in used and bid not in used:
            used |= {gid, bid}
            out.append(r)
    return out


def _score(g: Symbol, b: Symbol) -> Rename | None:
    same_name = g.entity.name == b.entity.name
    if g.body_hash == b.body_hash:
        return Rename(g, b, 1.0 if same_name else 0.95, "body-hash")
    matcher = SequenceMatcher(None, g.body, b.body, autojunk=False)
    if matcher.real_quick_ratio() < MIN_SIMILARITY or matcher.quick_ratio() < MIN_SIMILARITY:
        return None
    ratio = matcher.ratio()
    if ratio < MIN_SIMILARITY:
        return None
    return Rename(g, b, round(ratio * 0.9, 3), "similarity")
