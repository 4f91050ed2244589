"""A real kill -9: an images worker in its own process claims a job and is killed with
SIGKILL mid-render. Its lease runs out; another worker takes the job (attempt 2) and
finishes it, and its image is stored once. On PostgreSQL (the queue's SKIP LOCKED path)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from domain.images.jobs import JobQueue
from tests.images_support import URL, composed, generate
from tests.support import signup

pytestmark = pytest.mark.e2e
WORKER = Path(__file__).with_name("images_worker_process.py")
ROOT = Path(__file__).resolve().parents[2]


def test_a_job_whose_worker_process_is_killed_is_run_again(db, settings):
    if db.url.startswith("sqlite"):
        pytest.skip("one database is enough for this slow test: PostgreSQL, as deployed")
    with composed(db, settings) as (client, ingresses):
        images = ingresses["images"]
        # This process runs no queue loops: the separate worker process takes the job.
        images.worker.config = images.worker.config.model_copy(update={"concurrent_jobs": 0})
        user = signup(client, "kill-nine")
        job = generate(user, mode="async", steps=50, width=128, height=128).json()
        assert job["state"] == "queued"
        config = {"worker": {"concurrent_jobs": 1, "lease_s": 2, "poll_s": 0.2,
                             "progress_interval_s": 0.2}}
        env = {**os.environ, "LOREKEEPER_DATA_DIR": str(settings.data_dir),
               "LOREKEEPER_DATABASE_URL": db.url, "LOREKEEPER_JWT_SECRET": settings.jwt_secret,
               "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": str(ROOT)}
        worker = subprocess.Popen([sys.executable, str(WORKER), json.dumps(config)], env=env,
                                  cwd=ROOT)
        try:
            deadline = time.monotonic() + 60
            while True:  # until the worker is rendering the job
                with db.session() as s:
                    row = JobQueue(s).get(job["id"])
                    owner, step, state = row.lease_owner or "", row.step, row.state
                if state == "running" and f":{worker.pid}:" in owner and step >= 1:
                    break
                assert worker.poll() is None, "the worker process exited"
                assert time.monotonic() < deadline, f"the worker never ran the job: {state}"
                time.sleep(0.05)
            os.kill(worker.pid, signal.SIGKILL)
            assert worker.wait(10) == -signal.SIGKILL
        finally:
            if worker.poll() is None:
                worker.kill()
        halfway = user.get(f"{URL}/jobs/{job['id']}").json()
        assert (halfway["state"], halfway["attempts"]) == ("running", 1)
        assert 1 <= halfway["step"] < 50 and not halfway["images"]
        deadline = time.monotonic() + 30
        while (done := client.portal.call(images.worker.run_one)) is None:  # still leased
            assert time.monotonic() < deadline, "the dead worker's lease never ran out"
            time.sleep(0.2)
        assert done.id == job["id"] and done.state == "succeeded" and done.attempts == 2
        (image,) = user.get(f"{URL}/jobs/{job['id']}").json()["images"]
        assert user.get(image["version"]["urls"]["content"]).status_code == 200
