"""The job queue, in the database: queued -> running -> succeeded | failed | cancelled.

A worker claims the first due job (interactive before batch, then oldest) with a lease that
it renews while it works. A worker that dies (kill -9, a lost node) stops renewing: when the
lease runs out the job is due again and another worker takes it, up to `max_attempts`
attempts. Transient failures go back to the queue with exponential backoff.

Every write names the lease owner, so a worker that lost its lease cannot overwrite what the
new owner does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from domain.db import utcnow
from domain.errors import Conflict, NotFound
from domain.images.models import ImageJob

PRIORITIES = {"interactive": 0, "batch": 1}
PRIORITY_NAMES = {v: k for k, v in PRIORITIES.items()}
FINAL = ("succeeded", "failed", "cancelled")


class JobQueue:
    def __init__(self, session: Session, now: Callable[[], datetime] = utcnow):
        self.session = session
        self.now = now

    def submit(
        self,
        *,
        owner_id: int,
        campaign_id: int | None,
        kind: str,
        operation: str,
        priority: str,
        request: dict[str, Any],
        steps: int,
        max_attempts: int,
    ) -> ImageJob:
        now = self.now()
        job = ImageJob(
            owner_id=owner_id,
            campaign_id=campaign_id,
            kind=kind,
            operation=operation,
            state="queued",
            priority=PRIORITIES[priority],
            request=request,
            result=[],
            error=None,
            step=0,
            steps=steps,
            attempts=0,
            max_attempts=max_attempts,
            not_before=now,
            cancel_requested=False,
            created_at=now,
            updated_at=now,
        )
        self.session.add(job)
        self.session.flush()
        return job

    def get(self, job_id: int) -> ImageJob:
        job = self.session.get(ImageJob, job_id)
        if job is None:
            raise NotFound(f"No image job {job_id}.", code="job_not_found")
        return job

    # --- workers --------------------------------------------------------------------------

    def claim(self, worker: str, lease_s: float, job_id: int | None = None) -> ImageJob | None:
        """Take the first due job (or `job_id`, if it is due) and lease it to `worker`."""
        now = self.now()
        due = or_(
            and_(ImageJob.state == "queued", ImageJob.not_before <= now),
            and_(ImageJob.state == "running", ImageJob.lease_expires < now),
        )
        query = select(ImageJob.id, ImageJob.state, ImageJob.attempts, ImageJob.max_attempts)
        query = query.where(due).order_by(ImageJob.priority, ImageJob.id).limit(8)
        if job_id is not None:
            query = query.where(ImageJob.id == job_id)
        # PostgreSQL: workers skip rows another is claiming; SQLite has one writer anyway.
        for row in self.session.execute(query.with_for_update(skip_locked=True)).all():
            if row.state == "running" and row.attempts >= row.max_attempts:
                # Its workers kept dying: a job that kills replicas must not loop forever.
                self._finish_lost(row.id, due, now)
                continue
            claimed = self.session.execute(
                update(ImageJob)
                .where(ImageJob.id == row.id, due)
                .values(
                    state="running",
                    lease_owner=worker,
                    lease_expires=now + timedelta(seconds=lease_s),
                    attempts=ImageJob.attempts + 1,
                    started_at=now,
                    step=0,
                    updated_at=now,
                )
            ).rowcount
            if claimed:
                job = self.session.get(ImageJob, row.id, populate_existing=True)
                assert job is not None
                return job
        return None

    def _finish_lost(self, job_id: int, due: Any, now: datetime) -> None:
        self.session.execute(
            update(ImageJob)
            .where(ImageJob.id == job_id, due)
            .values(
                state="failed",
                lease_owner=None,
                lease_expires=None,
                finished_at=now,
                updated_at=now,
                error={
                    "code": "job_lost",
                    "detail": "The replicas running this job stopped on every attempt; "
                    "submit it again, smaller, or ask an admin to check the image engine.",
                },
            )
        )

    def heartbeat(self, job_id: int, worker: str, lease_s: float, step: int | None = None) -> str:
        """Renew the lease (and record progress). Returns "ok", "cancel" (the owner asked to
        cancel) or "lost" (the lease is someone else's now: stop working on it)."""
        now = self.now()
        values: dict[str, Any] = {
            "lease_expires": now + timedelta(seconds=lease_s),
            "updated_at": now,
        }
        if step is not None:
            values["step"] = step
        renewed = self.session.execute(
            update(ImageJob)
            .where(ImageJob.id == job_id, ImageJob.lease_owner == worker,
                   ImageJob.state == "running")
            .values(**values)
        ).rowcount
        if not renewed:
            return "lost"
        cancel = self.session.scalar(
            select(ImageJob.cancel_requested).where(ImageJob.id == job_id)
        )
        return "cancel" if cancel else "ok"

    def succeed(self, job_id: int, worker: str, result: list[dict[str, Any]]) -> bool:
        return self._finish(job_id, worker, state="succeeded", result=result)

    def fail(
        self,
        job_id: int,
        worker: str,
        code: str,
        detail: str,
        *,
        transient: bool,
        backoff_s: float,
    ) -> str:
        """Record a failure: a transient one with attempts left goes back to the queue after
        a backoff (base x 2^(attempt-1)). Returns the job's new state."""
        job = self.session.get(ImageJob, job_id, populate_existing=True)
        if job is None or job.lease_owner != worker or job.state != "running":
            return "lost"
        error = {"code": code, "detail": detail}
        if transient and job.attempts < job.max_attempts:
            now = self.now()
            job.state, job.error, job.step = "queued", error, 0
            job.not_before = now + timedelta(seconds=backoff_s * 2 ** (job.attempts - 1))
            job.lease_owner, job.lease_expires, job.updated_at = None, None, now
            return "queued"
        self._finish(job_id, worker, state="failed", error=error)
        return "failed"

    def cancelled(self, job_id: int, worker: str) -> bool:
        """The worker stopped a job whose owner asked to cancel it."""
        return self._finish(job_id, worker, state="cancelled")

    def _finish(self, job_id: int, worker: str, **values: Any) -> bool:
        now = self.now()
        done = self.session.execute(
            update(ImageJob)
            .where(ImageJob.id == job_id, ImageJob.lease_owner == worker,
                   ImageJob.state == "running")
            .values(lease_owner=None, lease_expires=None, finished_at=now, updated_at=now,
                    **values)
        ).rowcount
        return bool(done)

    def complete_at_once(self, job: ImageJob, result: list[dict[str, Any]]) -> None:
        """A job answered without the engine (every image found in the cache)."""
        now = self.now()
        job.state, job.result, job.step = "succeeded", result, job.steps
        job.started_at = job.finished_at = job.updated_at = now

    # --- owners ---------------------------------------------------------------------------

    def cancel(self, job: ImageJob) -> ImageJob:
        """Queued: cancelled now. Running: its worker stops at its next step."""
        if job.state in FINAL:
            raise Conflict(
                f"Job {job.id} is already {job.state}; only queued or running jobs can be "
                "cancelled.",
                code="job_finished",
            )
        now = self.now()
        if job.state == "queued":
            job.state, job.finished_at = "cancelled", now
        else:
            job.cancel_requested = True
        job.updated_at = now
        self.session.flush()
        return job

    def list_for(self, owner_id: int, limit: int, state: str | None = None) -> list[ImageJob]:
        query = select(ImageJob).where(ImageJob.owner_id == owner_id)
        if state:
            query = query.where(ImageJob.state == state)
        return list(self.session.scalars(query.order_by(ImageJob.id.desc()).limit(limit)))
