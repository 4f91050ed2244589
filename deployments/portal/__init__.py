"""The portal application at "/": merged OpenAPI, offline /docs, /healthz and /readyz."""

from deployments.portal.app import PortalConfig, PortalIngress, build

INGRESS = PortalIngress
__all__ = ["INGRESS", "PortalConfig", "build"]
