"""The ASGI app: ``/graphql`` (HTTP GET/POST, WebSocket, GraphiQL for browsers) and ``/healthz``.

Two ways to build it::

    app = create_app(settings, service)                  # you own the service's lifetime
    app = create_lifespan_app(settings, open_service)    # the app opens/closes it (uvicorn)

``open_service`` is an async context manager factory, e.g. one wrapping
``kg.runtime.open_runtime`` (see ``app_from_settings``).
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from functools import lru_cache

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.unset import UNSET, UnsetType

from api.auth import authorized_headers, authorized_params
from api.context import ApiContext, make_context
from api.fanout import FanoutHub
from api.graphiql import STATIC_DIR, STATIC_PREFIX, graphiql_html
from api.http import GRAPHQL_RESPONSE, SubResponse, request_error_status
from api.schema import build_schema
from api.subscriptions import SHARED_FIELDS
from api.ws import GraphQLWSHandler, TransportWSHandler
from kg.errors import ConfigError
from kg.service import GraphService
from kg.settings import Settings

ServiceFactory = Callable[[], AbstractAsyncContextManager[GraphService]]


class GraphQLView(GraphQL[ApiContext, None]):
    """Strawberry's ASGI view with our context (fresh DataLoaders per request), GraphiQL, the
    API token check (``api.auth``), server pings on graphql-transport-ws and subscriptions
    shared between identical subscribers on both WebSocket protocols (``api.ws``,
    ``api.fanout``)."""

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = GraphQLWSHandler

    def __init__(self, settings: Settings, keep_alive_interval: float) -> None:
        super().__init__(
            build_schema(settings),
            keep_alive=True,
            keep_alive_interval=keep_alive_interval,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
            connection_init_wait_timeout=timedelta(seconds=30),
            allowed_origins=tuple(settings.cors_origins),
        )
        self.settings = settings
        self.fanout = FanoutHub(
            self.schema, shareable=SHARED_FIELDS, queue_size=settings.subscriber_queue
        )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> ApiContext:
        if isinstance(response, SubResponse):
            request.state.kg_sub_response = response  # process_result has only the request
        service = getattr(request.app.state, "kg_service", None)
        if not isinstance(service, GraphService):
            raise ConfigError("the API has no GraphService yet: the app's lifespan did not run")
        return make_context(
            self.settings,
            service,
            cache=not isinstance(request, WebSocket),
            authorized=authorized_headers(self.settings, request.headers),
        )

    async def on_ws_connect(self, context: ApiContext) -> UnsetType | dict[str, object] | None:
        """Accept the token from the connection_init payload; refuse (4403) a wrong one."""
        if not context.authorized:
            if not authorized_params(self.settings, context.connection_params):
                raise ConnectionRejectionError({"message": "Unauthorized: bad or missing token"})
            context.authorized = True
        unset: UnsetType = UNSET  # an ack without a payload
        return unset

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        if isinstance(request, Request):
            return SubResponse(request)
        return await super().get_sub_response(request)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        data = await super().process_result(request, result)
        sub = getattr(request.state, "kg_sub_response", None)
        request_error = isinstance(result, PreExecutionError)
        if request_error and isinstance(sub, SubResponse) and sub.graphql_response:
            data.pop("data", None)  # a request error has no data entry
            codes = [(e.extensions or {}).get("code") for e in result.errors or []]
            sub.request_error_status = request_error_status(codes)
        return data

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        if isinstance(sub_response, SubResponse) and sub_response.graphql_response:
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
            if sub_response.request_error_status is not None:
                response.status_code = sub_response.request_error_status
        return response

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(_page(request.scope.get("root_path", "")))


@lru_cache(maxsize=8)
def _page(root_path: str) -> str:
    return graphiql_html(root_path)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _build(
    settings: Settings,
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None,
    keep_alive_interval: float,
) -> Starlette:
    graphiql_html()  # fail at startup, not on the first browser visit, if assets drifted
    view = GraphQLView(settings, keep_alive_interval)
    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["*"],
            )
        )
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="graphiql-static"),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.kg_fanout = view.fanout  # shared subscription streams and their counters
    return app


def settle_heap() -> None:
    """Call once the server is built, before it serves: moves every object alive now (schema,
    runtime, model, imported modules) out of the garbage collector's reach. Without it each
    full collection re-scans them all, a pause of 100+ ms that lands on whatever is being
    pushed to subscribers at that moment."""
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings, service: GraphService, *, keep_alive_interval: float = 15.0
) -> Starlette:
    """The app over a service whose lifetime the caller manages."""
    app = _build(settings, None, keep_alive_interval)
    app.state.kg_service = service
    return app


def create_lifespan_app(
    settings: Settings, open_service: ServiceFactory, *, keep_alive_interval: float = 15.0
) -> Starlette:
    """The app that opens the service on startup and closes it on shutdown."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_service() as service:
            app.state.kg_service = service
            try:
                yield
            finally:
                await service.close()  # cancel ingest jobs before the stores close

    return _build(settings, lifespan, keep_alive_interval)


def app_from_settings(settings: Settings) -> Starlette:
    """The app over every backend ``settings`` names (what ``kg serve`` runs)."""

    @asynccontextmanager
    async def open_service() -> AsyncIterator[GraphService]:
        from kg.runtime import open_runtime  # heavy imports (torch) only when serving

        async with open_runtime(settings) as rt:
            yield rt.service()

    return create_lifespan_app(settings, open_service)
