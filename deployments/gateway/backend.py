"""How the gateway reaches the domain: Serve handles in the cluster, or the same code in
process (tests, and the bare-uvicorn baseline of the gateway benchmark)."""

from __future__ import annotations

from typing import Any, Protocol

import anyio
from ray.exceptions import RayTaskError
from ray.serve.handle import DeploymentHandle

from cluster import logs
from cluster.database import Database
from cluster.settings import Settings
from deployments.common.services import invoke
from domain.errors import DomainError
from domain.users.schemas import Principal


class Backend(Protocol):
    async def call(
        self, service: str, principal: Principal | None, method: str, **kwargs: Any
    ) -> Any: ...

    async def ready(self) -> bool: ...


class LocalBackend:
    def __init__(self, db: Database, settings: Settings):
        self.db = db
        self.settings = settings
        # Bounded like a replica's max_ongoing_requests, and enough for a DB pool.
        self._limiter = anyio.CapacityLimiter(16)

    async def call(
        self, service: str, principal: Principal | None, method: str, **kwargs: Any
    ) -> Any:
        return await anyio.to_thread.run_sync(
            invoke,
            self.db,
            self.settings,
            service,
            principal,
            method,
            kwargs,
            limiter=self._limiter,
        )

    async def ready(self) -> bool:
        return await anyio.to_thread.run_sync(self.db.ping)


class ServeBackend:
    def __init__(self, handles: dict[str, DeploymentHandle]):
        self.handles = handles  # service name -> the deployment that runs it

    async def call(
        self, service: str, principal: Principal | None, method: str, **kwargs: Any
    ) -> Any:
        handle = self.handles[service]
        try:
            return await handle.call.remote(
                service, principal, method, kwargs, logs.request_id_var.get()
            )
        except RayTaskError as exc:
            # Domain errors are answers (404, 409, ...), not failures: unwrap them.
            if isinstance(exc.cause, DomainError):
                raise exc.cause from None
            raise

    async def ready(self) -> bool:
        try:
            for handle in {id(h): h for h in self.handles.values()}.values():
                if not await handle.ping.remote():
                    return False
            return True
        except Exception:
            return False
