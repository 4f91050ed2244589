"""Runs queued image jobs: claims one from the database with a lease, streams its renders
from the engine (step progress goes into the job's row with each lease renewal), then
stores the results, and retries transient failures with backoff.

Each images replica runs `concurrent_jobs` of these loops, so that jobs reach the engine
together and share its batches. A replica killed mid-job stops renewing its leases; another
replica's loop (or its own after the restart) takes the job again once the lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from cluster.database import Database
from cluster.logs import get_logger
from deployments.images.engine import ImageEngineCalls, Progress, RenderFailed, RenderRequest
from domain.assets.schemas import AssetVersionOut
from domain.errors import DomainError, Unavailable
from domain.images.jobs import JobQueue
from domain.images.schemas import MAX_SEED, JobOut, RenderSpec
from domain.images.service import ImageService, JobPlan, StoredImage, job_out
from domain.images.validation import OutputInvalid

log = get_logger("images.worker")
T = TypeVar("T")
# Worth another attempt: the engine or database was away, or one output was bad.
TRANSIENT = (Unavailable, OutputInvalid, RenderFailed)


class WorkerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    concurrent_jobs: int = Field(8, ge=0, le=64, description="0: this replica runs no queue.")
    lease_s: float = Field(30, ge=1, le=3600, description="A dead worker's job waits this long.")
    poll_s: float = Field(0.5, gt=0, le=60)
    progress_interval_s: float = Field(0.5, gt=0, le=60)
    max_attempts: int = Field(3, ge=1, le=20)
    retry_backoff_s: float = Field(2.0, ge=0, le=3600)
    sync_timeout_s: float = Field(
        30, ge=0, le=600, description="A small request waits this long before it answers 202."
    )


class LeaseLost(Exception):
    """Another worker owns the job now (this one was too slow to renew)."""


class JobCancelled(Exception):
    pass


ServiceFactory = Callable[[Session, JobPlan], ImageService]
VectorSink = Callable[[list[StoredImage]], None]


class JobWorker:
    def __init__(
        self,
        db: Database,
        engine: ImageEngineCalls,
        services: ServiceFactory,
        config: WorkerConfig,
        vectors: VectorSink | None = None,
    ):
        self.db = db
        self.engine = engine
        self.services = services
        self.config = config
        self.vectors = vectors
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._loops: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the polling loops on the running event loop (once)."""
        if not self._loops:
            self._loops = [
                asyncio.ensure_future(self._loop()) for _ in range(self.config.concurrent_jobs)
            ]

    async def stop(self) -> None:
        for task in self._loops:
            task.cancel()
        for task in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loops = []

    async def _loop(self) -> None:
        while True:
            try:
                ran = await self.run_one()
            except Exception:  # the database is away: keep polling
                log.exception("image job loop")
                ran = None
            if ran is None:
                await asyncio.sleep(self.config.poll_s)

    async def _db(self, call: Callable[[Session], T]) -> T:
        def run() -> T:
            with self.db.session() as session:
                return call(session)

        return await anyio.to_thread.run_sync(run)

    async def run_one(self, job_id: int | None = None) -> JobOut | None:
        """Claim one due job (or `job_id`) and run it to its end; None if none was due."""
        lease = self.config.lease_s
        job = await self._db(lambda s: JobQueue(s).claim(self.name, lease, job_id))
        if job is None:
            return None
        plan = JobPlan.model_validate(job.request)
        log.info("image job claimed", extra={"job_id": job.id, "attempt": job.attempts})
        try:
            source, mask, cached = await self._db(
                lambda s: (*self.services(s, plan).inputs(plan),
                           [self.services(s, plan).cached(spec) for spec in plan.specs])
            )
            made = await self._render(job.id, job.steps, plan, source, mask, cached)
            # A regenerated image has the seed it was made with.
            plan = plan.model_copy(update={"specs": [m.spec for m in made]})
            outputs, tries = [m.output for m in made], [m.tries for m in made]
            stored = await self._db(lambda s: self._store(s, job.id, plan, outputs, tries))
            if self.vectors is not None:
                await anyio.to_thread.run_sync(self.vectors, stored)
        except JobCancelled:
            await self._db(lambda s: JobQueue(s).cancelled(job.id, self.name))
        except LeaseLost:
            log.warning("image job lease lost", extra={"job_id": job.id})
        except Exception as exc:
            transient = isinstance(exc, TRANSIENT) or not isinstance(exc, DomainError)
            code = exc.code if isinstance(exc, DomainError) else "job_error"
            detail = exc.detail if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, DomainError):
                log.exception("image job failed", extra={"job_id": job.id})
            backoff = self.config.retry_backoff_s
            await self._db(
                lambda s: JobQueue(s).fail(
                    job.id, self.name, code, detail, transient=transient, backoff_s=backoff
                )
            )
        return await self._db(lambda s: job_out(JobQueue(s).get(job.id)))

    def _store(
        self, session: Session, job_id: int, plan: JobPlan, outputs: list[Any], tries: list[int]
    ) -> list[StoredImage]:
        stored = self.services(session, plan).store(job_id, self.name, plan, outputs, tries)
        if stored is None:
            raise LeaseLost  # rolls back: the new owner stores its own results
        return stored

    async def _render(
        self,
        job_id: int,
        steps: int,
        plan: JobPlan,
        source: bytes | None,
        mask: bytes | None,
        cached: list[AssetVersionOut | None],
    ) -> list[Made]:
        done = [1.0 if c is not None else 0.0 for c in cached]

        async def render(i: int, spec: RenderSpec) -> bytes:
            if spec.resample_only:
                return await anyio.to_thread.run_sync(resample, source, spec)
            request = RenderRequest(spec=spec, image=source, mask=mask)
            async for event in self.engine.render(request):
                if isinstance(event, Progress):
                    done[i] = max(done[i], event.step / max(event.steps, 1))
                else:
                    done[i] = 1.0
                    if spec.fit is not None:
                        return await anyio.to_thread.run_sync(fit, event.png, spec.fit)
                    return event.png
            raise RenderFailed("The engine ended the stream without an image.")

        async def one(i: int, spec: RenderSpec) -> Made:
            if (hit := cached[i]) is not None:
                return Made(spec, hit)
            best: tuple[float, Made] | None = None
            for attempt in range(spec.regenerate + 1):
                if attempt:  # flagged: the next seed (deterministic, so it reproduces)
                    spec = spec.model_copy(update={"seed": (spec.seed + 1) % (MAX_SEED + 1)})
                png = await render(i, spec)
                if spec.regenerate == 0:
                    return Made(spec, png)
                score = await self._db(
                    lambda s, p=png: self.services(s, plan).preview_score(plan, p)
                )
                made = Made(spec, png, attempt + 1)
                if score is None or not score.flagged:
                    return made
                if best is None or score.score > best[0]:
                    best = (score.score, made)
            assert best is not None
            return Made(best[1].spec, best[1].output, spec.regenerate + 1)

        renders = asyncio.ensure_future(
            asyncio.gather(*(one(i, spec) for i, spec in enumerate(plan.specs)))
        )
        lease = self.config.lease_s
        while True:
            await asyncio.wait({renders}, timeout=self.config.progress_interval_s)
            step = round(sum(done) / len(done) * steps)
            state = await self._db(
                lambda s, st=step: JobQueue(s).heartbeat(job_id, self.name, lease, step=st)
            )
            if renders.done():
                return list(renders.result())
            if state != "ok":
                # Cancelling the renders stops the engine's pipeline at its next step (once
                # every request of its call is cancelled).
                renders.cancel()
                with contextlib.suppress(BaseException):
                    await renders
                raise JobCancelled if state == "cancel" else LeaseLost


@dataclass(frozen=True)
class Made:
    """One image of a job: its spec (the seed it was made with), the PNG or the cached
    version, and how many seeds it took."""

    spec: RenderSpec
    output: bytes | AssetVersionOut
    tries: int = 1


def fit(png: bytes, size: tuple[int, int]) -> bytes:
    """Resize to `size` (a map restyle back to the map's exact pixels)."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        out = img.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    out.save(buf, "PNG")
    return buf.getvalue()


def resample(source: bytes | None, spec: RenderSpec) -> bytes:
    """Upscale without the model: Lanczos to the target size."""
    from PIL import Image

    assert source is not None
    with Image.open(io.BytesIO(source)) as img:
        out = img.convert("RGB").resize((spec.width, spec.height), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    out.save(buf, "PNG")
    return buf.getvalue()
