"""A campaign's context for generation, assembled for one user from what they may see
(a player's context holds no secret: no DM-only record, no NPC's secret)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from domain.campaigns.base import CampaignScope
from domain.campaigns.context import CampaignContext, ContextItem, StyleGuide
from domain.campaigns.models import CampaignCharacter, CampaignRecord
from domain.campaigns.record_service import RecordService
from domain.campaigns.records import strip
from domain.campaigns.themes import summary
from domain.characters.models import Character
from domain.errors import NotFound

WORLD_KINDS = ("npc", "location", "faction", "relationship", "plot")
EVENT_KINDS = ("event", "session", "award", "impact", "action")
_TEXT = ("description", "summary", "text")
_NOT_FACTS = {"name", "title", "history", *_TEXT}
RECENT = 10


def item(row: CampaignRecord, is_dm: bool) -> ContextItem:
    body = strip(row.kind, row.body, is_dm)
    text = next((body[k] for k in _TEXT if body.get(k)), "")
    facts: dict[str, Any] = {k: v for k, v in body.items() if k not in _NOT_FACTS}
    return ContextItem(kind=row.kind, id=row.id, name=row.name, text=text, facts=facts,
                       at=row.updated_at)


class ContextService(CampaignScope):
    def context(
        self,
        campaign_id: int,
        chapter_id: int | None = None,
        character_ids: list[int] | None = None,
    ) -> CampaignContext:
        access = self.access(campaign_id)
        campaign = self.campaign(campaign_id)
        doc = campaign.document
        records = RecordService(self.session, self.principal)
        rows = records.visible_rows(access)
        chapters = sorted((r for r in rows if r.kind == "chapter"),
                          key=lambda r: (r.position or 0, r.id))
        if chapter_id is not None:
            chapter = next((r for r in chapters if r.id == chapter_id), None)
            if chapter is None:
                raise NotFound(f"There is no chapter {chapter_id} in campaign {campaign_id}.")
        else:
            chapter = next((r for r in chapters if r.body["status"] == "active"), None) or next(
                (r for r in chapters if r.body["status"] == "planned"), None
            )
        events = sorted((r for r in rows if r.kind in EVENT_KINDS),
                        key=lambda r: (r.updated_at, r.id), reverse=True)[:RECENT]
        return CampaignContext(
            campaign_id=campaign.id,
            name=campaign.name,
            ruleset=campaign.ruleset,
            theme=summary(doc.get("theme")),
            style=StyleGuide.model_validate(doc["style"]),
            chapter=item(chapter, access.is_dm) if chapter else None,
            items=[item(r, access.is_dm) for r in rows if r.kind in WORLD_KINDS],
            characters=self._characters(campaign_id, character_ids),
            recent_events=[item(r, access.is_dm) for r in events],
        )

    def _characters(self, campaign_id: int, only: list[int] | None) -> list[ContextItem]:
        query = (
            select(Character)
            .join(CampaignCharacter, CampaignCharacter.character_id == Character.id)
            .where(CampaignCharacter.campaign_id == campaign_id)
            .order_by(Character.id)
        )
        if only is not None:
            query = query.where(Character.id.in_(only))
        out = []
        for c in self.session.scalars(query):
            doc = c.document
            classes = [f"{cl['class']} {cl['level']}" for cl in doc.get("classes", [])]
            people = doc.get("species") or doc.get("race") or ""
            out.append(ContextItem(
                kind="character", id=c.id, name=c.name,
                text=f"{people} {' / '.join(classes)}".strip(),
                facts={"owner_id": c.owner_id, "ruleset": c.ruleset, "xp": doc.get("xp", 0),
                       "theme": doc.get("theme"), "classes": doc.get("classes", [])},
                at=c.updated_at,
            ))
        return out
