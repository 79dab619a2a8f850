"""codekg: a time-aware code knowledge graph served over GraphQL."""

__version__ = "0.1.0"
