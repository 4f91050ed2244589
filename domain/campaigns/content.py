"""Structured campaign content: what generation produces as schema-valid JSON (vLLM's
structured-output decoding takes these schemas) and what a campaign stores as records."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

# A visible character, so that a blank name fails the schema too, not only the strip.
Name = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=100, strip_whitespace=True, pattern=r"[^\s\x1c-\x1f\x85]"
    ),
]
Line = Annotated[str, StringConstraints(max_length=500)]
Text = Annotated[str, StringConstraints(max_length=4000)]


class Content(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NPC(Content):
    name: Name
    race: Annotated[str, StringConstraints(max_length=60)] = ""
    role: Line = Field("", description="What they do in the story: innkeeper, villain, patron")
    description: Text = ""
    personality: Line = ""
    motivation: Line = ""
    secret: Line = ""
    alive: StrictBool = True


class Location(Content):
    name: Name
    kind: Literal["region", "city", "site"] = "site"
    description: Text = ""
    features: list[Line] = Field(default_factory=list, max_length=20)


class PlotHook(Content):
    title: Name
    summary: Text
    stakes: Line = ""


class EncounterMonster(Content):
    name: Name
    count: int = Field(1, ge=1, le=50)


class Encounter(Content):
    title: Name
    difficulty: Literal["easy", "medium", "hard", "deadly"]
    monsters: list[EncounterMonster] = Field(min_length=1, max_length=20)
    tactics: Line = ""
    treasure: Line = ""


class MagicItem(Content):
    name: Name
    rarity: Literal["common", "uncommon", "rare", "very rare", "legendary", "artifact"]
    attunement: StrictBool = False
    description: Text


CONTENT_TYPES: dict[str, type[Content]] = {
    "npc": NPC,
    "location": Location,
    "plot_hook": PlotHook,
    "encounter": Encounter,
    "magic_item": MagicItem,
}
