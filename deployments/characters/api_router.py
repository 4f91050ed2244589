"""HTTP for characters: parse, authorise, call the characters service, shape the reply."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from deployments.common.runner import ServiceRunner
from deployments.http.auth import CurrentPrincipal
from deployments.http.etags import IfMatch, etag
from domain.characters.examples import EXAMPLE_2014, EXAMPLE_2024
from domain.characters.messages import (
    MAX_ID,
    BulkOut,
    BulkRequest,
    CampaignEventOut,
    CharacterOut,
    CharacterPage,
    CheckOut,
    LinkOut,
    LinkRequest,
    RestoreRequest,
    ThemeTransition,
    ThemeTransitionOut,
    VersionOut,
    VersionSummary,
    XpAwardOut,
    XpAwardRequest,
    XpAwardResult,
)
from domain.characters.service import CharacterService
from domain.characters.sheet_html import render_sheet
from domain.rules.charsheet import Sheet
from domain.sheet import CharacterDoc, Ruleset

PREFIX = "/api/v2/characters"
router = APIRouter(prefix=PREFIX, tags=["characters"])
# Bounded so that an absurd id is a 422, not a database overflow. The paths say
# `{character_id:int}`, so that /characters/validate is never taken for an id: a method it
# does not take answers 405, not 422.
CharacterId = Annotated[int, Path(ge=1, le=MAX_ID)]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_ID)]


# Shown on the OpenAPI page (/docs) as ready-to-send bodies.
DocumentBody = Annotated[
    CharacterDoc,
    Body(
        openapi_examples={
            "2024": {"summary": "2024 rules: human wizard 3", "value": EXAMPLE_2024},
            "2014": {"summary": "2014 rules: hill dwarf fighter 3", "value": EXAMPLE_2014},
        }
    ),
]


def _characters(request: Request) -> ServiceRunner[CharacterService]:
    return request.app.state.characters


Characters = Annotated[ServiceRunner[CharacterService], Depends(_characters)]


def _with_etag(response: Response, out: CharacterOut) -> CharacterOut:
    response.headers["ETag"] = etag(out.version)
    return out


@router.get("")
async def list_characters(
    principal: CurrentPrincipal,
    svc: Characters,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ruleset: Ruleset | None = None,
) -> CharacterPage:
    """Your characters (an admin sees everyone's)."""
    return await svc.run(principal, lambda s: s.list(limit=limit, offset=offset, ruleset=ruleset))


@router.post("", status_code=201)
async def create_character(
    doc: DocumentBody, principal: CurrentPrincipal, svc: Characters, response: Response
) -> CharacterOut:
    """Create a character; it must pass the rules (warnings are allowed)."""
    out = await svc.run(principal, lambda s: s.create(doc))
    response.headers["Location"] = f"{PREFIX}/{out.id}"
    return _with_etag(response, out)


@router.post("/validate")
async def validate_document(
    doc: DocumentBody, principal: CurrentPrincipal, svc: Characters
) -> CheckOut:
    """Check a document against the rules without storing it."""
    return await svc.run(principal, lambda s: s.validate_document(doc))


@router.post("/bulk/validate")
async def bulk_validate(body: BulkRequest, principal: CurrentPrincipal, svc: Characters) -> BulkOut:
    """Validate up to 1,000 documents; one result per item, in order."""
    return await svc.run(principal, lambda s: s.bulk_validate(body.characters))


@router.post("/bulk/create", status_code=201)
async def bulk_create(
    body: BulkRequest, principal: CurrentPrincipal, svc: Characters, partial: bool = False
) -> BulkOut:
    """Create up to 1,000 characters: all or none, or with `?partial=true` the valid ones."""
    return await svc.run(principal, lambda s: s.bulk_create(body.characters, partial=partial))


@router.get("/{character_id:int}")
async def get_character(
    character_id: CharacterId, principal: CurrentPrincipal, svc: Characters, response: Response
) -> CharacterOut:
    return _with_etag(response, await svc.run(principal, lambda s: s.get(character_id)))


@router.put("/{character_id:int}")
async def replace_character(
    character_id: CharacterId,
    doc: DocumentBody,
    expected: IfMatch,
    principal: CurrentPrincipal,
    svc: Characters,
    response: Response,
    reason: Annotated[str, Query(max_length=500)] = "",
) -> CharacterOut:
    """Replace the document. Needs `If-Match: "<version>"`; a stale version gets 409."""
    out = await svc.run(principal, lambda s: s.replace(character_id, doc, expected, reason))
    return _with_etag(response, out)


@router.patch("/{character_id:int}")
async def patch_character(
    character_id: CharacterId,
    patch: Annotated[
        dict[str, Any],
        Body(
            description="A JSON Merge Patch (RFC 7396) of the document: objects merge, null "
            "removes, lists replace. Send as application/merge-patch+json or application/json.",
            openapi_examples={"rename": {"value": {"name": "Mira the Bold"}}},
        ),
    ],
    expected: IfMatch,
    principal: CurrentPrincipal,
    svc: Characters,
    response: Response,
    reason: Annotated[str, Query(max_length=500)] = "",
) -> CharacterOut:
    """Change part of the document. Needs `If-Match: "<version>"`; a stale version gets 409."""
    out = await svc.run(principal, lambda s: s.patch(character_id, patch, expected, reason))
    return _with_etag(response, out)


@router.delete("/{character_id:int}", status_code=204)
async def delete_character(
    character_id: CharacterId, expected: IfMatch, principal: CurrentPrincipal, svc: Characters
) -> Response:
    await svc.run(principal, lambda s: s.delete(character_id, expected))
    return Response(status_code=204)


@router.get("/{character_id:int}/validation")
async def character_validation(
    character_id: CharacterId, principal: CurrentPrincipal, svc: Characters
) -> CheckOut:
    out = await svc.run(principal, lambda s: s.get(character_id))
    return CheckOut(validation=out.validation, derived=out.derived)


@router.get(
    "/{character_id:int}/sheet",
    response_model=Sheet,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}},
                     "description": "The sheet as JSON, or with ?format=html a printable "
                                    "one-page HTML sheet."}},
)
async def character_sheet(
    character_id: CharacterId,
    principal: CurrentPrincipal,
    svc: Characters,
    format: Annotated[Literal["json", "html"], Query()] = "json",
) -> Any:
    """The complete character sheet: saves, skills, passives, AC with its breakdown,
    spellcasting, attacks, proficiencies with the grant that gave each."""
    sheet = await svc.run(principal, lambda s: s.sheet(character_id))
    if format == "html":
        return HTMLResponse(render_sheet(sheet))
    return sheet


