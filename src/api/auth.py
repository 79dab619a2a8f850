"""Optional bearer-token auth (``KG_API_TOKEN``).

When a token is configured every GraphQL operation needs it — queries and subscriptions as well
as mutations, because the graph holds source code and history that a server reachable by others
should not hand out. HTTP clients send ``Authorization: Bearer <token>``; WebSocket clients send
the same header on the upgrade request or put ``{"Authorization": "Bearer <token>"}`` (or
``{"authToken": "<token>"}``) in the ``connection_init`` payload. ``/healthz``, the GraphiQL page
and its static assets stay public (they hold no data; paste the header into GraphiQL's headers
tab). Without a token configured, everything is open: bind to 127.0.0.1 then.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from kg.settings import Settings


def bearer(value: object) -> str | None:
    """The token in an ``Authorization`` value (``Bearer <token>``), or None."""
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def token_matches(settings: Settings, token: str | None) -> bool:
    """True when no token is configured, or ``token`` equals it (constant-time compare)."""
    expected = settings.api_token
    if not expected:
        return True
    return token is not None and hmac.compare_digest(token.encode(), expected.encode())


def authorized_headers(settings: Settings, headers: Mapping[str, str]) -> bool:
    return token_matches(settings, bearer(headers.get("authorization")))


def authorized_params(settings: Settings, params: Mapping[str, object] | None) -> bool:
    """A ``connection_init`` payload carrying the token (header-style or ``authToken``)."""
    if not params:
        return token_matches(settings, None)
    for key in ("Authorization", "authorization"):
        if (token := bearer(params.get(key))) is not None:
            return token_matches(settings, token)
    raw = params.get("authToken")
    return token_matches(settings, raw if isinstance(raw, str) else None)
