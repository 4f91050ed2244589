from __future__ import annotations

from fastapi import APIRouter, Request

from deployments.gateway.auth import CurrentPrincipal
from deployments.gateway.deps import backend
from domain.users.schemas import LoginRequest, RefreshRequest, RegisterRequest, TokenPair, UserOut

router = APIRouter(prefix="/api/v2/auth", tags=["auth"])


@router.post("/register", status_code=201)
async def register(body: RegisterRequest, request: Request) -> UserOut:
    """Create an account. The first account of a fresh install is the admin."""
    return await backend(request).call("accounts", None, "register", req=body)


@router.post("/login")
async def login(body: LoginRequest, request: Request) -> TokenPair:
    return await backend(request).call("accounts", None, "login", req=body)


@router.post("/refresh")
async def refresh(body: RefreshRequest, request: Request) -> TokenPair:
    """Trade a refresh token (used once) for a new token pair."""
    return await backend(request).call("accounts", None, "refresh", req=body)


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict:
    return {"user_id": principal.user_id, "role": principal.role}
