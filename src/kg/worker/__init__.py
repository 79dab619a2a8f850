"""``kg worker``: applies source events incrementally, exactly once in effect.

``loop`` is the consume/plan/apply/commit loop; ``discussions`` turns ``discussion.*`` events
(GitHub webhook payloads) into discussion facts linked to the code they mention; ``stats`` is
what the worker reports about itself.
"""

from kg.worker.loop import EVENT_STATE, Worker, assemble
from kg.worker.stats import DeltaTap, WorkerStats

__all__ = ["EVENT_STATE", "DeltaTap", "Worker", "WorkerStats", "assemble"]
