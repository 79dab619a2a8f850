"""Settings: built once (CLI or app) from ``KG_*`` environment variables and ``.env``.

Library code never reads the environment; it takes a ``Settings`` or explicit arguments.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kg.errors import ConfigError

GRAPH_SCHEMES = ("sqlite", "neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")
VECTOR_SCHEMES = ("edge", "memory", "http", "https")


class Settings(BaseSettings):
    """Every knob of codekg. Example: ``KG_GRAPH_URL=neo4j://localhost:7687 kg index .``"""

    model_config = SettingsConfigDict(env_prefix="KG_", env_file=".env", extra="ignore")

    graph_url: str = "sqlite:///.kg/graph.db"
    graph_user: str = "neo4j"
    graph_password: str = ""
    vector_url: str = "edge:///.kg/vectors"
    vector_api_key: str = ""
    collection: str = "codekg"
    kafka_bootstrap: str = ""
    kafka_topic_prefix: str = "kg."
    kafka_partitions: int = 4
    embedding_model: str = "all-MiniLM-L6-v2"
    embedding_device: str = "cpu"
    embedding_batch_size: int = 64
    embed: bool = True
    max_file_bytes: int = 1_000_000
    include_generated: bool = False
    history: bool = True
    api_token: str = ""
    cors_origins: list[str] = []
    max_query_depth: int = 12
    max_aliases: int = 30
    max_complexity: int = 5000
    subscriber_queue: int = 256

    @field_validator("graph_url")
    @classmethod
    def _graph_scheme(cls, v: str) -> str:
        scheme = urlparse(v).scheme
        if scheme not in GRAPH_SCHEMES:
            raise ConfigError(
                f"KG_GRAPH_URL={v!r}: unknown scheme {scheme!r}; "
                f"accepted: {', '.join(GRAPH_SCHEMES)} (e.g. sqlite:///.kg/graph.db)"
            )
        return v

    @field_validator("vector_url")
    @classmethod
    def _vector_scheme(cls, v: str) -> str:
        scheme = urlparse(v).scheme
        if scheme not in VECTOR_SCHEMES:
            raise ConfigError(
                f"KG_VECTOR_URL={v!r}: unknown scheme {scheme!r}; "
                f"accepted: {', '.join(VECTOR_SCHEMES)} (e.g. edge:///.kg/vectors)"
            )
        return v


def url_path(url: str) -> Path:
    """The filesystem path of a ``scheme:///path`` URL (relative when written ``scheme:///rel``).

    ``sqlite:///.kg/graph.db`` is the relative path ``.kg/graph.db``;
    ``sqlite:////tmp/g.db`` is the absolute ``/tmp/g.db``.
    """
    rest = url.split("://", 1)[1] if "://" in url else url
    if rest.startswith("/"):
        rest = rest[1:]
    return Path(rest)
