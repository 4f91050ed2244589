"""What every campaign service starts from: the caller's access to a campaign (a non-member
gets the same 404 as for a missing campaign) and the events every change emits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.campaigns.access import CampaignAccess
from domain.campaigns.events import CampaignChanged
from domain.campaigns.models import Campaign, CampaignMember
from domain.errors import Forbidden, NotFound
from domain.events import outbox
from domain.events.schemas import Event
from domain.users.schemas import Principal


class CampaignScope:
    def __init__(self, session: Session, principal: Principal):
        self.session = session
        self.principal = principal

    def access(self, campaign_id: int) -> CampaignAccess:
        """The caller's role in the campaign; NotFound (never Forbidden) if not a member."""
        role = self.session.scalar(
            select(CampaignMember.role).where(
                CampaignMember.campaign_id == campaign_id,
                CampaignMember.user_id == self.principal.user_id,
            )
        )
        if role is None:
            raise NotFound(f"There is no campaign {campaign_id} that you belong to.")
        return CampaignAccess(campaign_id, self.principal.user_id, role)  # type: ignore[arg-type]

    def dm_access(self, campaign_id: int, what: str) -> CampaignAccess:
        access = self.access(campaign_id)
        if not access.is_dm:
            raise Forbidden(f"Only the campaign's DMs may {what}.")
        return access

    def owner_access(self, campaign_id: int, what: str) -> CampaignAccess:
        access = self.access(campaign_id)
        if access.role != "owner":
            raise Forbidden(f"Only the campaign's owner may {what}.")
        return access

    def campaign(self, campaign_id: int) -> Campaign:
        row = self.session.get(Campaign, campaign_id)
        if row is None:  # access() answered first, so this is a race with a delete
            raise NotFound(f"There is no campaign {campaign_id} that you belong to.")
        return row

    def emit(self, event: Event) -> None:
        """In this transaction: the event commits or rolls back with the change."""
        outbox.record(self.session, event)

    def changed(
        self,
        access: CampaignAccess,
        kind: str,
        action: str,
        *,
        record_id: int | None = None,
        summary: str = "",
        visibility: str = "party",
    ) -> None:
        self.emit(
            CampaignChanged(
                campaign_id=access.campaign_id,
                actor_id=self.principal.user_id,
                kind=kind,
                record_id=record_id,
                action=action,  # type: ignore[arg-type]
                summary=summary[:500],
                visibility=visibility,
            )
        )
