"""The resume state of the git extractor (kept apart: it is a storage format)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from kg.model import content_hash


@dataclass(frozen=True, slots=True)
class GitState:
    """The resume point: last indexed commit, plus a digest of the tags and the tagged commits
    (so moved tags are noticed). Written ``<sha>;<digest>;<sha,sha...>``; a bare sha (version 1
    of this extractor) reads as "no tags known"."""

    sha: str | None
    tags: str = ""
    tagged: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: str | None) -> GitState:
        if not raw:
            return cls(None)
        sha, _, rest = raw.partition(";")
        digest, _, tagged = rest.partition(";")
        return cls(sha or None, digest, tuple(t for t in tagged.split(",") if t))

    @classmethod
    def of(cls, sha: str | None, tag_map: dict[str, str]) -> GitState:
        digest = content_hash(json.dumps(sorted(tag_map.items()))) if tag_map else ""
        return cls(sha, digest, tuple(sorted(set(tag_map.values()))))

    def dump(self) -> str:
        if not self.tags:
            return self.sha or ""
        return f"{self.sha or ''};{self.tags};{','.join(self.tagged)}"
