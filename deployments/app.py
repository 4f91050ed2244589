"""The Serve application graph: `serve run serve_config.yaml` imports `app` from here."""

from __future__ import annotations

from deployments.common.replica import DomainReplica
from deployments.gateway.deployment import Gateway

app = Gateway.bind(
    characters=DomainReplica.options(name="Characters").bind(["characters", "homebrew"]),
    accounts=DomainReplica.options(name="Accounts").bind(["accounts"]),
)
