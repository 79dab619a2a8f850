"""What an ``apply`` changed, tallied the same way by every GraphStore implementation."""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.model import GraphDelta


@dataclass(slots=True)
class DeltaTally:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    relations_added: int = 0
    relations_removed: int = 0
    kinds: set[str] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)

    def touch(self, kind: str, path: str | None) -> None:
        self.kinds.add(kind)
        if path is not None:
            self.paths.add(path)

    def delta(self, repo: str) -> GraphDelta:
        """Lists sorted, so the same change gives the same delta on every store."""
        return GraphDelta(
            repo=repo,
            added=sorted(self.added),
            updated=sorted(self.updated),
            removed=sorted(self.removed),
            relations_added=self.relations_added,
            relations_removed=self.relations_removed,
            kinds=sorted(self.kinds),
            paths=sorted(self.paths),
        )
