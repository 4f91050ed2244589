from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request

from deployments.gateway.auth import CurrentPrincipal
from deployments.gateway.deps import backend
from domain.characters.schemas import Ruleset
from domain.rules import HomebrewEntry

router = APIRouter(prefix="/api/v2/homebrew", tags=["homebrew"])


@router.get("/{ruleset}")
async def list_homebrew(ruleset: Ruleset, principal: CurrentPrincipal, request: Request):
    return await backend(request).call("homebrew", principal, "list", ruleset=ruleset)


@router.post("/{ruleset}", status_code=201)
async def register_homebrew(
    ruleset: Ruleset,
    principal: CurrentPrincipal,
    request: Request,
    entry: Annotated[
        HomebrewEntry,
        Body(description="Homebrew content; `kind` says which (see docs/rules.md)."),
    ],
):
    """Register homebrew content (DM or admin); characters can then use its slug."""
    return await backend(request).call(
        "homebrew",
        principal,
        "register",
        ruleset=ruleset,
        entry=entry.model_dump(mode="json", by_alias=True),
    )
