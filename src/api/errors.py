"""Error policy: codekg's own errors reach the client as written; anything else is masked.

A masked error gets a short correlation id, shown to the client and logged (with the traceback)
on the server, so a user can report ``ref 3f2a9c1d0b7e`` and an operator can find it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

from kg.errors import KGError
from kg.telemetry import tracer

log = logging.getLogger("api.errors")


def is_internal(error: GraphQLError) -> bool:
    """Validation errors and KGErrors speak to the user; everything else is a bug or outage."""
    original = error.original_error
    return original is not None and not isinstance(original, KGError)


class MaskInternalErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_internal, error_message="Internal server error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        ref = uuid.uuid4().hex[:12]
        original = error.original_error
        exc_info = None if original is None else (type(original), original, original.__traceback__)
        log.error("internal error ref=%s path=%s: %s", ref, error.path, original, exc_info=exc_info)
        return GraphQLError(
            message=f"Internal server error (ref {ref}); the server log has the details.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": "INTERNAL_SERVER_ERROR", "correlationId": ref},
        )


class OperationSpan(SchemaExtension):
    """One OpenTelemetry span per GraphQL operation (resolvers are traced by the service).

    The span is not made the current one: a subscription's operation ends in another task
    than it started in, and detaching a context there fails; service spans are separate roots.
    """

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        span = tracer.start_span("graphql.operation")
        try:
            span.set_attribute("graphql.operation.name", ctx.operation_name or "")
            yield
            try:
                op_type = ctx.operation_type
            except RuntimeError:  # the document did not parse: there is no operation
                return
            span.set_attribute("graphql.operation.type", str(op_type.value))
        finally:
            span.end()
