"""Helpers for scripts/services.sh: free ports, a KRaft cluster id and readiness probes.

Usage (run with the project's .venv python)::

    probe.py ports N                        # N free loopback ports, space separated
    probe.py cluster-id                     # a random KRaft cluster id
    probe.py neo4j URL PID TIMEOUT STARTED  # until a Bolt query returns 1
    probe.py kafka BOOTSTRAP PID TIMEOUT STARTED  # until the broker answers a metadata request

A probe exits 0 once the service answers, printing how long it took since STARTED (epoch
seconds), and 1 if the process PID died or TIMEOUT seconds passed.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import sys
import time
import uuid
from collections.abc import Awaitable, Callable


def free_ports(n: int) -> list[int]:
    # Hold every socket open until all are bound so the n ports are distinct.
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def cluster_id() -> str:
    # Kafka's own format: a UUID as 22 url-safe base64 characters, never starting with "-"
    # (kafka-storage would read such an id as an option: one start in 64 failed on it).
    while True:
        found = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not found.startswith("-"):
            return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie has exited even though kill(0) succeeds.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return False


async def neo4j_ready(url: str) -> None:
    from neo4j import AsyncGraphDatabase

    # An auto-commit query in a session: execute_query would retry for 30 s by itself.
    async with (
        AsyncGraphDatabase.driver(url, auth=None) as driver,
        driver.session() as session,
    ):
        record = await (await session.run("RETURN 1 AS one")).single()
        if record is None or record["one"] != 1:
            raise RuntimeError("unexpected answer")


async def kafka_ready(bootstrap: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        if not cluster.get("brokers"):
            raise RuntimeError("no broker registered yet")
    finally:
        await admin.close()


async def wait(
    name: str, check: Callable[[], Awaitable[None]], pid: int, limit: float, started: float
) -> int:
    deadline = time.monotonic() + limit
    last = ""
    while time.monotonic() < deadline:
        if not alive(pid):
            print(f"{name}: process {pid} exited before it was ready", file=sys.stderr)
            return 1
        try:
            await asyncio.wait_for(check(), timeout=10)
        except Exception as exc:  # any failure just means "not ready yet"
            last = f"{type(exc).__name__}: {exc}"
            await asyncio.sleep(0.5)
            continue
        print(f"{name} ready in {time.time() - started:.1f} s")
        return 0
    print(f"{name}: not ready after {limit:.0f} s (last error: {last})", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    # Refused connections while a service boots are expected; only the outcome matters.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    logging.getLogger("neo4j").setLevel(logging.CRITICAL)
    cmd = argv[0] if argv else ""
    if cmd == "ports":
        print(" ".join(str(p) for p in free_ports(int(argv[1]))))
        return 0
    if cmd == "cluster-id":
        print(cluster_id())
        return 0
    if cmd in ("neo4j", "kafka") and len(argv) == 5:
        target, pid, timeout, started = argv[1], int(argv[2]), float(argv[3]), float(argv[4])
        probe = neo4j_ready if cmd == "neo4j" else kafka_ready
        return asyncio.run(wait(cmd, lambda: probe(target), pid, timeout, started))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
