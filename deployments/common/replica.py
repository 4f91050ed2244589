"""The thin domain deployment: a Serve replica that runs domain services on its own DB pool.

Bound once per domain (characters, accounts) in `deployments.app`, each with its own
name, replicas and autoscaling in serve_config.yaml.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from ray import serve

from cluster import logs, migrate
from cluster.database import Database
from cluster.settings import get_settings
from deployments.common.services import invoke
from domain.users.schemas import Principal


class DomainService:
    """Kept apart from the Serve wrapper below so that Ray pickles it by reference."""

    def __init__(self, services: list[str]):
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        self.settings = get_settings()
        logs.configure_logging(self.settings.log_level)
        self.services = set(services)
        # `lorekeeper run` migrates first; this makes a bare `serve run serve_config.yaml` work.
        migrate.upgrade(self.settings.resolved_database_url)
        self.db = Database(self.settings.resolved_database_url)

    async def call(
        self,
        service: str,
        principal: Principal | None,
        method: str,
        kwargs: dict[str, Any],
        request_id: str = "",
    ) -> Any:
        if service not in self.services:
            raise ValueError(f"this replica does not serve {service!r}")
        logs.request_id_var.set(request_id)
        # SQLAlchemy is synchronous: run it off the replica's event loop.
        return await asyncio.to_thread(
            invoke, self.db, self.settings, service, principal, method, kwargs
        )

    async def ping(self) -> bool:
        return await asyncio.to_thread(self.db.ping)


DomainReplica = serve.deployment(
    name="DomainReplica", ray_actor_options={"num_cpus": 0.25}, max_ongoing_requests=32
)(DomainService)
