"""HTTP for characters: parse, authorise, call the characters service, shape the reply."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from deployments.gateway.auth import CurrentPrincipal
from deployments.gateway.deps import backend, etag, if_match
from domain.characters.examples import EXAMPLE_2014, EXAMPLE_2024
from domain.characters.messages import (
    MAX_ID,
    BulkOut,
    BulkRequest,
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
from domain.characters.schemas import CharacterDoc, Ruleset

router = APIRouter(prefix="/api/v2/characters", tags=["characters"])
IfMatch = Annotated[int | None, Depends(if_match)]
# Bounded so that an absurd id is a 422, not a database overflow.
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


async def _call(request: Request, principal, method: str, **kwargs):
    return await backend(request).call("characters", principal, method, **kwargs)


def _with_etag(response: Response, out: CharacterOut) -> CharacterOut:
    response.headers["ETag"] = etag(out.version)
    return out


@router.get("")
async def list_characters(
    principal: CurrentPrincipal,
    request: Request,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    ruleset: Ruleset | None = None,
) -> CharacterPage:
    """Your characters (an admin sees everyone's)."""
    return await _call(request, principal, "list", limit=limit, offset=offset, ruleset=ruleset)


@router.post("", status_code=201)
async def create_character(
    doc: DocumentBody, principal: CurrentPrincipal, request: Request, response: Response
) -> CharacterOut:
    """Create a character; it must pass the rules (warnings are allowed)."""
    out = await _call(request, principal, "create", doc=doc)
    response.headers["Location"] = f"{router.prefix}/{out.id}"
    return _with_etag(response, out)


@router.post("/validate")
async def validate_document(
    doc: DocumentBody, principal: CurrentPrincipal, request: Request
) -> CheckOut:
    """Check a document against the rules without storing it."""
    return await _call(request, principal, "validate_document", doc=doc)


@router.post("/bulk/validate")
async def bulk_validate(
    body: BulkRequest, principal: CurrentPrincipal, request: Request
) -> BulkOut:
    """Validate up to 1,000 documents; one result per item, in order."""
    return await _call(request, principal, "bulk_validate", items=body.characters)


@router.post("/bulk/create", status_code=201)
async def bulk_create(
    body: BulkRequest,
    principal: CurrentPrincipal,
    request: Request,
    partial: bool = False,
) -> BulkOut:
    """Create up to 1,000 characters: all or none, or with `?partial=true` the valid ones."""
    return await _call(request, principal, "bulk_create", items=body.characters, partial=partial)


@router.get("/{character_id}")
async def get_character(
    character_id: CharacterId, principal: CurrentPrincipal, request: Request, response: Response
) -> CharacterOut:
    return _with_etag(response, await _call(request, principal, "get", character_id=character_id))


@router.put("/{character_id}")
async def replace_character(
    character_id: CharacterId,
    doc: DocumentBody,
    expected: IfMatch,
    principal: CurrentPrincipal,
    request: Request,
    response: Response,
    reason: Annotated[str, Query(max_length=500)] = "",
) -> CharacterOut:
    """Replace the document. Needs `If-Match: "<version>"`; a stale version gets 409."""
    out = await _call(
        request,
        principal,
        "replace",
        character_id=character_id,
        doc=doc,
        expected=expected,
        reason=reason,
    )
    return _with_etag(response, out)


@router.patch("/{character_id}")
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
    request: Request,
    response: Response,
    reason: Annotated[str, Query(max_length=500)] = "",
) -> CharacterOut:
    """Change part of the document. Needs `If-Match: "<version>"`; a stale version gets 409."""
    out = await _call(
        request,
        principal,
        "patch",
        character_id=character_id,
        patch=patch,
        expected=expected,
        reason=reason,
    )
    return _with_etag(response, out)


@router.delete("/{character_id}", status_code=204)
async def delete_character(
    character_id: CharacterId, expected: IfMatch, principal: CurrentPrincipal, request: Request
) -> Response:
    await _call(request, principal, "delete", character_id=character_id, expected=expected)
    return Response(status_code=204)


@router.get("/{character_id}/validation")
async def character_validation(
    character_id: CharacterId, principal: CurrentPrincipal, request: Request
) -> CheckOut:
    out: CharacterOut = await _call(request, principal, "get", character_id=character_id)
    return CheckOut(validation=out.validation, derived=out.derived)


@router.put("/{character_id}/theme/transition")
async def transition_theme(
    character_id: CharacterId,
    body: ThemeTransition,
    expected: IfMatch,
    principal: CurrentPrincipal,
    request: Request,
    response: Response,
) -> ThemeTransitionOut:
    """Move to another theme: checks the move is allowed, applies its ability adjustments,
    and records why in a new version (restore an earlier version to undo it)."""
    out: ThemeTransitionOut = await _call(
        request,
        principal,
        "transition_theme",
        character_id=character_id,
        req=body,
        expected=expected,
    )
    response.headers["ETag"] = etag(out.character.version)
    return out


@router.get("/{character_id}/versions")
async def list_versions(
    character_id: CharacterId, principal: CurrentPrincipal, request: Request
) -> list[VersionSummary]:
    return await _call(request, principal, "versions", character_id=character_id)


@router.get("/{character_id}/versions/{number}")
async def get_version(
    character_id: CharacterId, number: VersionNumber, principal: CurrentPrincipal, request: Request
) -> VersionOut:
    return await _call(request, principal, "version", character_id=character_id, number=number)


@router.post("/{character_id}/versions/{number}/restore")
async def restore_version(
    character_id: CharacterId,
    number: VersionNumber,
    expected: IfMatch,
    principal: CurrentPrincipal,
    request: Request,
    response: Response,
    body: RestoreRequest | None = None,
) -> CharacterOut:
    """Make a new version whose document is version `number`'s. Needs If-Match."""
    out = await _call(
        request,
        principal,
        "restore",
        character_id=character_id,
        number=number,
        expected=expected,
        req=body or RestoreRequest(),
    )
    return _with_etag(response, out)


@router.post("/{character_id}/xp", status_code=201)
async def award_xp(
    character_id: CharacterId, body: XpAwardRequest, principal: CurrentPrincipal, request: Request
) -> XpAwardResult:
    """Award XP or a milestone; crossing a threshold levels the character up."""
    return await _call(request, principal, "award_xp", character_id=character_id, req=body)


@router.get("/{character_id}/xp")
async def xp_history(
    character_id: CharacterId, principal: CurrentPrincipal, request: Request
) -> list[XpAwardOut]:
    return await _call(request, principal, "xp_history", character_id=character_id)


@router.get("/{character_id}/links")
async def list_links(
    character_id: CharacterId, principal: CurrentPrincipal, request: Request
) -> list[LinkOut]:
    """Antitheticon identity links in which this character takes part."""
    return await _call(request, principal, "links", character_id=character_id)


@router.post("/{character_id}/links", status_code=201)
async def link_character(
    character_id: CharacterId, body: LinkRequest, principal: CurrentPrincipal, request: Request
) -> LinkOut:
    return await _call(request, principal, "link", character_id=character_id, req=body)
