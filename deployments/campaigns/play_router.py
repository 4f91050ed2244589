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
from deployments.campaigns.live import Feeds, frame
from deployments.http.auth import CurrentPrincipal
from domain.campaigns.access import CampaignAccess
from domain.campaigns.messages import (
    AwardsIn,
    CampaignCharacterOut,
    CharacterJoin,
    ImpactIn,
    RecordOut,
)
from domain.campaigns.stream import EventPage
from domain.errors import DomainError, InvalidRequest
from domain.users.schemas import Principal

router = APIRouter(prefix=PREFIX, tags=["campaign play"])
HEARTBEAT_S = 15.0
EventId = Annotated[
    str | None,
    Header(alias="Last-Event-ID", max_length=40,
           description="Resume after this event (the `id:` of the last one received)"),
]


@router.get("/{campaign_id:int}/characters")
async def list_characters(
    campaign_id: CampaignId, principal: CurrentPrincipal, svc: Service
) -> list[CampaignCharacterOut]:
    return await svc.run(principal, lambda s: s.play.characters(campaign_id))


@router.post(
    "/{campaign_id:int}/characters",
    status_code=201,
    responses={409: {"description": "`already_joined`"}},
)
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
    start = after or 0
    if last_event_id:
        if not last_event_id.strip().isdigit() or len(last_event_id.strip()) > 18:
            raise InvalidRequest(
                f"Last-Event-ID must be the number of an event's `id:` line, not "
                f"{last_event_id!r}.",
                code="bad_last_event_id",
            )
        start = int(last_event_id)
    access, page = await svc.run(principal, lambda s: s.stream.start(campaign_id, start))
    if "text/event-stream" not in request.headers.get("accept", ""):
        return page
    return StreamingResponse(  # type: ignore[return-value]
        _stream(svc, request.app.state.feeds, principal, access, page, request, timeout),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(
    svc: Service,
    feeds: Feeds,
    principal: Principal,
    access: CampaignAccess,
    page: EventPage,
    request: Request,
    timeout: float | None,
) -> AsyncIterator[str]:
    """Catch up on its own reads (from Last-Event-ID), then take the campaign feed's batches
    (`live.py`: one poll per campaign for all subscribers), filtered with this member's
    access as of that poll."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout if timeout else None
    beat = loop.time() + HEARTBEAT_S
    after = page.last_seq
    sub = feeds.subscribe(access, after)  # before catching up: nothing falls in between
    try:
        yield ": connected\n\n"
        while True:
            # Catch up on its own reads: from Last-Event-ID, and after the queue overflowed.
            while True:
                for event in page.items:
                    yield frame(event)
                after = page.last_seq
                if not page.more and not sub.lagged:
                    break
                sub.lagged = False
                try:  # membership is checked on every read
                    page = await svc.run(
                        principal, lambda s, a=after: s.stream.events(access.campaign_id, a)
                    )
                except DomainError as exc:
                    yield _error(exc.code)
                    return
            page = EventPage(items=[], last_seq=after)
            # Live: the feed's batches, skipping what the catch-up sent.
            while not sub.lagged:
                now = loop.time()
                if (end is not None and now >= end) or await request.is_disconnected():
                    return
                wait = min(beat, end if end is not None else beat) - now
                try:
                    batch = await asyncio.wait_for(sub.queue.get(), max(0.0, wait))
                except TimeoutError:
                    if loop.time() >= beat:
                        yield ": heartbeat\n\n"
                        beat = loop.time() + HEARTBEAT_S
                    continue
                sub.role = batch.role
                current = sub.access
                if current is None:  # removed from the campaign
                    yield _error("not_found")
                    return
                for seq, visibility, text in batch.events:
                    if seq > after:
                        after = seq
                        if current.can_see(visibility):
                            yield text
    finally:
        feeds.unsubscribe(sub)


def _error(code: str) -> str:
    return f"event: error\ndata: {json.dumps({'code': code})}\n\n"
