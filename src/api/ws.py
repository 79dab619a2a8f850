"""WebSocket protocol handlers: strawberry's, plus server keep-alive for graphql-transport-ws.

The legacy ``graphql-ws`` protocol has its own ``ka`` keep-alive (strawberry sends it). The
``graphql-transport-ws`` protocol has ``ping``/``pong`` but strawberry only answers client
pings; behind proxies that drop idle connections a subscriber waiting for rare events would be
cut off, so the server pings every ``keep_alive_interval`` once the connection is acknowledged.

Backpressure: strawberry awaits each send before pulling the next result from a subscription,
so a slow client stalls only its own operation; the bus then drops that subscriber's oldest
events (bounded queue). Nothing here buffers outgoing messages.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage

from api.context import ApiContext


class TransportWSHandler(BaseGraphQLTransportWSHandler[ApiContext, None]):
    _pinger: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        interval: Any = getattr(self.view, "keep_alive_interval", None)
        if self.connection_acknowledged and self._pinger is None and interval:
            self._pinger = asyncio.create_task(self._ping(float(interval)))

    async def _ping(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.send_message({"type": "ping"})

    async def shutdown(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pinger
        await super().shutdown()
