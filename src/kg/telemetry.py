"""OpenTelemetry spans for pipeline stages, store calls and GraphQL operations.

Only the API is used: without an SDK configured these spans cost almost nothing, and any
exporter can be plugged in by the host application.
"""

from __future__ import annotations

from opentelemetry import trace

tracer = trace.get_tracer("codekg")
