"""The Serve application graph: `serve run serve_config.yaml` imports `app` from here."""

from __future__ import annotations

from deployments.common.replica import DomainReplica
from deployments.common.services import DEPLOYMENT_SERVICES
from deployments.gateway.deployment import Gateway

app = Gateway.bind(
    {
        name: DomainReplica.options(name=name).bind(list(services))
        for name, services in DEPLOYMENT_SERVICES.items()
    }
)
