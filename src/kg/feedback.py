"""Search feedback: which hits users found useful, kept in the graph store's state.

``GraphService`` records feedback from the GraphQL ``feedback`` mutation; ranking reads it back
as per-query-pattern boosts (a pattern is the query's normalised token set, so "Parse config"
and "config parse" share their feedback).

    log = FeedbackLog(store)
    await log.record(query="parse config", repo="r", node_id=fid, useful=True)
    await log.boosts("r", "config parse")   # {fid: 1.0}
"""

from __future__ import annotations

import json
import re

from kg.model import content_hash
from kg.stores.base import GraphStore

_WORD = re.compile(r"[a-z0-9]+")
PREFIX = "feedback:"


def query_pattern(query: str) -> str:
    return " ".join(sorted(set(_WORD.findall(query.lower()))))


class FeedbackLog:
    def __init__(self, store: GraphStore) -> None:
        self._store = store

    def _key(self, query: str) -> str:
        return PREFIX + content_hash(query_pattern(query))

    async def record(self, *, query: str, repo: str, node_id: str, useful: bool) -> None:
        key = self._key(query)
        raw = await self._store.get_state(repo, key)
        votes: dict[str, int] = json.loads(raw) if raw else {}
        votes[node_id] = votes.get(node_id, 0) + (1 if useful else -1)
        await self._store.set_state(repo, key, json.dumps(votes, sort_keys=True))

    async def boosts(self, repo: str, query: str) -> dict[str, float]:
        """``{node id: net votes}`` recorded for queries of the same pattern."""
        raw = await self._store.get_state(repo, self._key(query))
        return {k: float(v) for k, v in json.loads(raw).items()} if raw else {}
