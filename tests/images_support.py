"""What the images tests share: every application composed in process with the tiny
seeded pipeline (built once per session), and helpers for requests and jobs."""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from PIL import Image
from starlette.testclient import TestClient

from cluster.database import Database
from cluster.settings import Settings
from deployments.apps import compose_local
from models import tiny_sd
from tests.support import Api

URL = "/api/v2/images"


@functools.cache
def tiny_model() -> Path:
    """The tiny pipeline's folder, built once per test session."""
    return tiny_sd.ensure(Path(tempfile.mkdtemp(prefix="lk-tiny-sd-")) / tiny_sd.NAME)


@contextlib.contextmanager
def composed(db: Database, settings: Settings) -> Iterator[tuple[TestClient, dict]]:
    """Every application in process, the tiny model linked into the data dir."""
    models = settings.data_dir / "models"
    models.mkdir(parents=True, exist_ok=True)
    (models / tiny_sd.NAME).symlink_to(tiny_model())
    app, ingresses = compose_local(settings, db)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, ingresses


def pipeline_calls(images) -> int:
    engine = images.engine._engine
    return engine.pipeline_calls if engine else 0


def png(colour=(10, 120, 200), size=(64, 64), noise: bool = True) -> bytes:
    img = Image.new("RGB", size, colour)
    if noise:  # not uniform: the output check refuses flat pictures
        img = Image.effect_noise(size, 60).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def generate(api: Api, **body):
    return api.post(f"{URL}/generate", json={"kind": "portrait", "prompt": "a red dragon",
                                             "seed": 7, **body})


def wait(api: Api, job_id: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api.get(f"{URL}/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")
