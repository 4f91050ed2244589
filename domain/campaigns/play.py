"""Playing a campaign: characters joining (checked against the house rules and theme),
session awards and story impacts. Awards and impacts reach characters as events written in
the same transaction (the event hub applies them), and are kept as records."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from domain.campaigns.base import CampaignScope
from domain.campaigns.events import (
    CharacterJoined,
    CharacterLeft,
    ItemAwarded,
    StoryImpactRecorded,
    XpAwarded,
)
from domain.campaigns.joining import house_rule_issues, theme_issues
from domain.campaigns.messages import (
    AwardsIn,
    CampaignCharacterOut,
    CharacterJoin,
    ImpactIn,
    RecordOut,
)
from domain.campaigns.models import CampaignCharacter, CampaignMember
from domain.campaigns.record_service import RecordService
from domain.campaigns.records import Award, StoryImpact
from domain.campaigns.schemas import HouseRules
from domain.characters.models import Character
from domain.errors import Conflict, Forbidden, InvalidRequest, NotFound
from domain.homebrew.service import HomebrewService
from domain.rules import Rules
from domain.sheet import InventoryItem, shape_errors


class PlayService(CampaignScope):
    # --- characters ----------------------------------------------------------------------

    def characters(self, campaign_id: int) -> list[CampaignCharacterOut]:
        self.access(campaign_id)
        rows = self.session.execute(
            select(CampaignCharacter, Character.name)
            .join(Character, Character.id == CampaignCharacter.character_id)
            .where(CampaignCharacter.campaign_id == campaign_id)
            .order_by(CampaignCharacter.id)
        )
        return [
            CampaignCharacterOut(character_id=link.character_id, user_id=link.user_id,
                                 name=name, created_at=link.created_at)
            for link, name in rows
        ]

    def join(self, campaign_id: int, req: CharacterJoin) -> CampaignCharacterOut:
        """The character's owner (a member) brings it, or a DM brings a member's."""
        access = self.access(campaign_id)
        character = self.session.get(Character, req.character_id)
        mine = character is not None and character.owner_id == self.principal.user_id
        if character is None or not (mine or access.is_dm):
            raise NotFound(f"There is no character {req.character_id} of yours.")
        if not mine and not self._is_member(campaign_id, character.owner_id):
            raise NotFound(f"There is no character {req.character_id} of a member.")
        if self._link(campaign_id, character.id) is not None:
            raise Conflict(f"Character {character.id} already plays in this campaign.",
                           code="already_joined")
        campaign = self.campaign(campaign_id)
        rules = HouseRules.model_validate(campaign.document["house_rules"])
        issues = house_rule_issues(self.session, campaign_id, campaign.ruleset, rules, character)
        if not issues:
            issues = theme_issues(self.session, self.principal, character,
                                  campaign.document.get("theme"))
        if issues:
            raise InvalidRequest(
                f"{character.name!r} breaks {len(issues)} of the campaign's house rules; each "
                "error says what to change.",
                errors=issues, code="house_rules",
            )
        link = CampaignCharacter(campaign_id=campaign_id, character_id=character.id,
                                 user_id=character.owner_id)
        self.session.add(link)
        self.session.flush()
        self.emit(CharacterJoined(campaign_id=campaign_id, character_id=character.id,
                                  actor_id=self.principal.user_id, visibility="party"))
        return CampaignCharacterOut(character_id=character.id, user_id=link.user_id,
                                    name=character.name, created_at=link.created_at)

    def leave(self, campaign_id: int, character_id: int) -> None:
        access = self.access(campaign_id)
        link = self._link(campaign_id, character_id)
        if link is None:
            raise NotFound(f"Character {character_id} does not play in this campaign.")
        if link.user_id != self.principal.user_id and not access.is_dm:
            raise Forbidden("Only the character's owner or a DM may take it out.")
        self.session.delete(link)
        self.session.flush()
        self.emit(CharacterLeft(campaign_id=campaign_id, character_id=character_id,
                                actor_id=self.principal.user_id, visibility="party"))

    # --- awards and story impacts ----------------------------------------------------------

    def award(self, campaign_id: int, session_id: int, req: AwardsIn) -> list[RecordOut]:
        """XP (or a milestone) and items per character: one award record each, and the
        events that carry them to the characters, all in this transaction."""
        access = self.dm_access(campaign_id, "give awards")
        records = RecordService(self.session, self.principal)
        game = records.get(campaign_id, session_id)
        if game.kind != "session":
            raise NotFound(f"There is no session {session_id} in campaign {campaign_id}.")
        rules = HomebrewService(self.session, self.principal).rules(
            self.campaign(campaign_id).ruleset
        )
        out: list[RecordOut] = []
        for i, a in enumerate(req.awards):
            items = [self._item(i, j, item, rules) for j, item in enumerate(a.items)]
            body = Award(
                title=f"{game.name}: award", session_id=session_id, character_id=a.character_id,
                xp=a.xp, milestone=a.milestone, items=items, reason=a.reason,
            )
            record = records.add(access, "award", body, req.visibility, "awarded")
            common: dict[str, Any] = {
                "campaign_id": campaign_id, "character_id": a.character_id,
                "actor_id": self.principal.user_id, "visibility": req.visibility,
                "session_id": session_id,
            }
            if a.xp or a.milestone:
                self.emit(XpAwarded(amount=a.xp, milestone=a.milestone,
                                    reason=a.reason or game.name, **common))
            for item in items:
                self.emit(ItemAwarded(item=item, **common))
            out.append(record)
        return out

    def impact(self, campaign_id: int, req: ImpactIn) -> RecordOut:
        access = self.dm_access(campaign_id, "record story impacts")
        body = StoryImpact(
            title=f"{req.kind}: {req.summary[:80]}", character_id=req.character_id,
            kind=req.kind, summary=req.summary, details=req.details,
            session_id=req.session_id, chapter_id=req.chapter_id,
        )
        record = RecordService(self.session, self.principal).add(
            access, "impact", body, req.visibility, "story impact"
        )
        self.emit(StoryImpactRecorded(
            campaign_id=campaign_id, character_id=req.character_id,
            actor_id=self.principal.user_id, visibility=req.visibility, kind=req.kind,
            summary=req.summary, details={**req.details, "record_id": record.id},
        ))
        return record

    # --- plumbing ------------------------------------------------------------------------

    def _item(self, award: int, index: int, item: dict[str, Any], rules: Rules) -> dict[str, Any]:
        try:
            entry = InventoryItem.model_validate(item).model_dump(mode="json", by_alias=True)
        except ValidationError as exc:
            errors = [{**e, "path": f"awards.{award}.items.{index}.{e['path']}"}
                      for e in shape_errors(exc)]
            raise InvalidRequest(
                "An awarded item is not an inventory entry ({\"item\": slug, \"quantity\": n}).",
                errors=errors, code="item_invalid",
            ) from None
        # Checked here, not only on the character side: an unknown item would be recorded
        # as awarded and then dead-lettered by the event hub.
        if entry["item"] not in rules.items:
            raise InvalidRequest(
                f"There is no item {entry['item']!r} in the {rules.ruleset} rules; register it "
                "as homebrew first, or award an item from GET /api/v2/rules/{ruleset}/items.",
                errors=[{"path": f"awards.{award}.items.{index}.item", "code": "item_unknown",
                         "message": f"unknown item {entry['item']!r}"}],
                code="item_unknown",
            )
        return entry

    def _is_member(self, campaign_id: int, user_id: int) -> bool:
        return self.session.scalar(
            select(CampaignMember.id).where(
                CampaignMember.campaign_id == campaign_id, CampaignMember.user_id == user_id
            )
        ) is not None

    def _link(self, campaign_id: int, character_id: int) -> CampaignCharacter | None:
        return self.session.scalar(
            select(CampaignCharacter).where(
                CampaignCharacter.campaign_id == campaign_id,
                CampaignCharacter.character_id == character_id,
            )
        )
