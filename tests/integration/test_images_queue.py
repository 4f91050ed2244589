"""The image job queue in the database (SQLite and PostgreSQL): priorities, leases, retries
with backoff, cancellation, and recovery of a job whose worker died."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.db import utcnow
from domain.images.jobs import JobQueue
from domain.users.models import User


class Clock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def owner(db) -> int:
    with db.session() as s:
        user = User(username="queue-owner", password_hash="x", role="player")
        s.add(user)
        s.flush()
        return user.id


@pytest.fixture
def clock() -> Clock:
    return Clock()


def submit(db, clock, owner, priority="interactive", max_attempts=3) -> int:
    with db.session() as s:
        return JobQueue(s, clock).submit(
            owner_id=owner, campaign_id=None, kind="portrait", operation="generate",
            priority=priority, request={}, steps=4, max_attempts=max_attempts,
        ).id


def claim(db, clock, worker="w1", lease=30.0):
    with db.session() as s:
        job = JobQueue(s, clock).claim(worker, lease)
        return (job.id, job.attempts, job.state) if job else None


def state(db, job_id):
    with db.session() as s:
        job = JobQueue(s).get(job_id)
        return job.state, job.attempts, job.error


def test_interactive_jobs_run_before_batch_jobs_then_oldest_first(db, clock, owner):
    b1 = submit(db, clock, owner, "batch")
    i1 = submit(db, clock, owner, "interactive")
    b2 = submit(db, clock, owner, "batch")
    i2 = submit(db, clock, owner, "interactive")
    order = [claim(db, clock)[0] for _ in range(4)]
    assert order == [i1, i2, b1, b2]
    assert claim(db, clock) is None


def test_a_dead_workers_job_is_taken_again_when_its_lease_runs_out(db, clock, owner):
    job = submit(db, clock, owner)
    assert claim(db, clock, "dies", lease=10) == (job, 1, "running")
    assert claim(db, clock, "w2") is None  # leased
    clock.advance(5)
    with db.session() as s:  # the heartbeat renews it
        assert JobQueue(s, clock).heartbeat(job, "dies", 10, step=2) == "ok"
    clock.advance(9)
    assert claim(db, clock, "w2") is None
    clock.advance(2)
    assert claim(db, clock, "w2") == (job, 2, "running")
    with db.session() as s:  # the old owner's writes no longer count
        q = JobQueue(s, clock)
        assert q.heartbeat(job, "dies", 10) == "lost"
        assert q.succeed(job, "dies", []) is False
        assert q.succeed(job, "w2", [{"x": 1}]) is True
    assert state(db, job)[0] == "succeeded"


def test_a_job_whose_workers_keep_dying_fails_as_lost(db, clock, owner):
    job = submit(db, clock, owner, max_attempts=2)
    for _ in range(2):
        assert claim(db, clock, lease=1)[0] == job
        clock.advance(2)
    assert claim(db, clock) is None
    st, attempts, error = state(db, job)
    assert (st, attempts, error["code"]) == ("failed", 2, "job_lost")


def test_transient_failures_retry_with_backoff_until_attempts_run_out(db, clock, owner):
    job = submit(db, clock, owner, max_attempts=3)
    assert claim(db, clock) == (job, 1, "running")
    for attempt, backoff in ((2, 2.0), (3, 4.0)):  # 2 s x 2^(attempt - 2)
        with db.session() as s:
            assert JobQueue(s, clock).fail(job, "w1", "engine_unavailable", "away",
                                           transient=True, backoff_s=2) == "queued"
        clock.advance(backoff - 0.1)
        assert claim(db, clock) is None
        clock.advance(0.1)
        assert claim(db, clock) == (job, attempt, "running")
    with db.session() as s:
        assert JobQueue(s, clock).fail(job, "w1", "engine_unavailable", "away",
                                       transient=True, backoff_s=2) == "failed"
    st, attempts, error = state(db, job)
    assert (st, attempts, error["code"]) == ("failed", 3, "engine_unavailable")


def test_a_permanent_failure_does_not_retry(db, clock, owner):
    job = submit(db, clock, owner)
    claim(db, clock)
    with db.session() as s:
        assert JobQueue(s, clock).fail(job, "w1", "prompt_refused", "no",
                                       transient=False, backoff_s=2) == "failed"
    assert state(db, job)[:2] == ("failed", 1)


def test_cancel_a_running_job_reaches_its_worker(db, clock, owner):
    job = submit(db, clock, owner)
    claim(db, clock)
    with db.session() as s:
        q = JobQueue(s, clock)
        assert q.cancel(q.get(job)).state == "running"
        assert q.heartbeat(job, "w1", 30) == "cancel"
        assert q.cancelled(job, "w1")
    assert state(db, job)[0] == "cancelled"
