"""The rules application: the rules catalog and homebrew (route prefix /api/v2/rules)."""

from deployments.rules.app import RulesConfig, RulesIngress, build

INGRESS = RulesIngress
__all__ = ["INGRESS", "RulesConfig", "build"]
