"""Lag, pending and dead letters per consumer group as Ray metrics (Ray's /metrics, the
Prometheus endpoint on LOREKEEPER_METRICS_PORT): ray_lorekeeper_events_lag{group=...} ..."""

from __future__ import annotations

import threading

from ray.util.metrics import Gauge

from cluster.events.hub import EventHub
from cluster.logs import get_logger

log = get_logger("events.metrics")


def export(hub: EventHub, stop: threading.Event, interval_s: float) -> None:
    tags = ("group", "transport")
    gauges = {
        name: Gauge(f"lorekeeper_events_{name}", description=text, tag_keys=tags)
        for name, text in {
            "lag": "Events a consumer group has not received yet (relay backlog included).",
            "pending": "Events received by a group's consumers and not acknowledged.",
            "retrying": "Failed events waiting for their redelivery.",
            "dead": "Events in the group's dead letters.",
            "consumers_alive": "Consumers of the group with a recent heartbeat.",
        }.items()
    }
    while not stop.is_set():
        try:
            for status in hub.status():
                labels = {"group": status.group, "transport": status.transport}
                for name, gauge in gauges.items():
                    gauge.set(getattr(status, name), tags=labels)
        except Exception:
            log.exception("events metrics round failed")
        stop.wait(interval_s)
