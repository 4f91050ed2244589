"""What the character service takes and returns, beside the document itself."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from domain.sheet import Derived, Document, Slug, ValidationReport

REASON_MAX = 500  # the reason columns are String(500)
Reason = Annotated[str, StringConstraints(max_length=REASON_MAX, strip_whitespace=True)]
MAX_BULK = 1000
MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Request(Document):
    """A request body: unknown fields and wrong JSON types are errors."""


class CharacterOut(BaseModel):
    id: int
    owner_id: int
    version: int
    created_at: datetime
    updated_at: datetime
    document: dict[str, Any]
    derived: Derived
    validation: ValidationReport


class CharacterSummary(BaseModel):
    id: int
    owner_id: int
    name: str
    ruleset: str
    version: int
    updated_at: datetime


class CharacterPage(BaseModel):
    items: list[CharacterSummary]
    total: int
    limit: int
    offset: int


class CheckOut(BaseModel):
    """A document checked without being stored."""

    validation: ValidationReport
    derived: Derived


class VersionSummary(BaseModel):
    number: int
    author_id: int
    reason: str
    created_at: datetime
    diff: list[dict[str, Any]]


class VersionOut(VersionSummary):
    document: dict[str, Any]


class ThemeTransition(Request):
    to: Slug | None = Field(description="The theme to move to; null removes the theme.")
    reason: Reason = Field(min_length=1)
    # Needed for a theme that mirrors another character (the Antitheticon shadow-self).
    counterpart_id: Id | None = None


class ThemeTransitionOut(BaseModel):
    character: CharacterOut
    from_theme: str | None
    to_theme: str | None
    adjustments: dict[str, int]


class RestoreRequest(Request):
    reason: Reason = ""


class XpAwardRequest(Request):
    kind: Literal["xp", "milestone"] = "xp"
    amount: Annotated[int, Field(ge=0, le=1_000_000)] = 0  # XP to add; ignored for milestones
    reason: Reason = Field(min_length=1)
    # Which class takes the new levels when the character has several.
    level_up_class: Slug | None = None


class XpAwardOut(BaseModel):
    id: int
    kind: str
    amount: int
    reason: str
    level_before: int
    level_after: int
    version: int
    author_id: int
    created_at: datetime


class XpAwardResult(BaseModel):
    award: XpAwardOut
    character: CharacterOut
    # Levels the XP allows but that were not taken (a multiclass character with no class named).
    pending_levels: int


class CampaignEventOut(BaseModel):
    """A campaign event that changed a character (an award, an item, a story impact ...)."""

    seq: int  # the event log's order: pass the last one as `after` for the next page
    id: uuid.UUID
    type: str
    version: int
    occurred_at: datetime
    actor_id: int | None
    campaign_id: int | None
    visibility: str
    payload: dict[str, Any]


class LinkRequest(Request):
    counterpart_id: Id
    kind: Literal["antitheticon"] = "antitheticon"


class LinkOut(BaseModel):
    character_id: int
    counterpart_id: int
    kind: str
    created_at: datetime


class BulkRequest(Request):
    # Items are parsed one by one so that one malformed item gets its own result.
    characters: Annotated[list[Any], Field(min_length=1, max_length=MAX_BULK)]


class BulkItem(BaseModel):
    index: int
    ok: bool
    id: int | None = None
    validation: ValidationReport | None = None
    errors: list[dict[str, Any]] = []  # shape errors (wrong types, unknown fields)


class BulkOut(BaseModel):
    ok: bool
    created: int = 0
    items: list[BulkItem]
