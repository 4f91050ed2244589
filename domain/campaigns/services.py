"""One object with every campaign service, built per call for the caller."""

from __future__ import annotations

from sqlalchemy.orm import Session

from domain.campaigns.assemble import ContextService
from domain.campaigns.play import PlayService
from domain.campaigns.record_service import RecordService
from domain.campaigns.service import CampaignService
from domain.campaigns.stream import StreamService
from domain.campaigns.timeline import TimelineService
from domain.campaigns.transfer import TransferService
from domain.users.schemas import Principal


class Campaigns:
    def __init__(self, session: Session, principal: Principal):
        self.campaigns = CampaignService(session, principal)
        self.records = RecordService(session, principal)
        self.play = PlayService(session, principal)
        self.timeline = TimelineService(session, principal)
        self.transfer = TransferService(session, principal)
        self.context = ContextService(session, principal)
        self.stream = StreamService(session, principal)
