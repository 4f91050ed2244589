"""HTTP for playing: characters joining, session awards and story impacts (which reach the
characters as events), and the campaign's event stream (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from deployments.campaigns.deps import PREFIX, CampaignId, Number, RecordId, Service
from deployments.http.auth import CurrentPrincipal
from domain.campaigns.messages import (
    AwardsIn,
    CampaignCharacterOut,
    CharacterJoin,
    ImpactIn,
    RecordOut,
)
from domain.campaigns.stream import EventPage
from domain.errors import DomainError
from domain.users.schemas import Principal

router = APIRouter(prefix=PREFIX, tags=["campaign play"])
POLL_S = 0.5
HEARTBEAT_S = 15.0
EventId = Annotated[
    str | None,
    Header(alias="Last-Event-ID", pattern=r"^[0-9]{1,18}$",
           description="Resume after this event (the `id:` of the last one received)"),
]


@router.get("/{campaign_id:int}/characters")
async def list_characters(
    campaign_id: CampaignId, principal: CurrentPrincipal, svc: Service
) -> list[CampaignCharacterOut]:
    return await svc.run(principal, lambda s: s.play.characters(campaign_id))


@router.post("/{campaign_id:int}/characters", status_code=201)
async def join(
    campaign_id: CampaignId, body: CharacterJoin, principal: CurrentPrincipal, svc: Service
) -> CampaignCharacterOut:
    """Bring your character (or, as a DM, a member's) into the campaign. 422 `house_rules`
    lists what breaks the ruleset, allowed sources, banned content, homebrew or theme."""
    return await svc.run(principal, lambda s: s.play.join(campaign_id, body))


@router.delete("/{campaign_id:int}/characters/{character_id:int}", status_code=204)
async def leave(
    campaign_id: CampaignId, character_id: Number, principal: CurrentPrincipal, svc: Service
) -> Response:
    await svc.run(principal, lambda s: s.play.leave(campaign_id, character_id))
    return Response(status_code=204)


@router.post("/{campaign_id:int}/sessions/{session_id:int}/awards", status_code=201)
async def award(
    campaign_id: CampaignId,
    session_id: RecordId,
    body: AwardsIn,
    principal: CurrentPrincipal,
    svc: Service,
) -> list[RecordOut]:
    """XP (or a milestone) and items per character (DMs). Each reaches its character
    through the event hub: it shows in the XP history, levels up, lands in the inventory."""
    return await svc.run(principal, lambda s: s.play.award(campaign_id, session_id, body))


@router.post("/{campaign_id:int}/impacts", status_code=201)
async def story_impact(
    campaign_id: CampaignId, body: ImpactIn, principal: CurrentPrincipal, svc: Service
) -> RecordOut:
    """The story changed a character (curse, boon, allegiance, Antitheticon link; DMs):
    recorded here and sent to the character as an event."""
    return await svc.run(principal, lambda s: s.play.impact(campaign_id, body))


@router.get(
    "/{campaign_id:int}/events",
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                     "description": "With `Accept: text/event-stream`, a live stream; "
                                    "otherwise one page of events as JSON."}},
)
async def events(
    campaign_id: CampaignId,
    request: Request,
    principal: CurrentPrincipal,
    svc: Service,
    last_event_id: EventId = None,
    after: Annotated[int | None, Query(ge=0, le=10**18)] = None,
    timeout: Annotated[float | None, Query(gt=0, le=3600, description="Close after this "
                                           "many seconds (reconnect with Last-Event-ID)")] = None,
) -> EventPage:
    """The campaign's events that you may see: awards, character changes, story updates.
    `Accept: text/event-stream` streams them live (`id:` is the resume position; send it
    back as `Last-Event-ID`); any other Accept gets one JSON page after `after`."""
    start = int(last_event_id) if last_event_id else (after or 0)
    page = await svc.run(principal, lambda s: s.stream.events(campaign_id, start))
    if "text/event-stream" not in request.headers.get("accept", ""):
        return page
    return StreamingResponse(  # type: ignore[return-value]
        _stream(svc, principal, campaign_id, page, request, timeout),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(
    svc: Service,
    principal: Principal,
    campaign_id: int,
    page: EventPage,
    request: Request,
    timeout: float | None,
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout if timeout else None
    beat = loop.time() + HEARTBEAT_S
    yield ": connected\n\n"
    while True:
        for e in page.items:
            data = json.dumps(e.model_dump(mode="json"), separators=(",", ":"))
            yield f"id: {e.seq}\nevent: {e.type}\ndata: {data}\n\n"
        now = loop.time()
        if (end is not None and now >= end) or await request.is_disconnected():
            return
        if not page.more:  # caught up: wait for new events
            if now >= beat:
                yield ": heartbeat\n\n"
                beat = now + HEARTBEAT_S
            await asyncio.sleep(POLL_S)
        after = page.last_seq
        try:  # membership is checked on every read: a removed member's stream ends
            page = await svc.run(principal, lambda s, a=after: s.stream.events(campaign_id, a))
        except DomainError as exc:
            yield f"event: error\ndata: {json.dumps({'code': exc.code})}\n\n"
            return
