"""What the campaign service takes and returns, beside the documents themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from domain.campaigns.records import MAX_ID, RecordKind
from domain.campaigns.schemas import CampaignDoc

# The access module's Visibility, with its pattern in the JSON schema (clients, fuzzing).
Visibility = Annotated[
    str, StringConstraints(pattern=r"^(dm|party|public|player:[1-9][0-9]{0,9})$")
]
Reason = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
MemberRole = Literal["codm", "player"]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CampaignOut(BaseModel):
    id: int
    owner_id: int
    version: int
    role: str  # the caller's role in it
    created_at: datetime
    updated_at: datetime
    document: dict[str, Any]


class CampaignSummary(BaseModel):
    id: int
    name: str
    ruleset: str
    role: str
    version: int
    updated_at: datetime


class CampaignPage(BaseModel):
    items: list[CampaignSummary]
    total: int
    limit: int
    offset: int


class VersionSummary(BaseModel):
    number: int
    author_id: int
    reason: str
    created_at: datetime
    diff: list[dict[str, Any]]


class CampaignVersionOut(VersionSummary):
    document: dict[str, Any]


class RestoreRequest(Request):
    reason: Reason = ""


class MemberIn(Request):
    user_id: Id
    role: MemberRole = "player"


class MemberOut(BaseModel):
    user_id: int
    role: str
    created_at: datetime


class InvitationOut(BaseModel):
    id: int
    campaign_id: int
    campaign_name: str
    user_id: int
    role: str
    invited_by: int
    created_at: datetime


class ThemeChange(Request):
    to: Annotated[str, StringConstraints(max_length=80)] | None = Field(
        description="The theme to move to; null removes it."
    )
    reason: Reason = ""


class ThemeChangeOut(BaseModel):
    campaign: CampaignOut
    from_theme: str | None
    to_theme: str | None


class RecordIn(Request):
    kind: RecordKind
    visibility: Visibility = "dm"
    body: dict[str, Any]
    reason: Reason = ""
    # For a plot's state change or a relationship's attitude change: when it happened.
    chapter_id: Id | None = None
    session_id: Id | None = None


class RecordWrite(Request):
    """A record's new body and visibility (PUT /{id}/records/{rid}, with If-Match)."""

    visibility: Visibility | None = Field(None, description="Unchanged when absent")
    body: dict[str, Any]
    reason: Reason = ""
    chapter_id: Id | None = None
    session_id: Id | None = None


class RecordOut(BaseModel):
    id: int
    campaign_id: int
    kind: str
    name: str
    visibility: str
    version: int
    author_id: int
    position: int | None
    body: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    world_effect: str | None = None  # the campaign theme's effect (locations, factions)


class RecordPage(BaseModel):
    items: list[RecordOut]
    total: int
    limit: int
    offset: int


class RecordVersionOut(VersionSummary):
    visibility: str
    body: dict[str, Any]


class ChapterOrder(Request):
    chapter_ids: list[Id] = Field(min_length=1, max_length=1000)


class GraphNode(BaseModel):
    ref: str
    kind: str
    name: str


class GraphEdge(BaseModel):
    id: int
    from_ref: str
    to_ref: str
    kind: str
    attitude: int
    visibility: str
    history: list[dict[str, Any]]


class Graph(BaseModel):
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class CharacterJoin(Request):
    character_id: Id


class CampaignCharacterOut(BaseModel):
    character_id: int
    user_id: int
    name: str
    created_at: datetime


class AwardItem(Request):
    character_id: Id
    xp: int = Field(0, ge=0, le=1_000_000)
    milestone: StrictBool = False
    items: list[dict[str, Any]] = Field(
        default_factory=list,
        max_length=50,
        description='Inventory entries of the character document: {"item": "potion-of-healing", '
        '"quantity": 2}',
    )
    reason: Reason = ""


class AwardsIn(Request):
    awards: list[AwardItem] = Field(min_length=1, max_length=50)
    visibility: Visibility = "party"


class ImpactIn(Request):
    character_id: Id
    kind: Literal["curse", "boon", "allegiance", "antitheticon", "other"]
    summary: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    details: dict[str, Any] = Field(default_factory=dict)
    session_id: Id | None = None
    chapter_id: Id | None = None
    visibility: Visibility = "dm"


class TimelineEntry(BaseModel):
    record_id: int
    kind: str
    name: str
    visibility: str
    world_date: str | None  # "3 Ches 1492 (Dale Reckoning)"
    world_at: int | None
    real_at: datetime | None
    body: dict[str, Any]


class TimelinePage(BaseModel):
    items: list[TimelineEntry]
    total: int
    limit: int
    offset: int


class EventOut(BaseModel):
    seq: int
    id: str
    type: str
    occurred_at: datetime
    actor_id: int | None
    character_id: int | None
    visibility: str
    payload: dict[str, Any]


class ExportRecord(Request):
    id: Id
    kind: RecordKind
    visibility: Visibility
    position: int | None = None
    body: dict[str, Any]


class ExportMember(Request):
    user_id: Id
    role: Literal["owner", "codm", "player"]


SCHEMA_VERSION = 1


class CampaignExport(Request):
    """A whole campaign as one document (GET /{id}/export, POST /import)."""

    schema_version: Literal[1] = SCHEMA_VERSION
    campaign: CampaignDoc
    members: list[ExportMember] = Field(default_factory=list, max_length=500)
    records: list[ExportRecord] = Field(default_factory=list, max_length=100_000)
    characters: list[Id] = Field(default_factory=list, max_length=500)
