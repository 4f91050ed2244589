"""Bearer-token authentication and permission checks, the same in every application."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.errors import Unauthorized
from domain.users.permissions import Permission, require
from domain.users.schemas import Principal
from domain.users.tokens import verify_access_token

_bearer = HTTPBearer(auto_error=False, description="The access token from /api/v2/auth/login")


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send 'Authorization: Bearer <access token>'; get one by logging in.")
    return verify_access_token(credentials.credentials, request.app.state.jwt_secret)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def requires(permission: Permission) -> Callable[[Principal], Principal]:
    """A dependency: the caller, if their role grants `permission` (else 403)."""

    def check(principal: CurrentPrincipal) -> Principal:
        require(principal, permission)
        return principal

    return check
