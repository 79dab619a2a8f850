"""Length-sorted batching shared by the embedders.

Transformer cost grows with the longest text of a batch (everything is padded to it), so texts
of similar length are batched together and the results put back in the caller's order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence


def length_sorted_batches(
    texts: Sequence[str], batch_size: int
) -> Iterator[tuple[list[int], list[str]]]:
    """``(positions, texts)`` batches, longest texts first (a too-big batch fails early)."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    for start in range(0, len(order), max(1, batch_size)):
        positions = order[start : start + batch_size]
        yield positions, [texts[i] for i in positions]


def embed_in_order(
    texts: Sequence[str],
    batch_size: int,
    encode: Callable[[list[str]], list[list[float]]],
) -> list[list[float]]:
    """Run ``encode`` over length-sorted batches and return vectors in the order of ``texts``."""
    out: list[list[float]] = [[] for _ in texts]
    for positions, batch in length_sorted_batches(texts, batch_size):
        for pos, vec in zip(positions, encode(batch), strict=True):
            out[pos] = vec
    return out
