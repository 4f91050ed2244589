"""HTTP for campaigns themselves: the document, versions, theme, members, invitations,
export and import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from deployments.campaigns.deps import PREFIX, CampaignId, Number, Service, with_etag
from deployments.http.auth import CurrentPrincipal
from deployments.http.etags import IfMatch
from domain.campaigns.messages import (
    CampaignExport,
    CampaignOut,
    CampaignPage,
    CampaignVersionOut,
    InvitationOut,
    MemberIn,
    MemberOut,
    RestoreRequest,
    ThemeChange,
    ThemeChangeOut,
    VersionSummary,
)
from domain.campaigns.schemas import CampaignDoc
from domain.campaigns.themes import CampaignThemeOut, catalog
from domain.sheet import Ruleset

router = APIRouter(prefix=PREFIX, tags=["campaigns"])


@router.get("")
async def list_campaigns(
    principal: CurrentPrincipal,
    svc: Service,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> CampaignPage:
    """The campaigns you belong to, with your role in each."""
    return await svc.run(principal, lambda s: s.campaigns.list(limit=limit, offset=offset))


@router.post("", status_code=201)
async def create_campaign(
    doc: CampaignDoc, principal: CurrentPrincipal, svc: Service, response: Response
) -> CampaignOut:
    """Start a campaign (needs the `campaigns:create` permission: DMs and admins); you own it."""
    out = await svc.run(principal, lambda s: s.campaigns.create(doc))
    response.headers["Location"] = f"{PREFIX}/{out.id}"
    return with_etag(response, out)


@router.get("/themes")
async def list_themes(
    principal: CurrentPrincipal, ruleset: Ruleset | None = None
) -> list[CampaignThemeOut]:
    """Campaign themes: tone, what each allows and forbids, world effects, adjustments."""
    return catalog(ruleset)


@router.get("/invitations")
async def my_invitations(principal: CurrentPrincipal, svc: Service) -> list[InvitationOut]:
    """Invitations to campaigns waiting for your answer."""
    return await svc.run(principal, lambda s: s.campaigns.my_invitations())


@router.post("/invitations/{invitation_id:int}/accept", status_code=201)
async def accept_invitation(
    invitation_id: Number, principal: CurrentPrincipal, svc: Service
) -> MemberOut:
    out = await svc.run(principal, lambda s: s.campaigns.answer_invitation(invitation_id, True))
    assert out is not None
    return out


@router.post("/invitations/{invitation_id:int}/decline", status_code=204)
async def decline_invitation(
    invitation_id: Number, principal: CurrentPrincipal, svc: Service
) -> Response:
    await svc.run(principal, lambda s: s.campaigns.answer_invitation(invitation_id, False))
    return Response(status_code=204)


@router.post("/import", status_code=201)
async def import_campaign(
    doc: CampaignExport, principal: CurrentPrincipal, svc: Service, response: Response
) -> CampaignOut:
    """A new campaign from an export; checked whole first: any problem is a 422 and nothing
    is written."""
    out = await svc.run(principal, lambda s: s.transfer.import_(doc))
    response.headers["Location"] = f"{PREFIX}/{out.id}"
    return with_etag(response, out)


@router.get("/{campaign_id:int}")
async def get_campaign(
    campaign_id: CampaignId, principal: CurrentPrincipal, svc: Service, response: Response
) -> CampaignOut:
    return with_etag(response, await svc.run(principal, lambda s: s.campaigns.get(campaign_id)))


@router.put("/{campaign_id:int}")
async def replace_campaign(
    campaign_id: CampaignId,
    doc: CampaignDoc,
    expected: IfMatch,
    principal: CurrentPrincipal,
    svc: Service,
    response: Response,
    reason: Annotated[str, Query(max_length=500)] = "",
) -> CampaignOut:
    """Replace the document (DMs). Needs `If-Match: "<version>"`; a stale one gets 409."""
    out = await svc.run(
        principal, lambda s: s.campaigns.replace(campaign_id, doc, expected, reason)
    )
    return with_etag(response, out)


@router.delete("/{campaign_id:int}", status_code=204)
async def delete_campaign(
    campaign_id: CampaignId, expected: IfMatch, principal: CurrentPrincipal, svc: Service
) -> Response:
    """Delete the campaign and everything in it (its owner). Needs If-Match."""
    await svc.run(principal, lambda s: s.campaigns.delete(campaign_id, expected))
    return Response(status_code=204)


@router.get("/{campaign_id:int}/versions")
async def list_versions(
    campaign_id: CampaignId, principal: CurrentPrincipal, svc: Service
) -> list[VersionSummary]:
    return await svc.run(principal, lambda s: s.campaigns.versions(campaign_id))


@router.get("/{campaign_id:int}/versions/{number:int}")
async def get_version(
    campaign_id: CampaignId, number: Number, principal: CurrentPrincipal, svc: Service
) -> CampaignVersionOut:
    return await svc.run(principal, lambda s: s.campaigns.version(campaign_id, number))


@router.post("/{campaign_id:int}/versions/{number:int}/restore")
async def restore_version(
    campaign_id: CampaignId,
    number: Number,
    expected: IfMatch,
    principal: CurrentPrincipal,
    svc: Service,
    response: Response,
    body: RestoreRequest | None = None,
) -> CampaignOut:
    """A new version whose document is version `number`'s (DMs). Needs If-Match."""
    req = body or RestoreRequest()
    out = await svc.run(
        principal, lambda s: s.campaigns.restore(campaign_id, number, expected, req)
    )
    return with_etag(response, out)


