"""The user's campaigns, for campaign-scoped homebrew: read from the campaign tables through
domain code (the rules application does not call the campaigns application for this; the
tables share one database)."""

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
