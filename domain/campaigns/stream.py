"""A campaign's events as a member may see them, from the durable event log (the SSE
stream's source): membership is checked on every read, so a removed member stops seeing."""

from __future__ import annotations

from pydantic import BaseModel

from domain.campaigns.base import CampaignScope
from domain.campaigns.messages import EventOut
from domain.events.outbox import read_after


class EventPage(BaseModel):
    items: list[EventOut]
    last_seq: int  # the log position read up to (resume after it)
    more: bool = False  # the read was full: more may be waiting


class StreamService(CampaignScope):
    def events(self, campaign_id: int, after: int = 0, limit: int = 100) -> EventPage:
        access = self.access(campaign_id)
        rows = read_after(self.session, campaign_id, after, limit)
        items = [
            EventOut(
                seq=r.seq, id=str(r.id), type=r.type, occurred_at=r.occurred_at,
                actor_id=r.actor_id, character_id=r.character_id, visibility=r.visibility,
                payload=r.payload,
            )
            for r in rows
            if access.can_see(r.visibility)
        ]
        return EventPage(
            items=items, last_seq=rows[-1].seq if rows else after, more=len(rows) == limit
        )
