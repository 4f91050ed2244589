"""An images queue worker in a process of its own (no HTTP): the job loops of an images
ingress on the database and data dir the environment names (LOREKEEPER_*), with the
ImagesConfig given as JSON in argv[1]. tests/e2e/test_images_worker_kill.py kills it with
SIGKILL mid-job."""

from __future__ import annotations

import asyncio
import json
import sys

from cluster.database import Database
from cluster.settings import Settings
from deployments.images.app import ImagesIngress


async def main(config: dict) -> None:
    settings = Settings()
    db = Database(settings.resolved_database_url)
    ingress = ImagesIngress(config, settings, db)
    ingress.ensure_worker()
    print(ingress.worker.name, flush=True)
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
