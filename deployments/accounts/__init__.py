"""The accounts application: registration, login, tokens, roles (route prefix /api/v2/auth)."""

from deployments.accounts.app import AccountsConfig, AccountsIngress, build

INGRESS = AccountsIngress
__all__ = ["INGRESS", "AccountsConfig", "build"]
