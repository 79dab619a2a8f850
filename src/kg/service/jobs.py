"""Background ingest jobs: ``ingest(source)`` returns at once; progress flows on the bus.

The runtime hands the service an ``IngestFn`` (``Indexer.index`` with a progress callback);
each job runs it in a task, one job at a time (the indexer keeps per-repository caches that are
not safe to share between concurrent runs), and publishes ``ingest.progress`` events
(``kg.events.schema.IngestProgress``) from ``queued`` to ``succeeded`` or ``failed``::

    jobs = JobRunner(bus, ingest)
    job = await jobs.start("/src/project")
    sub = bus.subscribe([INGEST_PROGRESS])
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, Protocol

from kg.errors import InvalidInput, KGError, NotFound
from kg.events.base import Event, EventBus
from kg.events.schema import IngestProgress

log = logging.getLogger(__name__)

INGEST_PROGRESS = "ingest.progress"
MAX_JOBS_KEPT = 200  # finished jobs are forgotten oldest first beyond this

JobState = Literal["queued", "running", "succeeded", "failed"]
ProgressFn = Callable[[str, int, int], None]


class IngestReport(Protocol):
    @property
    def repo(self) -> str: ...


IngestFn = Callable[[Path, ProgressFn], Awaitable[IngestReport]]


class IngestUnavailable(NotFound):
    """``ingest`` was asked for but this service was built without an indexer."""


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    source: str
    state: JobState = "queued"
    stage: str = "queued"
    done: int = 0
    total: int = 0
    message: str = ""
    repo: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed")

    @property
    def progress(self) -> float:
        """0..1; stages with an unknown total count as half done until the job finishes."""
        if self.state == "succeeded":
            return 1.0
        if self.state == "queued":
            return 0.0
        if self.total > 0:
            return min(1.0, self.done / self.total)
        return 0.5


class JobRunner:
    def __init__(self, bus: EventBus, ingest: IngestFn | None) -> None:
        self._bus = bus
        self._ingest = ingest
        self._jobs: dict[str, Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._reports: dict[str, set[asyncio.Task[None]]] = {}  # progress not yet published
        self._lock = asyncio.Lock()

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"job {job_id!r} does not exist (or finished long ago); start one")
        return job

    async def start(self, source: str) -> Job:
        if self._ingest is None:
            raise IngestUnavailable(
                "ingest is not available on this server: it was started without an indexer"
            )
        root = await asyncio.to_thread(lambda: Path(source).expanduser().resolve())
        if not source.strip() or not await asyncio.to_thread(root.is_dir):
            raise InvalidInput(
                f"ingest: source={source!r} is not a directory on the server; pass the path "
                "of a checked-out repository"
            )
        job = Job(id=uuid.uuid4().hex, source=source)
        await self._set(job)
        task = asyncio.create_task(self._run(job, root))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, job: Job, root: Path) -> None:
        assert self._ingest is not None
        loop = asyncio.get_running_loop()

        def progress(stage: str, done: int, total: int) -> None:
            # the indexer reports from worker threads too: hop onto the loop first
            loop.call_soon_threadsafe(self._progress, job.id, stage, done, total)

        async with self._lock:
            await self._set(replace(job, state="running", stage="start"))
            try:
                report = await self._ingest(root, progress)
                await self._flush(job.id)  # the last progress report comes before "succeeded"
            except asyncio.CancelledError:
                raise
            except KGError as exc:
                await self._set(replace(self.get(job.id), state="failed", message=str(exc)))
            except Exception as exc:  # the job reports it; the server stays up
                ref = uuid.uuid4().hex[:12]
                log.exception("ingest job %s failed (ref %s)", job.id, ref)
                message = f"internal error (ref {ref}): {type(exc).__name__}"
                await self._set(replace(self.get(job.id), state="failed", message=message))
            else:
                done = replace(self.get(job.id), state="succeeded", stage="done", repo=report.repo)
                await self._set(done)

    def _progress(self, job_id: str, stage: str, done: int, total: int) -> None:
        task = asyncio.ensure_future(self._advance(job_id, stage, done, total))
        reports = self._reports.setdefault(job_id, set())
        for pending in (self._tasks, reports):
            pending.add(task)
            task.add_done_callback(pending.discard)

    async def _flush(self, job_id: str) -> None:
        await asyncio.sleep(0)  # reports handed over with call_soon_threadsafe get scheduled
        while reports := self._reports.get(job_id):
            await asyncio.gather(*reports)
        self._reports.pop(job_id, None)

    async def _advance(self, job_id: str, stage: str, done: int, total: int) -> None:
        # read the job when the update runs: a late report must not reopen a finished job
        job = self._jobs.get(job_id)
        if job is not None and not job.finished:
            await self._set(replace(job, stage=stage, done=done, total=total))

    async def _set(self, job: Job) -> None:
        self._jobs[job.id] = job
        self._forget_old()
        payload = IngestProgress(
            job=job.id,
            stage=job.stage,
            done=job.done,
            total=job.total,
            state=job.state,
            message=job.message,
        )
        repo = job.repo or ""
        await self._bus.publish(
            Event.of(INGEST_PROGRESS, repo=repo, payload=payload.model_dump(mode="json"))
        )

    def _forget_old(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.finished]
        for key in finished[: max(0, len(finished) - MAX_JOBS_KEPT)]:
            del self._jobs[key]
