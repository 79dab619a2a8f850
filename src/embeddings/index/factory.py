"""Choose a VectorIndex from a URL (``KG_VECTOR_URL``).

>>> open_vector_index("edge:///.kg/vectors")  # doctest: +ELLIPSIS
<embeddings.index.edge.EdgeVectorIndex object at ...>
"""

from __future__ import annotations

from urllib.parse import urlparse

from embeddings.index.base import VectorIndex
from embeddings.index.edge import EdgeVectorIndex
from embeddings.index.qdrant import QdrantVectorIndex
from kg.errors import ConfigError
from kg.settings import VECTOR_SCHEMES, url_path


def open_vector_index(url: str, collection: str = "codekg", api_key: str = "") -> VectorIndex:
    """``edge:///rel/dir`` or ``edge:////abs/dir``: embedded index in that directory;
    ``memory://``: qdrant-client's in-process mode (nothing persisted);
    ``http(s)://host:port``: a Qdrant server. Nothing is opened until first use.
    """
    scheme = urlparse(url).scheme
    if scheme == "edge":
        path = url_path(url)
        if not str(path) or str(path) == ".":
            raise ConfigError(f"vector URL {url!r} names no directory (e.g. edge:///.kg/vectors)")
        return EdgeVectorIndex(path)
    if scheme == "memory":
        return QdrantVectorIndex(url, collection, location=":memory:")
    if scheme in ("http", "https"):
        return QdrantVectorIndex(url, collection, api_key or None)
    raise ConfigError(
        f"vector URL {url!r}: unknown scheme {scheme!r}; accepted: {', '.join(VECTOR_SCHEMES)} "
        "(e.g. edge:///.kg/vectors, memory://, http://localhost:6333)"
    )
