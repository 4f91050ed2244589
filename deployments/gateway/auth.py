"""Bearer-token authentication for every /api/v2 route but register, login and refresh."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.errors import Unauthorized
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
