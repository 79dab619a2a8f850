"""Choose a GraphStore by URL: ``sqlite:///rel.db``, ``sqlite:////abs.db``, ``neo4j://host``.

::

    store = open_graph_store("sqlite:///.kg/graph.db")
    await store.start()

The Neo4j implementation is imported only when asked for, so the embedded path never loads the
driver.
"""

from __future__ import annotations

from urllib.parse import urlparse

from kg.errors import ConfigError
from kg.settings import GRAPH_SCHEMES, url_path
from kg.stores.base import GraphStore
from kg.stores.sqlite import SqliteGraphStore

_NEO4J_SCHEMES = tuple(s for s in GRAPH_SCHEMES if s.startswith(("neo4j", "bolt")))


def open_graph_store(url: str, *, user: str = "neo4j", password: str = "") -> GraphStore:
    """A not yet started GraphStore for ``url`` (call ``await store.start()``).

    Raises ConfigError for an unknown scheme or when the backend cannot be loaded.
    """
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        path = url_path(url)
        if str(path) in ("", "."):
            raise ConfigError(
                f"graph URL {url!r} names no database file; write e.g. sqlite:///.kg/graph.db"
            )
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteGraphStore(path)
    if scheme in _NEO4J_SCHEMES:
        return _neo4j(url, user, password)
    raise ConfigError(
        f"graph URL {url!r}: unknown scheme {scheme!r}; accepted: {', '.join(GRAPH_SCHEMES)} "
        "(e.g. sqlite:///.kg/graph.db or neo4j://localhost:7687)"
    )


def _neo4j(url: str, user: str, password: str) -> GraphStore:
    try:
        from kg.stores.neo4j import Neo4jGraphStore
    except ImportError as exc:
        raise ConfigError(
            f"graph URL {url!r} needs the Neo4j store (kg.stores.neo4j.Neo4jGraphStore), "
            f"which could not be loaded: {exc}; install the `neo4j` driver or use a sqlite:/// URL"
        ) from exc
    return Neo4jGraphStore(url, user=user, password=password)
