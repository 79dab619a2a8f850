# strawberry types field(description=...) as returning Any, which strict mypy rejects
# mypy: disable-error-code="untyped-decorator"
"""Mutations: start an ingest job, annotate a node, give search feedback."""

from __future__ import annotations

from enum import Enum

import strawberry

from api.context import Info
from api.discussions import Annotation
from api.node import Node, to_node
from kg.service import Job as JobState


@strawberry.enum(description="Where an ingest job is.")
class JobStatus(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@strawberry.type(description="A background ingest job; follow it with `ingestProgress(job:)`.")
class Job:
    id: strawberry.ID
    source: str
    state: JobStatus
    stage: str = strawberry.field(description="The pipeline stage last reported.")
    done: int
    total: int = strawberry.field(description="Items in this stage; 0 when not known.")
    progress: float = strawberry.field(description="0 to 1 (an estimate while running).")
    message: str = strawberry.field(description="Why it failed, when it did.")
    repo: str | None = strawberry.field(description="The repository name, once it succeeded.")

    @classmethod
    def of(cls, job: JobState) -> Job:
        return cls(
            id=strawberry.ID(job.id),
            source=job.source,
            state=JobStatus(job.state),
            stage=job.stage,
            done=job.done,
            total=job.total,
            progress=job.progress,
            message=job.message,
            repo=job.repo,
        )


@strawberry.type(description="A recorded search feedback vote.")
class Feedback:
    search_id: str
    useful: bool
    node: Node | None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Index a directory on the server in the background; returns the job at once."
    )
    async def ingest(self, info: Info, source: str) -> Job:
        return Job.of(await info.context.service.ingest(source))

    @strawberry.mutation(description="Attach a note to a node (an Annotation linked by ANNOTATES).")
    async def annotate(self, info: Info, node: strawberry.ID, text: str) -> Annotation:
        note = await info.context.service.annotate(str(node), text)
        return Annotation(id=strawberry.ID(note.id), entity=note)

    @strawberry.mutation(description="Say whether a search hit was useful (used for ranking).")
    async def feedback(
        self, info: Info, search_id: str, node_id: strawberry.ID, useful: bool
    ) -> Feedback:
        entity = await info.context.service.feedback(search_id, str(node_id), useful)
        return Feedback(search_id=search_id, useful=useful, node=to_node(entity))
