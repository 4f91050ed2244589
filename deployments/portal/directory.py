"""Which applications run, where they are routed and how to call them: Serve's controller
in the cluster, a fixed table in process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import anyio
from ray import serve
from ray.serve.context import _get_global_client

from deployments.calls.app import AppCalls
from deployments.calls.remote import remote


@dataclass(frozen=True)
class AppEntry:
    name: str
    route_prefix: str
    status: str  # Serve's application status: RUNNING, DEPLOYING, DEPLOY_FAILED, ...
    message: str = ""
    deployed_at: float = 0.0  # when its config was last deployed (a new one may change routes)


class Directory(Protocol):
    async def entries(self) -> list[AppEntry]: ...

    def calls(self, name: str) -> AppCalls: ...


class ServeDirectory:
    """Serve's controller is the registry: it knows every application, its route prefix
    and state, and its handles balance calls over healthy replicas."""

    def __init__(self, own_name: str):
        self.own_name = own_name
        self._calls: dict[str, AppCalls] = {}

    async def entries(self) -> list[AppEntry]:
        # The public serve.status() lacks route prefixes; the client's details have them.
        details = await anyio.to_thread.run_sync(lambda: _get_global_client().get_serve_details())
        return [
            AppEntry(
                name,
                app.get("route_prefix") or "",
                app["status"],
                app.get("message", ""),
                app.get("last_deployed_time_s", 0.0),
            )
            for name, app in sorted(details.get("applications", {}).items())
            if name != self.own_name
        ]

    def calls(self, name: str) -> AppCalls:
        if name not in self._calls:
            self._calls[name] = remote(AppCalls, serve.get_app_handle(name))
        return self._calls[name]


class LocalDirectory:
    def __init__(self, apps: dict[str, tuple[str, AppCalls]]):
        self.apps = apps  # name -> (route prefix, the in-process ingress)

    async def entries(self) -> list[AppEntry]:
        return [AppEntry(name, prefix, "RUNNING") for name, (prefix, _) in self.apps.items()]

    def calls(self, name: str) -> AppCalls:
        return self.apps[name][1]
