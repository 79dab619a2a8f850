"""A live GitHub REST connector: a repository's issues, pull requests, comments and reviews.

    async with GitHubClient(token=None) as gh:                # a token raises the rate limit
        export = await gh.fetch_export("pallets", "flask")    # the shape ``export`` reads

Every listing is followed through its ``Link: <...>; rel="next"`` headers to the end. On 403/429
with ``retry-after`` (seconds) or ``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset`` (epoch
seconds) the client waits that long (at most ``max_wait`` each time) and retries, up to
``max_retries`` times; any other error status raises ``ExtractorError`` naming the URL.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any

import httpx

from kg.errors import ExtractorError

API = "https://api.github.com"
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')

Sleep = Callable[[float], Awaitable[None]]


def next_link(header: str | None) -> str | None:
    m = _NEXT.search(header or "")
    return m.group(1) if m else None


class GitHubClient:
    def __init__(
        self,
        *,
        base_url: str = API,
        token: str | None = None,
        max_retries: int = 5,
        max_wait: float = 900.0,
        per_page: int = 100,
        sleep: Sleep = asyncio.sleep,
        timeout: float = 30.0,
    ) -> None:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout)
        self._retries, self._max_wait, self._per_page = max_retries, max_wait, per_page
        self._sleep = sleep
        self.requests = 0
        self.waited = 0.0

    async def __aenter__(self) -> GitHubClient:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._http.aclose()

    def _wait_for(self, r: httpx.Response) -> float | None:
        """Seconds to wait before retrying a rate-limited response, None if it is not one."""
        if r.status_code not in (403, 429):
            return None
        if (after := r.headers.get("retry-after")) is not None:
            try:
                return max(float(after), 0.0)
            except ValueError:
                return 60.0
        if r.headers.get("x-ratelimit-remaining") == "0":
            reset = r.headers.get("x-ratelimit-reset", "")
            return max(float(reset) - time.time(), 0.0) + 1.0 if reset.isdigit() else 60.0
        return 60.0 if r.status_code == 429 else None  # a plain 403 is a permission error

    async def _get(self, url: str, params: dict[str, str] | None) -> httpx.Response:
        for attempt in range(self._retries + 1):
            self.requests += 1
            try:
                r = await self._http.get(url, params=params)
            except httpx.HTTPError as exc:
                raise ExtractorError(f"GitHub request {url} failed: {exc!r}") from exc
            wait = self._wait_for(r)
            if wait is None or attempt == self._retries:
                break
            wait = min(wait, self._max_wait)
            self.waited += wait
            await self._sleep(wait)
        if r.status_code >= 400:
            hint = " (rate limited: pass a token or retry later)" if wait is not None else ""
            raise ExtractorError(
                f"GitHub answered {r.status_code} for {r.request.url}{hint}: {r.text[:200]}"
            )
        return r

    async def paginate(self, path: str, **params: str) -> AsyncIterator[dict[str, Any]]:
        """Every object of a REST listing, following ``rel="next"`` links."""
        url: str | None = path
        query: dict[str, str] | None = {"per_page": str(self._per_page), **params}
        while url is not None:
            r = await self._get(url, query)
            data = r.json()
            if not isinstance(data, list):
                raise ExtractorError(f"GitHub listing {r.request.url} is not a JSON array")
            for item in data:
                if isinstance(item, dict):
                    yield item
            url, query = next_link(r.headers.get("link")), None  # the link carries the query

    async def _all(self, path: str, **params: str) -> list[dict[str, Any]]:
        return [item async for item in self.paginate(path, **params)]

    async def fetch_export(self, owner: str, name: str) -> dict[str, list[dict[str, Any]]]:
        """Issues, pulls, issue comments, review comments and reviews of ``owner/name``."""
        base = f"/repos/{owner}/{name}"
        pulls = await self._all(f"{base}/pulls", state="all")
        reviews: list[dict[str, Any]] = []
        for p in pulls:
            number = p.get("number")
            if isinstance(number, int):
                reviews += await self._all(f"{base}/pulls/{number}/reviews")
        return {
            "issues": await self._all(f"{base}/issues", state="all"),
            "pulls": pulls,
            "comments": await self._all(f"{base}/issues/comments"),
            "review_comments": await self._all(f"{base}/pulls/comments"),
            "reviews": reviews,
        }
