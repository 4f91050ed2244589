"""The campaign document: what a DM sets for the whole campaign (versioned like a character)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.campaigns.calendar import Calendar
from domain.campaigns.context import StyleGuide
from domain.sheet import Ruleset, Slug

Source = Literal["srd", "homebrew"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HouseRules(Strict):
    """What characters joining the campaign must respect."""

    allowed_sources: list[Source] = Field(
        default_factory=lambda: ["srd", "homebrew"],
        description='"srd": the SRD content; "homebrew": global homebrew and this campaign\'s.',
    )
    banned: list[Slug] = Field(
        default_factory=list,
        max_length=500,
        description="Content slugs no character may use: classes, species, spells, items ...",
    )


class Style(Strict, StyleGuide):
    guide: Annotated[str, StringConstraints(max_length=4000)] = ""
    examples: list[Annotated[str, StringConstraints(max_length=2000)]] = Field(
        default_factory=list, max_length=10
    )


class CampaignDoc(Strict):
    name: Annotated[
        str,
        StringConstraints(
            min_length=1, max_length=100, strip_whitespace=True, pattern=r"[^\s\x1c-\x1f\x85]"
        ),
    ]
    ruleset: Ruleset
    description: Annotated[str, StringConstraints(max_length=4000)] = ""
    theme: Slug | None = Field(None, description="Change it with PUT /{id}/theme.")
    house_rules: HouseRules = Field(default_factory=HouseRules)
    style: Style = Field(default_factory=Style)
    calendar: Calendar = Field(default_factory=Calendar)

    def dump(self) -> dict:
        return self.model_dump(mode="json")
