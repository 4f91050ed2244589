"""HTTP for the event hub's operators (the `events:manage` permission: admins)."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from cluster.events.hub import EventHub, GroupStatus
from cluster.events.registry import ConsumerOut, consumers
from cluster.events.transport import DeadLetterOut
from deployments.http.auth import requires
from domain.users.permissions import Permission
from domain.users.schemas import Principal

PREFIX = "/api/v2/events"
router = APIRouter(prefix=PREFIX, tags=["events"])
Operator = Annotated[Principal, Depends(requires(Permission.EVENTS_MANAGE))]
GroupName = Annotated[str, Query(min_length=1, max_length=60, pattern=r"^[a-z0-9_.-]+$")]


def _hub(request: Request) -> EventHub:
    return request.app.state.hub


Hub = Annotated[EventHub, Depends(_hub)]


class RedriveRequest(BaseModel):
    group: str = Field(min_length=1, max_length=60)
    # The dead letters to deliver again (ids from the list); absent: all of the group's.
    ids: list[Annotated[str, Field(max_length=40)]] | None = Field(None, max_length=1000)


class ReplayRequest(BaseModel):
    group: str = Field(min_length=1, max_length=60)
    start: str = Field(
        alias="from",
        min_length=1,
        max_length=64,
        description="An outbox seq (42), an event id (UUID) or an ISO time.",
    )


class Count(BaseModel):
    count: int


UNKNOWN_GROUP: dict[int | str, dict] = {404: {"description": "`not_found`: no such consumer group"}}


@router.get("/groups")
async def group_status(_: Operator, hub: Hub) -> list[GroupStatus]:
    """Lag, pending, retrying and dead letters per consumer group."""
    return await anyio.to_thread.run_sync(hub.status)


@router.get("/consumers")
async def consumer_registry(_: Operator, hub: Hub) -> list[ConsumerOut]:
    """The relays and consumers heard from in the last hour; `alive`: a recent heartbeat."""
    return await anyio.to_thread.run_sync(consumers, hub.db, hub.hub.heartbeat_s)


@router.get("/dead-letters", responses=UNKNOWN_GROUP)
async def dead_letters(
    _: Operator, hub: Hub, group: GroupName, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[DeadLetterOut]:
    """The group's dead letters, newest first, each with the error that put it there."""
    return await anyio.to_thread.run_sync(hub.dead_letters, group, limit)


@router.post("/dead-letters/redrive", responses=UNKNOWN_GROUP)
async def redrive(body: RedriveRequest, _: Operator, hub: Hub) -> Count:
    """Deliver dead letters to their group again (after fixing what made them fail)."""
    return Count(count=await anyio.to_thread.run_sync(hub.redrive, body.group, body.ids))


@router.post("/replay", responses=UNKNOWN_GROUP)
async def replay(body: ReplayRequest, _: Operator, hub: Hub) -> Count:
    """Deliver logged events from a point to one group again; events the group applied
    before are skipped (handlers dedupe by event id)."""
    return Count(count=await anyio.to_thread.run_sync(hub.replay, body.group, body.start))
