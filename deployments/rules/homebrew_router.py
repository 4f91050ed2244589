"""Homebrew content beside the catalog it extends: /api/v2/rules/{ruleset}/homebrew."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response

from deployments.http.auth import CurrentPrincipal
from deployments.rules.deps import Homebrew
from domain.homebrew.entries import HomebrewEntry
from domain.sheet import Ruleset

router = APIRouter(prefix="/api/v2/rules/{ruleset}/homebrew", tags=["homebrew"])
Slug = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$")]
Scope = Annotated[
    str,
    Query(
        max_length=40,
        pattern=r"^(global|campaign:[1-9][0-9]{0,17})$",
        description="`global` (admins: every character) or `campaign:<id>` (that campaign's "
        "DMs: its members see it, its characters use it)",
    ),
]
EntryBody = Annotated[
    HomebrewEntry, Body(description="Homebrew content; `kind` says which (see docs/rules.md).")
]


def _json(entry: HomebrewEntry) -> dict[str, Any]:
    return entry.model_dump(mode="json", by_alias=True)


@router.get("", responses={404: {"description": "`campaign_not_found`: not your campaign"}})
async def list_homebrew(
    ruleset: Ruleset, principal: CurrentPrincipal, svc: Homebrew, scope: Scope | None = None
):
    """The ruleset's homebrew entries you may see (global ones, and those of your campaigns),
    oldest first; deleted ones are left out. `scope` keeps one scope's entries."""
    return await svc.run(principal, lambda h: h.list(ruleset, scope))


@router.post(
    "",
    status_code=201,
    responses={
        403: {"description": "`forbidden` (global: admins only) or `homebrew_campaign_dm_only`"},
        404: {"description": "`campaign_not_found`: not a campaign you belong to"},
        409: {"description": "`homebrew_conflict`: the slug exists, or clashes with the rules"},
    },
)
async def register_homebrew(
    ruleset: Ruleset,
    entry: EntryBody,
    principal: CurrentPrincipal,
    svc: Homebrew,
    scope: Scope = "global",
):
    """Register homebrew content; characters can then use its slug. `global` (admins): every
    character; `campaign:<id>` (that campaign's DMs): its members see it, and characters use
    it in that campaign."""
    return await svc.run(principal, lambda h: h.register(ruleset, _json(entry), scope))


@router.get("/{slug}")
async def get_homebrew(ruleset: Ruleset, slug: Slug, principal: CurrentPrincipal, svc: Homebrew):
    return await svc.run(principal, lambda h: h.get(ruleset, slug))


@router.put(
    "/{slug}",
    responses={
        409: {"description": "`homebrew_conflict`: clashes with the rules or other homebrew"}
    },
)
async def replace_homebrew(
    ruleset: Ruleset, slug: Slug, entry: EntryBody, principal: CurrentPrincipal, svc: Homebrew
):
    """Replace an entry's content (its owner, or an admin); the slug stays."""
    return await svc.run(principal, lambda h: h.replace(ruleset, slug, _json(entry)))


@router.delete(
    "/{slug}",
    status_code=204,
    responses={409: {"description": "`homebrew_in_use`: other homebrew refers to it"}},
)
async def delete_homebrew(
    ruleset: Ruleset, slug: Slug, principal: CurrentPrincipal, svc: Homebrew
) -> Response:
    """Delete an entry (its owner, or an admin). Characters that name it then report
    `homebrew_deleted` in their validation."""
    await svc.run(principal, lambda h: h.delete(ruleset, slug))
    return Response(status_code=204)
