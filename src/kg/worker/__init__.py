"""``kg worker``: applies source events incrementally, exactly once in effect.

``loop`` is the consume/plan/apply/commit loop; ``discussions`` turns ``discussion.*`` events
(GitHub webhook payloads) into discussion facts linked to the code they mention.
"""

from kg.worker.loop import EVENT_STATE, DeltaTap, Worker, WorkerStats, assemble

__all__ = ["EVENT_STATE", "DeltaTap", "Worker", "WorkerStats", "assemble"]
