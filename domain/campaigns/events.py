"""Events the campaign service emits (through domain.events.outbox.record, in the same
transaction as the change). The character side applies the awards and story impacts."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from domain.events.schemas import Event


class CampaignChanged(Event):
    """Any change to a campaign record (chapter, NPC, location, plot, theme, member ...)."""

    type = "campaign.changed"
    kind: str  # what changed: "chapter", "npc", "theme", "member", ...
    record_id: int | None = None
    action: Literal["created", "updated", "deleted", "restored"]
    summary: str = ""


class XpAwarded(Event):
    """A session awards XP (or a milestone) to one character (`character_id`)."""

    type = "campaign.xp_awarded"
    priority = "high"
    session_id: int | None = None
    amount: int = Field(0, ge=0)
    milestone: bool = False
    reason: str = ""


class ItemAwarded(Event):
    """A session gives an item to one character: it lands in the inventory."""

    type = "campaign.item_awarded"
    priority = "high"
    session_id: int | None = None
    item: dict[str, Any]  # an inventory entry of the character document (name, quantity ...)


class StoryImpactRecorded(Event):
    """The story changed a character: a curse, a boon, an allegiance, an Antitheticon link."""

    type = "campaign.story_impact"
    priority = "high"
    kind: Literal["curse", "boon", "allegiance", "antitheticon", "other"]
    summary: str
    details: dict[str, Any] = Field(default_factory=dict)


class CharacterJoined(Event):
    type = "campaign.character_joined"


class CharacterLeft(Event):
    type = "campaign.character_left"
