"""The HTTP ingress deployment: FastAPI on Serve, calling domain replicas by handle."""

from __future__ import annotations

from ray import serve
from ray.serve.handle import DeploymentHandle

from cluster.logs import configure_logging
from cluster.settings import get_settings
from deployments.gateway.app import build_app
from deployments.gateway.backend import ServeBackend

_settings = get_settings()
app = build_app(_settings)


@serve.deployment(ray_actor_options={"num_cpus": 0.25}, max_ongoing_requests=128)
@serve.ingress(app)
class Gateway:
    def __init__(self, characters: DeploymentHandle, accounts: DeploymentHandle):
        configure_logging(_settings.log_level)
        app.state.backend = ServeBackend(
            {"characters": characters, "homebrew": characters, "accounts": accounts}
        )
