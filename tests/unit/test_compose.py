"""docker-compose.yml and the Dockerfile agree with what codekg's Settings make of them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from kg.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")


def expand(value: object) -> str:
    """Compose's ``${VAR:-default}`` with VAR unset, as a plain `docker compose up` sees it."""
    return DEFAULTED.sub(lambda m: m.group(2), str(value))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return dict(compose["services"])


def env(service: dict[str, Any]) -> dict[str, str]:
    return {k: expand(v) for k, v in service.get("environment", {}).items()}


def container_ports(service: dict[str, Any]) -> set[int]:
    return {int(str(p).rsplit(":", 1)[1]) for p in service["ports"]}


@pytest.fixture(scope="module")
def settings(services: dict[str, Any]) -> Settings:
    # The codekg container's environment, read by the real Settings (KG_ prefix and all).
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env(services["codekg"]).items():
            mp.setenv(key, value)
        return Settings(_env_file=None)


def test_the_four_services(services: dict[str, Any]) -> None:
    assert set(services) == {"neo4j", "qdrant", "kafka", "codekg"}
    assert services["neo4j"]["image"] == "neo4j:5.26"
    assert services["qdrant"]["image"].startswith("qdrant/qdrant")
    assert_qdrant_matches_client(services["qdrant"]["image"])
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["codekg"]["build"] == "."


def test_backends_are_healthchecked_and_persisted(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    for name in ("neo4j", "qdrant", "kafka"):
        svc = services[name]
        assert svc["healthcheck"]["test"][0] == "CMD-SHELL", name
        (volume,) = svc["volumes"]
        assert volume.split(":")[0] in compose["volumes"], name
        assert services["codekg"]["depends_on"][name] == {"condition": "service_healthy"}


def test_host_ports_bind_to_loopback_only(services: dict[str, Any]) -> None:
    for name, svc in services.items():
        for port in svc["ports"]:
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_codekg_settings_point_at_the_compose_services(
    services: dict[str, Any], settings: Settings
) -> None:
    graph = urlparse(settings.graph_url)
    assert (graph.scheme, graph.hostname, graph.port) == ("neo4j", "neo4j", 7687)
    assert graph.port in container_ports(services["neo4j"])
    # A neo4j:// (routing) client goes where the server's routing table says.
    assert env(services["neo4j"])["NEO4J_server_default__advertised__address"] == graph.hostname

    vector = urlparse(settings.vector_url)
    assert (vector.scheme, vector.hostname, vector.port) == ("http", "qdrant", 6333)
    assert vector.port in container_ports(services["qdrant"])

    host, port = settings.kafka_bootstrap.split(":")
    kafka = env(services["kafka"])
    assert f"PLAINTEXT://{host}:{port}" in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert int(port) in container_ports(services["kafka"])
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper


def test_neo4j_credentials_match(services: dict[str, Any], settings: Settings) -> None:
    user, _, password = env(services["neo4j"])["NEO4J_AUTH"].partition("/")
    assert (settings.graph_user, settings.graph_password) == (user, password)
    assert len(password) >= 8  # Neo4j 5 refuses shorter initial passwords


def test_dockerfile_serves_on_the_published_port(services: dict[str, Any]) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    codekg = services["codekg"]
    (published,) = container_ports(codekg)
    assert f"EXPOSE {published}" in dockerfile
    command = codekg["command"]
    assert command[:2] == ["kg", "serve"]
    assert command[command.index("--port") + 1] == str(published)
    assert command[command.index("--host") + 1] == "0.0.0.0"  # reachable through the mapping


def assert_qdrant_matches_client(image: str) -> None:
    """A pinned server tag within one minor version of the installed qdrant-client."""
    from importlib.metadata import version

    tag = image.rpartition(":")[2]
    m = re.fullmatch(r"v(\d+)\.(\d+)\.\d+", tag)
    assert m, f"pin qdrant/qdrant to a release tag like v1.19.0, not {tag!r}"
    client = tuple(int(x) for x in version("qdrant-client").split(".")[:2])
    assert int(m.group(1)) == client[0] and abs(int(m.group(2)) - client[1]) <= 1
