"""GraphQL over HTTP details strawberry leaves out: the ``application/graphql-response+json``
media type (graphql-over-http spec) and its status codes.

A client that prefers ``application/graphql-response+json`` (listed before ``application/json``
in ``Accept``) gets that content type; a request error (the document does not parse or
validate, the operation is too complex, the token is missing) then answers 400 (401 for auth)
with no ``data`` entry, as the spec asks. ``application/json`` clients keep the classic
behaviour: 200 and ``"data": null``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

GRAPHQL_RESPONSE = "application/graphql-response+json"
_KNOWN = (GRAPHQL_RESPONSE, "application/json", "*/*", "application/*")


def prefers_graphql_response(accept: str | None) -> bool:
    """True when the first acceptable media type we serve is graphql-response+json."""
    for part in (accept or "").split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media in _KNOWN:
            return media == GRAPHQL_RESPONSE
    return False


class SubResponse(Response):
    """Strawberry's per-request response template, remembering the request it belongs to."""

    def __init__(self, request: Request) -> None:
        super().__init__()
        # like strawberry's own template: no status or length of its own to copy over
        self.status_code = None  # type: ignore[assignment]
        del self.headers["content-length"]
        self.request = request
        self.graphql_response = prefers_graphql_response(request.headers.get("accept"))
        self.request_error_status: int | None = None


def request_error_status(codes: list[object]) -> int:
    return 401 if "UNAUTHENTICATED" in codes else 400
