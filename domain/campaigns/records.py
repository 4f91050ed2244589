"""The kinds of campaign record and the schema of each one's body.

Each kind says which body fields refer to other records (and of which kind), which fields
only DMs see (an NPC's `secret`), and which the service keeps (state histories).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

from domain.campaigns.calendar import WorldDate
from domain.campaigns.content import NPC, Line, Location, Name, Text

MAX_ID = 2**31 - 1
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
EntityRef = Annotated[
    str,
    StringConstraints(pattern=r"^(record|character):[1-9][0-9]{0,9}$"),
    Field(description='"record:<id>" (an NPC, faction ...) or "character:<id>"'),
]
Label = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=60, strip_whitespace=True, pattern=r"[^\s\x1c-\x1f\x85]"
    ),
]


def _text_only(value: Any) -> Any:
    # pydantic would read a number (or a numeric string) as a Unix time; clients send
    # RFC 3339 text.
    if isinstance(value, int | float) or (
        isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit()
    ):
        raise ValueError("must be an RFC 3339 date (YYYY-MM-DD) or date-time")
    return value


Timestamp = Annotated[dt.datetime, BeforeValidator(_text_only), Field(strict=False)]
Day = Annotated[dt.date, BeforeValidator(_text_only)]
Ids = Annotated[list[RecordId], Field(default_factory=list, max_length=100)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # field -> the kind of record it names (an id, or a list of ids)
    ref_fields: ClassVar[dict[str, str]] = {}
    character_fields: ClassVar[tuple[str, ...]] = ()  # fields holding a character id
    dm_only: ClassVar[tuple[str, ...]] = ()  # stripped for players
    kept: ClassVar[tuple[str, ...]] = ()  # written by the service only (histories)

    def label(self) -> str:
        return str(getattr(self, "name", None) or getattr(self, "title", ""))

    def world_date(self) -> WorldDate | None:
        return None

    def record_refs(self) -> dict[str, list[int]]:
        """kind -> ids this body names."""
        out: dict[str, list[int]] = {}
        for field, kind in self.ref_fields.items():
            value = getattr(self, field)
            ids = value if isinstance(value, list) else [value] if value else []
            out.setdefault(kind, []).extend(ids)
        return out

    def character_ids(self) -> list[int]:
        return [v for f in self.character_fields if (v := getattr(self, f))]

    def refs(self) -> set[str]:
        out = {f"record:{i}" for ids in self.record_refs().values() for i in ids}
        return out | {f"character:{i}" for i in self.character_ids()}


class Chapter(Body):
    dm_only = ("dm_notes",)
    title: Name
    summary: Text = ""
    status: Literal["planned", "active", "done"] = "planned"
    dm_notes: Text = ""


class StateChange(BaseModel):
    """One step of a plot: recorded with the chapter and session it happened in."""

    model_config = ConfigDict(strict=True)  # written by the service: no coercion

    from_state: str | None
    to_state: str
    chapter_id: int | None = None
    session_id: int | None = None
    note: str = ""
    at: Timestamp


class Plot(Body):
    """A plot or story arc; its state changes are kept in `history`."""

    kept = ("history",)
    title: Name
    summary: Text = ""
    state: Label = "seeded"
    stakes: Line = ""
    arc: StrictBool = Field(False, description="A story arc spanning chapters, not a single plot")
    history: list[StateChange] = Field(default_factory=list)


class NPCRecord(NPC, Body):
    ref_fields = {"location_id": "location", "faction_ids": "faction"}
    dm_only = ("secret",)
    location_id: RecordId | None = None
    faction_ids: Ids


class LocationRecord(Location, Body):
    ref_fields = {"parent_id": "location"}
    parent_id: RecordId | None = Field(
        None, description="The place it lies in: a city in a region, a site in a city or region"
    )


class Faction(Body):
    ref_fields = {"member_ids": "npc", "location_id": "location"}
    name: Name
    description: Text = ""
    goals: list[Line] = Field(default_factory=list, max_length=20)
    member_ids: Ids
    standing: int = Field(0, ge=-100, le=100, description="Standing with the party")
    location_id: RecordId | None = None


class AttitudeChange(BaseModel):
    model_config = ConfigDict(strict=True)  # written by the service: no coercion

    kind: str
    attitude: int
    session_id: int | None = None
    note: str = ""
    at: Timestamp


class Relationship(Body):
    kept = ("history",)
    from_ref: EntityRef
    to_ref: EntityRef
    kind: Label = "knows"
    attitude: int = Field(0, ge=-100, le=100)
    note: Line = ""
    history: list[AttitudeChange] = Field(default_factory=list)

    def label(self) -> str:
        return f"{self.from_ref} {self.kind} {self.to_ref}"

    def record_refs(self) -> dict[str, list[int]]:
        ids = [int(r.split(":")[1]) for r in (self.from_ref, self.to_ref) if r[0] == "r"]
        return {"*": ids}

    def character_ids(self) -> list[int]:
        return [int(r.split(":")[1]) for r in (self.from_ref, self.to_ref) if r[0] == "c"]


class Note(Body):
    ref_fields = {"session_id": "session", "chapter_id": "chapter"}
    title: Name
    text: Text = ""
    session_id: RecordId | None = None
    chapter_id: RecordId | None = None


class WorldEvent(Body):
    """Something that happened in the world, on an in-world date (the timeline's entries)."""

    ref_fields = {
        "location_id": "location", "faction_ids": "faction", "npc_ids": "npc",
        "chapter_id": "chapter", "session_id": "session",
    }
    title: Name
    summary: Text = ""
    date: WorldDate
    location_id: RecordId | None = None
    faction_ids: Ids
    npc_ids: Ids
    chapter_id: RecordId | None = None
    session_id: RecordId | None = None

    def world_date(self) -> WorldDate | None:
        return self.date


class GameSession(Body):
    ref_fields = {"chapter_id": "chapter", "location_id": "location"}
    title: Name
    date: Day = Field(description="The real-world date it was played")
    in_world: WorldDate | None = Field(None, description="The in-world date it began")
    attendees: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=50, description="User ids of the members who came"
    )
    chapter_id: RecordId | None = None
    location_id: RecordId | None = None
    summary: Text = ""

    def world_date(self) -> WorldDate | None:
        return self.in_world


