"""The events application: runs the event hub's relay and consumers in its replica, and
answers the hub's admin routes (status, registry, dead letters, replay).

serve_config.yaml: `import_path: deployments.events:build`, route prefix /api/v2/events."""

from deployments.events.app import EventsConfig, EventsIngress, build

INGRESS = EventsIngress
__all__ = ["INGRESS", "EventsConfig", "build"]
