"""The HTTP ingress deployment: FastAPI on Serve, calling domain replicas by handle."""

from __future__ import annotations

from fastapi import FastAPI
from ray import serve
from ray.serve.handle import DeploymentHandle

from cluster.logs import configure_logging
from cluster.settings import get_settings
from deployments.common.services import DEPLOYMENT_SERVICES
from deployments.gateway.app import build_app
from deployments.gateway.backend import ServeBackend


class GatewayIngress:
    """Kept apart from the Serve wrapper so that Ray pickles it by reference."""

    def __init__(self, domains: dict[str, DeploymentHandle]):
        self.settings = get_settings()
        configure_logging(self.settings.log_level)
        self.backend = ServeBackend(
            {
                service: domains[name]
                for name, services in DEPLOYMENT_SERVICES.items()
                for service in services
            }
        )

    def __serve_build_asgi_app__(self) -> FastAPI:
        # Built in the replica, after __init__: the app holds this replica's handles.
        app = build_app(self.settings, behind_serve_proxy=True)
        app.state.backend = self.backend
        return app


Gateway = serve.deployment(
    name="Gateway", ray_actor_options={"num_cpus": 0.25}, max_ongoing_requests=128
)(serve.ingress()(GatewayIngress))