class PlayerAction(Body):
    """Who did what, in which session, chapter and location."""

    ref_fields = {"session_id": "session", "chapter_id": "chapter", "location_id": "location"}
    character_fields = ("character_id",)
    title: Name
    text: Text = ""
    session_id: RecordId
    character_id: RecordId | None = None
    chapter_id: RecordId | None = None
    location_id: RecordId | None = None


class Award(Body):
    """Written by a session's awards: XP or a milestone and items for one character."""

    ref_fields = {"session_id": "session"}
    character_fields = ("character_id",)
    title: Name
    session_id: RecordId
    character_id: RecordId
    xp: int = Field(0, ge=0, le=1_000_000)
    milestone: StrictBool = False
    items: list[dict[str, Any]] = Field(default_factory=list, max_length=50)
    reason: Line = ""


class StoryImpact(Body):
    """The story changed a character: a curse, a boon, an allegiance, an Antitheticon link."""

    ref_fields = {"session_id": "session", "chapter_id": "chapter"}
    character_fields = ("character_id",)
    title: Name
    character_id: RecordId
    kind: Literal["curse", "boon", "allegiance", "antitheticon", "other"]
    summary: Text
    details: dict[str, Any] = Field(default_factory=dict)
    session_id: RecordId | None = None
    chapter_id: RecordId | None = None


KINDS: dict[str, type[Body]] = {
    "chapter": Chapter,
    "plot": Plot,
    "npc": NPCRecord,
    "location": LocationRecord,
    "faction": Faction,
    "relationship": Relationship,
    "note": Note,
    "event": WorldEvent,
    "session": GameSession,
    "action": PlayerAction,
    "award": Award,
    "impact": StoryImpact,
}
RecordKind = Literal[
    "chapter", "plot", "npc", "location", "faction", "relationship", "note", "event",
    "session", "action", "award", "impact",
]
# Players may write these (their own, visible to the party or to themselves).
PLAYER_KINDS = frozenset({"note", "action"})
# Only their own routes write these (they emit events to characters).
ROUTED_KINDS = frozenset({"award", "impact"})
LOCATION_RANK = {"region": 0, "city": 1, "site": 2}


def real_at(body: Body) -> dt.datetime | None:
    """A game session's real-world day, as the time the timeline sorts and filters by."""
    if isinstance(body, GameSession):
        return dt.datetime.combine(body.date, dt.time(), dt.UTC)
    return None


def strip(kind: str, body: dict[str, Any], is_dm: bool) -> dict[str, Any]:
    """The body as a member may see it (DM-only fields removed for players)."""
    if is_dm:
        return body
    hidden = KINDS[kind].dm_only
    return {k: v for k, v in body.items() if k not in hidden}
