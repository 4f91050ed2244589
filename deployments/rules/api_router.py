"""The rules catalog: what a character may name, SRD plus homebrew, and the themes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from deployments.http.auth import CurrentPrincipal
from deployments.rules.deps import Homebrew
from domain.rules.catalog import CatalogPage, CatalogService, CatalogSummary, Table, ThemeOut
from domain.sheet import Ruleset

PREFIX = "/api/v2/rules"
router = APIRouter(prefix=PREFIX, tags=["rules"])


@router.get("/{ruleset}")
async def rules_summary(
    ruleset: Ruleset, principal: CurrentPrincipal, svc: Homebrew
) -> CatalogSummary:
    """The ruleset's tables (SRD plus the homebrew you may see) with their sizes, and its
    themes."""
    return await svc.run(principal, lambda h: CatalogService(h.visible_rules).summary(ruleset))


@router.get("/{ruleset}/themes")
async def rules_themes(
    ruleset: Ruleset, principal: CurrentPrincipal, svc: Homebrew
) -> list[ThemeOut]:
    """Themes offered in the ruleset: adjustments, forbidden content, allowed transitions."""
    return await svc.run(principal, lambda h: CatalogService(h.visible_rules).themes(ruleset))


@router.get("/{ruleset}/{table}")
async def rules_table(
    ruleset: Ruleset,
    table: Table,
    principal: CurrentPrincipal,
    svc: Homebrew,
    q: Annotated[str, Query(max_length=80, description="Part of a slug or name")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> CatalogPage:
    """The slugs a character may name (`classes`, `spells`, `items`, ...) and their facts."""
    return await svc.run(
        principal,
        lambda h: CatalogService(h.visible_rules).entries(
            ruleset, table, q=q, limit=limit, offset=offset
        ),
    )