@router.put("/{campaign_id:int}/theme")
async def change_theme(
    campaign_id: CampaignId,
    body: ThemeChange,
    expected: IfMatch,
    principal: CurrentPrincipal,
    svc: Service,
    response: Response,
) -> ThemeChangeOut:
    """Move the campaign to another theme (DMs). 422 `theme_unknown`, `theme_not_offered`,
    `theme_transition_disallowed`, or `theme_incompatible` naming the characters that break
    it. Needs If-Match."""
    out = await svc.run(principal, lambda s: s.campaigns.change_theme(campaign_id, body, expected))
    response.headers["ETag"] = f'"{out.campaign.version}"'
    return out


@router.get("/{campaign_id:int}/members")
async def list_members(
    campaign_id: CampaignId, principal: CurrentPrincipal, svc: Service
) -> list[MemberOut]:
    return await svc.run(principal, lambda s: s.campaigns.members(campaign_id))


@router.post(
    "/{campaign_id:int}/members",
    status_code=201,
    responses={409: {"description": "`owner_role`: the owner's role cannot change"}},
)
async def add_member(
    campaign_id: CampaignId, body: MemberIn, principal: CurrentPrincipal, svc: Service
) -> MemberOut:
    """Add a user by id, or change their role (the owner)."""
    return await svc.run(principal, lambda s: s.campaigns.add_member(campaign_id, body))


@router.delete(
    "/{campaign_id:int}/members/{user_id:int}",
    status_code=204,
    responses={409: {"description": "`owner_role`: the owner cannot leave"}},
)
async def remove_member(
    campaign_id: CampaignId, user_id: Number, principal: CurrentPrincipal, svc: Service
) -> Response:
    """The owner removes a member; any member may remove themself (leave)."""
    await svc.run(principal, lambda s: s.campaigns.remove_member(campaign_id, user_id))
    return Response(status_code=204)


@router.post(
    "/{campaign_id:int}/invitations",
    status_code=201,
    responses={409: {"description": "`already_member`"}},
)
async def invite(
    campaign_id: CampaignId, body: MemberIn, principal: CurrentPrincipal, svc: Service
) -> InvitationOut:
    """Invite a user by id (the owner); they accept or decline it."""
    return await svc.run(principal, lambda s: s.campaigns.invite(campaign_id, body))


@router.get("/{campaign_id:int}/export")
async def export_campaign(
    campaign_id: CampaignId, principal: CurrentPrincipal, svc: Service
) -> CampaignExport:
    """The whole campaign as one document, holding only what you may see."""
    return await svc.run(principal, lambda s: s.transfer.export(campaign_id))
