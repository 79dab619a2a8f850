"""The GitHub REST connector against recorded responses served on 127.0.0.1: pagination by
Link headers, rate-limit waits (403 + x-ratelimit-reset, 429 + retry-after), token header."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from extractors.discussions.export import export_batch
from extractors.discussions.github import GitHubClient, next_link
from kg.errors import ExtractorError
from kg.model import EntityKind, RelationKind

RECORDING = Path(__file__).parents[1] / "fixtures" / "github" / "acme-widgets.json"


class Recorded:
    """Serves the routes of a recording; remembers every request."""

    def __init__(self) -> None:
        self.routes: list[dict[str, Any]] = json.loads(RECORDING.read_text())["routes"]
        self.requests: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.reset = int(time.time()) + 3
        self.base = ""

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        for route in self.routes:
            if route["path"] == path and route["query"].items() <= query.items():
                if route.get("once"):
                    self.routes.remove(route)
                headers = {
                    k: v.replace("{base}", self.base).replace("{reset}", str(self.reset))
                    for k, v in route["headers"].items()
                }
                return route["status"], headers, json.dumps(route["body"]).encode()
        return 404, {}, b'{"message": "Not Found"}'


@pytest.fixture
def server() -> Iterator[Recorded]:
    rec = Recorded()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = dict(parse_qsl(url.query))
            rec.requests.append((url.path, query, dict(self.headers.items())))
            status, headers, body = rec.answer(url.path, query)
            self.send_response(status)
            for k, v in {**headers, "content-type": "application/json"}.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        httpd.shutdown()
        httpd.server_close()


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)  # recorded, not slept: the test needs no real minutes


async def test_fetch_export_paginates_and_waits_out_rate_limits(server: Recorded) -> None:
    sleeps = Sleeps()
    async with GitHubClient(base_url=server.base, token="t0ken", sleep=sleeps, per_page=2) as gh:
        export = await gh.fetch_export("acme", "widgets")
    assert [i["number"] for i in export["issues"]] == [7, 9, 3]  # page 2 reached via Link
    assert [p["number"] for p in export["pulls"]] == [9]
    assert len(export["reviews"]) == len(export["comments"]) == len(export["review_comments"]) == 1
    assert sleeps.waits[0] == 1.0  # 429 retry-after: 1
    assert 1.0 <= sleeps.waits[1] <= 4.0  # 403 until x-ratelimit-reset (+1s margin), not 60s
    assert all(h.get("Authorization") == "Bearer t0ken" for _, _, h in server.requests)
    page2 = [q for p, q, _ in server.requests if q.get("page") == "2"]
    assert page2 == [{"state": "all", "per_page": "2", "page": "2"}]

    batch = export_batch("widgets", export)
    kinds = sorted(e.kind.value for e in batch.entities if e.kind is not EntityKind.PERSON)
    assert kinds == ["Comment"] * 3 + ["Issue"] * 2 + ["PullRequest"]
    on = [r for r in batch.relations if r.kind is RelationKind.COMMENTS_ON]
    assert len(on) == 3
    assert [r.attrs["state"] for r in batch.relations if r.kind is RelationKind.REVIEWS] == [
        "APPROVED"
    ]
    assert all(d.vector == "text" for d in batch.documents)


async def test_rate_limit_gives_up_after_max_retries(server: Recorded) -> None:
    server.routes = [
        {"path": "/x", "query": {}, "status": 429, "headers": {"retry-after": "5"}, "body": {}}
    ]
    sleeps = Sleeps()
    async with GitHubClient(base_url=server.base, sleep=sleeps, max_retries=2) as gh:
        with pytest.raises(ExtractorError, match=r"429.*rate limited"):
            _ = [i async for i in gh.paginate("/x")]
    assert sleeps.waits == [5.0, 5.0]
    assert all("Authorization" not in h for _, _, h in server.requests)  # no token, no header


async def test_plain_403_is_not_retried(server: Recorded) -> None:
    server.routes = [{"path": "/y", "query": {}, "status": 403, "headers": {}, "body": {}}]
    async with GitHubClient(base_url=server.base, sleep=Sleeps()) as gh:
        with pytest.raises(ExtractorError, match="403"):
            _ = [i async for i in gh.paginate("/y")]
    assert len(server.requests) == 1


def test_next_link() -> None:
    header = '<https://a/x?page=2>; rel="next", <https://a/x?page=5>; rel="last"'
    assert next_link(header) == "https://a/x?page=2"
    assert next_link('<https://a/x?page=1>; rel="prev"') is None
    assert next_link(None) is None
