"""WebSocket protocol handlers: strawberry's, with shared subscription execution and server
keep-alive for graphql-transport-ws.

Shared execution (``api.fanout``): a subscription to a shareable field joins the hub's stream
for its (document, operation name, variables, auth scope) instead of running on its own; each
result arrives JSON-encoded once and goes out as one ``send_text`` of a frame built around that
text. Everything else (queries and mutations over a socket, ``ingestProgress``, documents that
do not parse) runs through strawberry unchanged.

Backpressure: each operation's task awaits its own sends, so a slow client stalls only itself;
its member queue (``settings.subscriber_queue``) then drops its oldest results. For operations
strawberry runs itself, the bus subscription's bounded queue does the same.

Keep-alive: the legacy ``graphql-ws`` protocol has its own ``ka`` message (strawberry sends
it). ``graphql-transport-ws`` has ``ping``/``pong`` but strawberry only answers client pings;
behind proxies that drop idle connections a subscriber waiting for rare events would be cut
off, so the server pings every ``keep_alive_interval`` once the connection is acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import CompleteMessage, ErrorMessage

from api.context import ApiContext, make_context
from api.fanout import FanoutHub, Member, Payload


def _join(
    view: object, context: ApiContext, query: object, name: object, variables: object
) -> tuple[FanoutHub, Member] | None:
    """A membership in the shared stream for this operation, or None to run it alone (also
    when the message is malformed: strawberry answers that as the protocol says)."""
    hub = getattr(view, "fanout", None)
    if not isinstance(hub, FanoutHub) or not isinstance(query, str):
        return None
    if (name is not None and not isinstance(name, str)) or (
        variables is not None and not isinstance(variables, dict)
    ):
        return None
    scope = "authorized" if context.authorized else "anonymous"
    key = hub.key(query, name, variables, scope=scope)
    if key is None:
        return None

    def shared_context() -> ApiContext:
        # the stream outlives any one connection: it gets a context of its own
        return make_context(
            context.settings, context.service, cache=False, authorized=context.authorized
        )

    return hub, hub.join(key, shared_context)


async def _send_text(websocket: AsyncWebSocketAdapter, text: str) -> None:
    if not isinstance(websocket, ASGIWebSocketAdapter):
        raise TypeError(f"shared subscriptions need an ASGI WebSocket, got {type(websocket)}")
    try:
        await websocket.ws.send_text(text)
    except WebSocketDisconnect as exc:
        raise WebSocketDisconnected from exc


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

    async def run_operation(self, operation: Operation[ApiContext, None]) -> None:
        joined = _join(
            self.view, self.context, operation.query, operation.operation_name, operation.variables
        )
        if joined is None:
            await super().run_operation(operation)
            return
        hub, member = joined
        try:
            async for item in member:
                if operation.completed:
                    return
                if isinstance(item, Payload):
                    await _send_text(self.websocket, item.frame("next", operation.id))
                    continue
                error = {"id": operation.id, "type": "error", "payload": item.errors}
                await operation.send_operation_message(error)  # type: ignore[arg-type]
                return
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except Exception as error:  # as strawberry does: log, complete, forget the operation
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            hub.leave(member)

    async def shutdown(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pinger
        await super().shutdown()


class GraphQLWSHandler(BaseGraphQLWSHandler[ApiContext, None]):
    """The legacy ``graphql-ws`` (subscriptions-transport-ws) protocol, with shared execution."""

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        joined = _join(self.view, self.context, query, operation_name, variables)
        if joined is None:
            await super().handle_async_results(operation_id, query, operation_name, variables)
            return
        hub, member = joined
        try:
            async for item in member:
                if isinstance(item, Payload):
                    await _send_text(self.websocket, item.frame("data", operation_id))
                    continue
                error = item.errors[0] if item.errors else {"message": "rejected"}
                await self.send_message(ErrorMessage(type="error", id=operation_id, payload=error))
                return
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        except asyncio.CancelledError:  # a `stop`: the protocol answers it with `complete`
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        finally:
            hub.leave(member)
            self.tasks.pop(operation_id, None)
