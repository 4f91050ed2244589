from __future__ import annotations

import threading
from typing import Any

from fastapi import FastAPI
from pydantic import Field
from ray import serve
from ray.serve import Application

from cluster.events.hub import EventHub
from deployments.common.config import AppConfig
from deployments.common.ingress import AppIngress, validated_args
from deployments.events import api_router


class EventsConfig(AppConfig):
    relay: bool = True  # run the outbox relay in this replica
    consumers: bool = True  # run the consumer groups in this replica
    # In process (tests, serve-local) the hub runs only when asked: tests drain it themselves.
    in_process: bool = False
    metrics_interval_s: float = Field(5, gt=0, le=3600)


class EventsIngress(AppIngress):
    route_prefix = api_router.PREFIX
    config_type = EventsConfig
    config: EventsConfig

    def create_app(self) -> FastAPI:
        self.hub = EventHub(self.db, self.settings)
        self._stop = threading.Event()
        if self.behind_serve or self.config.in_process:
            self.hub.start(relay=self.config.relay, consumers=self.config.consumers)
        if self.behind_serve:
            from deployments.events.metrics import export  # Ray metrics exist in Ray only

            threading.Thread(
                target=export,
                args=(self.hub, self._stop, self.config.metrics_interval_s),
                name="events-metrics",
                daemon=True,
            ).start()
        app = self.new_app(
            title="Lorekeeper events",
            description="The event hub: consumer groups, their lag, dead letters and replay.",
            routers=[api_router.router],
        )
        app.state.hub = self.hub
        return app

    def __del__(self) -> None:  # Serve calls it when the replica stops
        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()
            self.hub.stop(timeout=2)


Events = serve.deployment(name="Events")(serve.ingress()(EventsIngress))


def build(args: dict[str, Any]) -> Application:
    """serve_config.yaml's builder: `args` is validated into the config object."""
    return Events.bind(validated_args(Events, args))
