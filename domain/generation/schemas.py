"""Requests and answers of the generation endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from domain.campaigns.access import Visibility

StoryKind = Literal["beat", "scene", "dialogue", "recap"]
ContentKind = Literal["npc", "location", "plot_hook", "encounter", "magic_item"]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Instructions = Annotated[
    str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)
]
Passage = Annotated[str, StringConstraints(min_length=1, max_length=8000, strip_whitespace=True)]


class Sampling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_tokens: int = Field(200, ge=1, le=4096, description="Must fit the model's window.")
    temperature: float = Field(0.8, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    seed: int | None = Field(
        None,
        ge=0,
        le=2**31 - 1,
        description="With a seed (or temperature 0) the answer is reproducible, and cached.",
    )


class CampaignScoped(Sampling):
    campaign_id: Id
    chapter_id: Id | None = None
    character_ids: list[Id] = Field([], max_length=10, description="The characters involved.")


class StoryRequest(CampaignScoped):
    kind: StoryKind = Field(
        "scene",
        description="`beat`: what happens next; `scene`: a description; "
        "`dialogue`: a line from `speaker`; `recap`: the chapter so far.",
    )
    instructions: Instructions = Field(description="What to write, in plain words.")
    speaker: Annotated[str, StringConstraints(max_length=100)] | None = Field(
        None, description="For `dialogue`: the NPC who speaks."
    )


class ContentRequest(CampaignScoped):
    max_tokens: int = Field(300, ge=1, le=4096)
    instructions: Annotated[str, StringConstraints(max_length=2000, strip_whitespace=True)] = ""
    save: bool = Field(
        False, description="Store a generated NPC or location in the campaign (DMs only)."
    )
    visibility: Visibility = Field("dm", description="Who sees the saved record.")


class ThemeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    campaign_id: Id
    text: Passage
    seed: int | None = Field(0, ge=0, le=2**31 - 1)


class ModifyRequest(CampaignScoped):
    text: Passage
    theme: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="Default: the campaign's theme."
    )
    tone: Annotated[str, StringConstraints(max_length=100)] | None = None
    reading_level: Literal["child", "teen", "adult"] | None = None
    length: Literal["shorter", "same", "longer"] | None = None


class RegenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seed: int | None = Field(None, ge=0, le=2**31 - 1, description="Default: a new one.")
    temperature: float | None = Field(None, ge=0, le=2)


class ThemeVerdict(BaseModel):
    """What the model is asked for (structured output)."""

    model_config = ConfigDict(extra="forbid")
    score: float = Field(ge=0, le=1)
    reasons: list[Annotated[str, StringConstraints(max_length=300)]] = Field(
        min_length=1, max_length=5
    )


class ThemeAnalysis(BaseModel):
    score: float = Field(ge=0, le=1, description="How well the text fits: 0 not at all, 1 fully.")
    reasons: list[str]
    forbidden: list[str] = Field(description="The theme's forbidden terms found in the text.")
    generation_id: int


class ContextReport(BaseModel):
    included: list[str] = Field(description="`kind:name` of each fact in the prompt.")
    left_out: list[str] = Field(description="What did not fit the window, least relevant first.")
    tokens: int
    budget: int


class Tokens(BaseModel):
    prompt_tokens: int
    completion_tokens: int


class GenerationOut(BaseModel):
    id: int
    kind: str
    campaign_id: int | None
    chapter_id: int | None
    character_id: int | None
    root_id: int
    parent_id: int | None
    version: int = Field(description="1 for the first output, +1 per regeneration or restore.")
    restored_from: int | None
    model: str
    params: dict[str, Any]
    usage: Tokens
    text: str
    content: dict[str, Any] | None = Field(None, description="Structured kinds: the JSON.")
    created_at: datetime
    cached: bool = False
    attempts: int = 1
    context: ContextReport | None = None
    saved_id: int | None = Field(None, description="With `save`: the campaign record's id.")


class GenerationDetail(GenerationOut):
    prompt: str


class GenerationPage(BaseModel):
    items: list[GenerationOut]
    total: int


class Comparison(BaseModel):
    a: int
    b: int
    same_output: bool
    diff: str = Field(description="A unified diff of the outputs, line by line.")
    params: dict[str, list[Any]] = Field(description="Parameters that differ: name → [a, b].")


class CampaignQuotaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tokens_per_day: int | None = Field(
        ge=1,
        le=2**31 - 1,
        description="The campaign's own daily budget; null removes it (the default applies).",
    )


class CampaignQuotaOut(BaseModel):
    campaign_id: int
    tokens_per_day: int | None = Field(
        description="The budget that applies: the lower of the campaign's own and the "
        "default; null: none."
    )
    campaign_tokens_per_day: int | None = Field(description="The campaign's own, set by a DM.")
    default_tokens_per_day: int | None = Field(description="The application's default.")
    used_today: int = Field(description="Tokens every member used for the campaign today (UTC).")


class UsageOut(BaseModel):
    rows: list[dict[str, Any]]
    used_today: int
    tokens_per_day: int | None
    cache: dict[str, int] | None = Field(None, description="Hits and misses (admins only).")
    campaign: CampaignQuotaOut | None = Field(
        None, description="With `campaign_id`: that campaign's budget and use today."
    )