@router.put("/{character_id:int}/theme/transition")
async def transition_theme(
    character_id: CharacterId,
    body: ThemeTransition,
    expected: IfMatch,
    principal: CurrentPrincipal,
    svc: Characters,
    response: Response,
) -> ThemeTransitionOut:
    """Move to another theme: checks the move is allowed, applies its ability adjustments,
    and records why in a new version (restore an earlier version to undo it)."""
    out = await svc.run(principal, lambda s: s.transition_theme(character_id, body, expected))
    response.headers["ETag"] = etag(out.character.version)
    return out


@router.get("/{character_id:int}/versions")
async def list_versions(
    character_id: CharacterId, principal: CurrentPrincipal, svc: Characters
) -> list[VersionSummary]:
    return await svc.run(principal, lambda s: s.versions(character_id))


@router.get("/{character_id:int}/versions/{number:int}")
async def get_version(
    character_id: CharacterId, number: VersionNumber, principal: CurrentPrincipal, svc: Characters
) -> VersionOut:
    return await svc.run(principal, lambda s: s.version(character_id, number))


@router.post("/{character_id:int}/versions/{number:int}/restore")
async def restore_version(
    character_id: CharacterId,
    number: VersionNumber,
    expected: IfMatch,
    principal: CurrentPrincipal,
    svc: Characters,
    response: Response,
    body: RestoreRequest | None = None,
) -> CharacterOut:
    """Make a new version whose document is version `number`'s. Needs If-Match."""
    req = body or RestoreRequest()
    out = await svc.run(principal, lambda s: s.restore(character_id, number, expected, req))
    return _with_etag(response, out)


@router.post("/{character_id:int}/xp", status_code=201)
async def award_xp(
    character_id: CharacterId, body: XpAwardRequest, principal: CurrentPrincipal, svc: Characters
) -> XpAwardResult:
    """Award XP or a milestone; crossing a threshold levels the character up."""
    return await svc.run(principal, lambda s: s.award_xp(character_id, body))


@router.get("/{character_id:int}/xp")
async def xp_history(
    character_id: CharacterId, principal: CurrentPrincipal, svc: Characters
) -> list[XpAwardOut]:
    return await svc.run(principal, lambda s: s.xp_history(character_id))


@router.get("/{character_id:int}/events")
async def campaign_events(
    character_id: CharacterId,
    principal: CurrentPrincipal,
    svc: Characters,
    after: Annotated[int, Query(ge=0, le=2**62, description="The last seq you have.")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CampaignEventOut]:
    """The campaign events that changed this character (awards, items, story impacts),
    oldest first; a player sees none of a DM's secrets. Page on with `after`."""
    return await svc.run(principal, lambda s: s.campaign_events(character_id, after, limit))


@router.get("/{character_id:int}/links")
async def list_links(
    character_id: CharacterId, principal: CurrentPrincipal, svc: Characters
) -> list[LinkOut]:
    """Antitheticon identity links in which this character takes part."""
    return await svc.run(principal, lambda s: s.links(character_id))


@router.post("/{character_id:int}/links", status_code=201)
async def link_character(
    character_id: CharacterId, body: LinkRequest, principal: CurrentPrincipal, svc: Characters
) -> LinkOut:
    return await svc.run(principal, lambda s: s.link(character_id, body))
