"""Root fixtures: the real Neo4j and Kafka test services that `make test` starts.

``scripts/services.sh up`` starts them on loopback and writes ``.services/env`` with
``KG_TEST_NEO4J_URL`` and ``KG_TEST_KAFKA_BOOTSTRAP``. A test needs a service either by asking
for the ``neo4j_url`` / ``kafka_bootstrap`` fixture or by carrying the ``neo4j`` / ``kafka``
marker (which is how a parametrized backend, e.g. a contract-suite entry, says so). When the
variable is missing the test fails under ``CI=true`` and is skipped, with the reason, elsewhere.
"""

from __future__ import annotations

import os

import pytest

SERVICES = {
    "neo4j": ("KG_TEST_NEO4J_URL", "the Neo4j test service"),
    "kafka": ("KG_TEST_KAFKA_BOOTSTRAP", "the Kafka test service"),
}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def service_address(service: str) -> str:
    """The address of a test service, or fail (CI) / skip (elsewhere) saying how to start it."""
    var, what = SERVICES[service]
    value = os.environ.get(var, "").strip()
    if value:
        return value
    reason = (
        f"{var} is not set, so {what} is not available; run `make test`, or start it with "
        f"`scripts/services.sh up && source .services/env`"
    )
    if _in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for service in SERVICES:
        if item.get_closest_marker(service) is not None:
            service_address(service)


@pytest.fixture(scope="session")
def neo4j_url() -> str:
    """``bolt://127.0.0.1:PORT`` of the Neo4j test service (auth disabled)."""
    return service_address("neo4j")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """``127.0.0.1:PORT`` of the Kafka test broker."""
    return service_address("kafka")
