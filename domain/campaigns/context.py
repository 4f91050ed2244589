"""What generation may know of a campaign: assembled by the campaign service for one user,
so it never holds what that user may not see."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class StyleGuide(BaseModel):
    """A campaign's voice, applied to every generation for it."""

    guide: str = ""
    examples: list[str] = Field(default_factory=list)


class ThemeSummary(BaseModel):
    slug: str | None = None
    tone: str = ""
    allows: list[str] = Field(default_factory=list)
    forbids: list[str] = Field(default_factory=list)


class ContextItem(BaseModel):
    """One fact: an NPC, location, faction, relationship, plot or event, as text."""

    kind: str
    id: int | None = None
    name: str = ""
    text: str = ""
    facts: dict[str, Any] = Field(default_factory=dict)  # e.g. {"alive": false} for canon checks
    at: datetime | None = None  # when it happened or last changed (for recency ranking)


class CampaignContext(BaseModel):
    campaign_id: int
    name: str
    ruleset: str
    theme: ThemeSummary = Field(default_factory=ThemeSummary)
    style: StyleGuide = Field(default_factory=StyleGuide)
    chapter: ContextItem | None = None
    items: list[ContextItem] = Field(default_factory=list)  # NPCs, locations, factions, ...
    characters: list[ContextItem] = Field(default_factory=list)
    recent_events: list[ContextItem] = Field(default_factory=list)
