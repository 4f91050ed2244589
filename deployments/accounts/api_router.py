"""Accounts over HTTP: registration, login and tokens, and (admins) roles and invitations."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import Field

from cluster.rate_limit import check_login, check_registration, client_address
from deployments.common.runner import ServiceRunner
from deployments.http.auth import CurrentPrincipal, requires
from domain.sheet import Document
from domain.users.permissions import Permission
from domain.users.schemas import (
    InvitationOut,
    LoginRequest,
    Principal,
    RefreshRequest,
    RegisterRequest,
    Role,
    TokenPair,
    UserOut,
    UserPage,
)
from domain.users.service import AccountService

PREFIX = "/api/v2/auth"
router = APIRouter(prefix=PREFIX, tags=["auth"])
Manager = Annotated[Principal, Depends(requires(Permission.USERS_MANAGE))]
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class RoleChange(Document):
    role: Role


class InvitationRequest(Document):
    role: Literal["dm", "player"] = "dm"
    expires_in_hours: int = Field(7 * 24, ge=1, le=30 * 24)


def _accounts(request: Request) -> ServiceRunner[AccountService]:
    return request.app.state.accounts


Accounts = Annotated[ServiceRunner[AccountService], Depends(_accounts)]


def _no_store(response: Response) -> None:
    """Token responses must never be cached (RFC 6749, 5.1)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


def _address(request: Request) -> str:
    """X-Forwarded-For counts only from LOREKEEPER_TRUSTED_PROXIES."""
    peer = request.client.host if request.client else "unknown"
    settings = request.app.state.settings
    return client_address(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies)


_RATE_LIMITED = {
    429: {
        "description": "`rate_limited`: too many attempts; retry after Retry-After seconds",
        "headers": {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}
        },
    }
}


@router.post(
    "/register",
    status_code=201,
    responses={409: {"description": "`username_taken`"}, **_RATE_LIMITED},
)
async def register(body: RegisterRequest, request: Request, svc: Accounts) -> UserOut:
    """Create a player account (or, with an `invitation` code, the role it grants). The first
    account of a fresh install is the admin. Limited per client address."""
    state = request.app.state
    await check_registration(state.rate_limiter, state.settings, _address(request))
    return await svc.run(None, lambda s: s.register(body))


@router.post("/login", responses={401: {"description": "`bad_credentials`"}, **_RATE_LIMITED})
async def login(
    body: LoginRequest, request: Request, response: Response, svc: Accounts
) -> TokenPair:
    """Attempts are limited per username and per client address (429 with Retry-After)."""
    _no_store(response)
    state = request.app.state
    await check_login(state.rate_limiter, state.settings, body.username, _address(request))
    return await svc.run(None, lambda s: s.login(body))


@router.post(
    "/refresh", responses={401: {"description": "`bad_refresh`: used, expired or unknown"}}
)
async def refresh(body: RefreshRequest, response: Response, svc: Accounts) -> TokenPair:
    """Trade a refresh token (it works once) for a new pair. Replaying a used one revokes
    every token of that login."""
    _no_store(response)
    return await svc.run(None, lambda s: s.refresh(body))


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict:
    return {"user_id": principal.user_id, "role": principal.role}


@router.get("/users")
async def list_users(
    principal: Manager,
    svc: Accounts,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> UserPage:
    """Every account (admins)."""
    return await svc.run(principal, lambda s: s.list_users(limit, offset))


@router.put(
    "/users/{user_id}/role",
    responses={409: {"description": "`last_admin`: it would leave no admin"}},
)
async def set_role(user_id: UserId, body: RoleChange, principal: Manager, svc: Accounts) -> UserOut:
    """Grant a role (admins): `dm`, `player` or `admin`. The last admin cannot be demoted
    (409 `last_admin`). The user's next access token carries the new role."""
    return await svc.run(principal, lambda s: s.set_role(user_id, body.role))


@router.post("/invitations", status_code=201)
async def create_invitation(
    body: InvitationRequest, principal: Manager, response: Response, svc: Accounts
) -> InvitationOut:
    """A one-time code (admins) that registers its holder with `role`; shown only once."""
    _no_store(response)
    ttl = timedelta(hours=body.expires_in_hours)
    return await svc.run(principal, lambda s: s.create_invitation(body.role, ttl))
