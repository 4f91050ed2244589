"""The user's campaigns, for campaign-scoped homebrew: the rules and characters applications
pass this to the homebrew service (domain.homebrew cannot import domain.campaigns, which
imports it); the campaign tables share the one database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.campaigns.models import CampaignMember


def campaign_roles(session: Session, user_id: int) -> dict[int, str]:
    """{campaign id: role} of every campaign the user belongs to."""
    rows = session.execute(
        select(CampaignMember.campaign_id, CampaignMember.role).where(
            CampaignMember.user_id == user_id
        )
    )
    return {campaign_id: role for campaign_id, role in rows}
