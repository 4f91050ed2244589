"""A campaign's events as a member may see them, from the durable event log (the SSE
stream's source).

`StreamService` reads for one member (catch-up and the JSON page): membership is checked on
every read, so a removed member stops seeing. `CampaignLog` is what a replica's shared
poller reads once for every subscriber of a campaign: the events after its cursor, unfiltered,
and the current role of each subscriber, in one transaction; each subscriber then filters
with its own `CampaignAccess`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.campaigns.access import CampaignAccess, CampaignRole
from domain.campaigns.base import CampaignScope
from domain.campaigns.messages import EventOut
from domain.campaigns.models import CampaignMember
from domain.events.models import OutboxEvent
from domain.events.outbox import read_after


class EventPage(BaseModel):
    items: list[EventOut]
    last_seq: int  # the log position read up to (resume after it)
    more: bool = False  # the read was full: more may be waiting


def event_out(row: OutboxEvent) -> EventOut:
    return EventOut(
        seq=row.seq,
        id=str(row.id),
        type=row.type,
        occurred_at=row.occurred_at,
        actor_id=row.actor_id,
        character_id=row.character_id,
        visibility=row.visibility,
        payload=row.payload,
    )


class StreamService(CampaignScope):
    def start(self, campaign_id: int, after: int = 0) -> tuple[CampaignAccess, EventPage]:
        """The caller's access (a stream filters with it) and the first page."""
        return self.access(campaign_id), self.events(campaign_id, after)

    def events(self, campaign_id: int, after: int = 0, limit: int = 100) -> EventPage:
        access = self.access(campaign_id)
        rows = read_after(self.session, campaign_id, after, limit)
        items = [event_out(r) for r in rows if access.can_see(r.visibility)]
        return EventPage(
            items=items, last_seq=rows[-1].seq if rows else after, more=len(rows) == limit
        )


@dataclass(frozen=True)
class LogRead:
    events: list[EventOut]  # every event of the campaign after the cursor: filter per member
    roles: dict[int, CampaignRole]  # the subscribers who are still members, with their role
    last_seq: int
    more: bool


class CampaignLog:
    """For the replica's shared poller only: it reads for members it checks itself."""

    def __init__(self, session: Session):
        self.session = session

    def read(
        self, campaign_id: int, after: int, user_ids: Collection[int], limit: int = 200
    ) -> LogRead:
        rows = read_after(self.session, campaign_id, after, limit)
        members = self.session.execute(
            select(CampaignMember.user_id, CampaignMember.role).where(
                CampaignMember.campaign_id == campaign_id,
                CampaignMember.user_id.in_(list(user_ids)),
            )
        )
        roles: dict[int, CampaignRole] = {uid: role for uid, role in members}  # type: ignore[misc]
        return LogRead(
            events=[event_out(r) for r in rows],
            roles=roles,
            last_seq=rows[-1].seq if rows else after,
            more=len(rows) == limit,
        )
