from __future__ import annotations

from fastapi import APIRouter, Request

from deployments.gateway.auth import CurrentPrincipal
from deployments.gateway.deps import backend
from domain.errors import RateLimited
from domain.users.schemas import LoginRequest, RefreshRequest, RegisterRequest, TokenPair, UserOut

router = APIRouter(prefix="/api/v2/auth", tags=["auth"])


async def _throttle(request: Request, key: str, per_minute: int) -> None:
    retry_after = await request.app.state.rate_limiter.hit(key, per_minute, 60)
    if retry_after:
        raise RateLimited(
            f"Too many attempts: wait {retry_after} s and try again.", retry_after=retry_after
        )


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/register", status_code=201)
async def register(body: RegisterRequest, request: Request) -> UserOut:
    """Create an account. The first account of a fresh install is the admin."""
    limit = request.app.state.settings.registrations_per_minute
    await _throttle(request, f"register:{_client(request)}", limit)
    return await backend(request).call("accounts", None, "register", req=body)


@router.post("/login")
async def login(body: LoginRequest, request: Request) -> TokenPair:
    """Attempts are limited per username and client address (429 with Retry-After)."""
    limit = request.app.state.settings.login_attempts_per_minute
    await _throttle(request, f"login:{body.username.lower()}:{_client(request)}", limit)
    return await backend(request).call("accounts", None, "login", req=body)


@router.post("/refresh")
async def refresh(body: RefreshRequest, request: Request) -> TokenPair:
    """Trade a refresh token (used once) for a new token pair."""
    return await backend(request).call("accounts", None, "refresh", req=body)


@router.get("/me")
async def me(principal: CurrentPrincipal) -> dict:
    return {"user_id": principal.user_id, "role": principal.role}
