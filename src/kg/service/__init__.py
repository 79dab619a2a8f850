"""The service layer: ``GraphService`` and the types it returns (see ``kg.service.core``)."""

from kg.service.core import (
    CODE_KINDS,
    DEPENDENCY_KINDS,
    GRAPH_DELTA,
    INSIGHT,
    MAX_DEPTH,
    GraphService,
)
from kg.service.jobs import INGEST_PROGRESS, IngestFn, IngestUnavailable, Job, JobRunner
from kg.service.pack import ContextPack, PackItem, estimate_tokens
from kg.service.search import (
    Searcher,
    SearchPage,
    SearchResult,
    SearchUnavailable,
    search_id,
)
from kg.service.walk import GraphPath, Hop, Step

__all__ = [
    "CODE_KINDS",
    "DEPENDENCY_KINDS",
    "GRAPH_DELTA",
    "INGEST_PROGRESS",
    "INSIGHT",
    "MAX_DEPTH",
    "ContextPack",
    "GraphPath",
    "GraphService",
    "Hop",
    "IngestFn",
    "IngestUnavailable",
    "Job",
    "JobRunner",
    "PackItem",
    "SearchPage",
    "SearchResult",
    "SearchUnavailable",
    "Searcher",
    "Step",
    "estimate_tokens",
    "search_id",
]
