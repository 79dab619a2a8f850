"""Code-aware lexical encoding into sparse vectors (BM25 term weights; IDF is the index's job).

Identifiers are split the way people search for them: ``parseHTTPResponse`` also yields
``parse``, ``http`` and ``response``; ``src/kg/model.py`` also yields ``src``, ``kg``, ``model``
and ``py``. Both the whole token and its parts are kept, so an exact identifier query still
outranks a query that only shares parts. Tokens are hashed to stable 31-bit ids (blake2b, not
Python's per-process salted ``hash``), so vectors written by one process are searchable by
another::

    >>> enc = SparseEncoder()
    >>> tokenize("getUserName")
    ['getusername', 'get', 'user', 'name']
    >>> enc.encode_query("user name").values
    [1.0, 1.0]
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator

from embeddings.index.base import SparseVector

# A "compound" is an identifier-like run possibly joined by path or member separators:
# ``os.path.join``, ``src/kg/model.py``, ``well-known``. A dot or slash only joins when a word
# character follows, so sentence punctuation is not glued to words.
_COMPOUND = re.compile(r"[A-Za-z0-9_]+(?:[./\\:-]+[A-Za-z0-9_]+)*")
_SEGMENT_SPLIT = re.compile(r"[./\\:-]+")
# camelCase / PascalCase / acronym / digit boundaries: HTTPServer2Go -> HTTP, Server, 2, Go.
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

# Deliberately small: IDF already discounts frequent terms; these are the ones that only add
# noise to every document and query alike.
# fmt: off
STOPWORDS: frozenset[str] = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is", "it", "of",
    "on", "or", "that", "the", "this", "to", "was", "were", "with", "self", "cls",
})
# fmt: on

_MAX_TOKEN_LEN = 64
_MIN_TOKEN_LEN = 2


def _identifier_parts(identifier: str) -> Iterator[str]:
    """The whole identifier, then its snake/camel/digit parts when they differ from it."""
    yield identifier
    parts = [w for chunk in identifier.split("_") for w in _WORD.findall(chunk)]
    if parts != [identifier]:
        yield from parts


def _raw_tokens(text: str) -> Iterator[str]:
    for match in _COMPOUND.finditer(text):
        compound = match.group(0)
        segments = [s for s in _SEGMENT_SPLIT.split(compound) if s]
        if len(segments) > 1:
            yield compound
        for segment in segments:
            yield from _identifier_parts(segment)


def tokenize(text: str) -> list[str]:
    """Lowercased code-aware tokens of ``text``, in order, duplicates kept (they are tf)."""
    out: list[str] = []
    for token in _raw_tokens(text):
        low = token.lower()
        if _MIN_TOKEN_LEN <= len(low) <= _MAX_TOKEN_LEN and low not in STOPWORDS:
            out.append(low)
    return out


def token_id(token: str) -> int:
    """A stable non-negative 31-bit id for a token (same on every run and machine)."""
    digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=4).digest()
    return int.from_bytes(digest, "big") & 0x7FFFFFFF


class SparseEncoder:
    """BM25-style term weights for documents, binary weights for queries.

    ``k1`` saturates term frequency, ``b`` normalises by length against a fixed ``avg_len``
    (tokens); a fixed average keeps a document's vector independent of the rest of the corpus,
    so unchanged text never needs re-encoding. The index multiplies by IDF at query time.
    """

    def __init__(self, *, k1: float = 1.2, b: float = 0.75, avg_len: float = 120.0) -> None:
        if k1 < 0 or not 0.0 <= b <= 1.0 or avg_len <= 0:
            raise ValueError(
                f"SparseEncoder needs k1 >= 0, 0 <= b <= 1, avg_len > 0 "
                f"(got k1={k1}, b={b}, avg_len={avg_len})"
            )
        self.k1 = k1
        self.b = b
        self.avg_len = avg_len

    def encode_document(self, text: str) -> SparseVector:
        tokens = tokenize(text)
        if not tokens:
            return SparseVector(indices=[], values=[])
        norm = self.k1 * (1.0 - self.b + self.b * len(tokens) / self.avg_len)
        weights: dict[int, float] = {}
        for tok, tf in Counter(tokens).items():
            tid = token_id(tok)
            # Hash collisions are rare; when they happen the colliding terms add up.
            weights[tid] = weights.get(tid, 0.0) + tf * (self.k1 + 1.0) / (tf + norm)
        return _sorted_vector(weights)

    def encode_query(self, text: str) -> SparseVector:
        return _sorted_vector({token_id(tok): 1.0 for tok in tokenize(text)})


def _sorted_vector(weights: dict[int, float]) -> SparseVector:
    indices = sorted(weights)
    return SparseVector(indices=indices, values=[weights[i] for i in indices])
