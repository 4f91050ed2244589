"""The campaign timeline: dated in-world events and real-world game sessions, merged.

Entries sort by in-world date; sessions without one come after, by the day they were
played. Filters: an in-world date range, a real-world date range, kinds, a location (and
every place inside it) and a faction. Only what the caller may see is counted or shown.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import func, or_, select

from domain.campaigns.base import CampaignScope
from domain.campaigns.calendar import Calendar, WorldDate
from domain.campaigns.messages import TimelineEntry, TimelinePage
from domain.campaigns.models import CampaignRecord, CampaignRecordRef
from domain.campaigns.record_service import visible_to
from domain.campaigns.records import strip
from domain.errors import InvalidRequest

DATED_KINDS = ("event", "session")


class TimelineService(CampaignScope):
    def timeline(
        self,
        campaign_id: int,
        *,
        world_from: str | None = None,
        world_to: str | None = None,
        real_from: date | None = None,
        real_to: date | None = None,
        kinds: list[str] | None = None,
        location: int | None = None,
        faction: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> TimelinePage:
        access = self.access(campaign_id)
        query = select(CampaignRecord).where(
            CampaignRecord.campaign_id == campaign_id,
            visible_to(access),
            CampaignRecord.kind.in_(kinds or DATED_KINDS),
            or_(CampaignRecord.world_at.is_not(None), CampaignRecord.kind == "session"),
        )
        if world_from:
            query = query.where(CampaignRecord.world_at >= _ordinal(world_from, "from"))
        if world_to:
            query = query.where(CampaignRecord.world_at <= _ordinal(world_to, "to"))
        if real_from:
            query = query.where(CampaignRecord.real_at >= datetime.combine(real_from, time(), UTC))
        if real_to:
            query = query.where(CampaignRecord.real_at <= datetime.combine(real_to, time(), UTC))
        if location is not None:
            places = self._within(access, location)
            query = query.where(CampaignRecord.id.in_(
                select(CampaignRecordRef.record_id).where(CampaignRecordRef.ref.in_(places))
            ))
        if faction is not None:
            self._known(access, faction, "faction")
            query = query.where(CampaignRecord.id.in_(
                select(CampaignRecordRef.record_id).where(
                    CampaignRecordRef.ref == f"record:{faction}"
                )
            ))
        total = self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = self.session.scalars(
            query.order_by(
                CampaignRecord.world_at.is_(None), CampaignRecord.world_at,
                CampaignRecord.real_at, CampaignRecord.id,
            ).limit(limit).offset(offset)
        )
        calendar = Calendar.model_validate(self.campaign(campaign_id).document["calendar"])
        items = [self._entry(access.is_dm, calendar, r) for r in rows]
        return TimelinePage(items=items, total=total or 0, limit=limit, offset=offset)

    def _entry(self, is_dm: bool, calendar: Calendar, row: CampaignRecord) -> TimelineEntry:
        body = row.body
        when = body.get("date") if row.kind == "event" else body.get("in_world")
        return TimelineEntry(
            record_id=row.id, kind=row.kind, name=row.name, visibility=row.visibility,
            world_date=calendar.describe(WorldDate.model_validate(when)) if when else None,
            world_at=row.world_at, real_at=row.real_at, body=strip(row.kind, body, is_dm),
        )

    def _known(self, access, record_id: int, kind: str) -> CampaignRecord:
        row = self.session.get(CampaignRecord, record_id)
        if row is None or row.campaign_id != access.campaign_id or row.kind != kind or not (
            access.can_see(row.visibility)
        ):
            raise InvalidRequest(f"There is no {kind} {record_id} in this campaign.",
                                 code="unknown_record")
        return row

    def _within(self, access, location: int) -> list[str]:
        """The location and every visible place inside it, as refs."""
        self._known(access, location, "location")
        children: dict[int, list[int]] = {}
        for row in self.session.scalars(
            select(CampaignRecord).where(
                CampaignRecord.campaign_id == access.campaign_id,
                CampaignRecord.kind == "location", visible_to(access),
            )
        ):
            if row.body.get("parent_id"):
                children.setdefault(row.body["parent_id"], []).append(row.id)
        found, todo = [], [location]
        while todo:
            here = todo.pop()
            found.append(f"record:{here}")
            todo += children.get(here, [])
        return found


def _ordinal(text: str, which: str) -> int:
    try:
        return WorldDate.parse(text).ordinal
    except ValueError as exc:
        raise InvalidRequest(f"{which}: {exc}.", code="bad_world_date") from None
