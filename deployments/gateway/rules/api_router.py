from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from deployments.gateway.auth import CurrentPrincipal
from deployments.gateway.deps import backend
from domain.characters.schemas import Ruleset
from domain.rules.catalog import CatalogPage, CatalogSummary, Table, ThemeOut

router = APIRouter(prefix="/api/v2/rules", tags=["rules"])


@router.get("/{ruleset}")
async def rules_summary(
    ruleset: Ruleset, principal: CurrentPrincipal, request: Request
) -> CatalogSummary:
    """The ruleset's tables (SRD plus homebrew) with their sizes, and its themes."""
    return await backend(request).call("rules", principal, "summary", ruleset=ruleset)


@router.get("/{ruleset}/themes")
async def rules_themes(
    ruleset: Ruleset, principal: CurrentPrincipal, request: Request
) -> list[ThemeOut]:
    """Themes offered in the ruleset: adjustments, forbidden content, allowed transitions."""
    return await backend(request).call("rules", principal, "themes", ruleset=ruleset)


@router.get("/{ruleset}/{table}")
async def rules_table(
    ruleset: Ruleset,
    table: Table,
    principal: CurrentPrincipal,
    request: Request,
    q: Annotated[str, Query(max_length=80, description="Part of a slug or name")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> CatalogPage:
    """The slugs a character may name (`classes`, `spells`, `items`, ...) and their facts."""
    return await backend(request).call(
        "rules",
        principal,
        "entries",
        ruleset=ruleset,
        table=table,
        q=q,
        limit=limit,
        offset=offset,
    )
