"""Typed events: every domain change emits one (a pydantic schema with a version)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.db import utcnow

Priority = Literal["high", "normal"]


class Event(BaseModel):
    """Base of every event. Subclasses set `type` and `version` and add their payload fields.

    `visibility` uses the campaign rules (domain.campaigns.access): the SSE stream shows an
    event only to users who may see it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ClassVar[str]
    version: ClassVar[int] = 1
    priority: ClassVar[Priority] = "normal"

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    occurred_at: datetime = Field(default_factory=utcnow)
    actor_id: int | None = None
    campaign_id: int | None = None
    character_id: int | None = None
    visibility: str = "dm"

    def payload(self) -> dict[str, Any]:
        """The subclass's own fields, as JSON."""
        base = set(Event.model_fields)
        return self.model_dump(mode="json", exclude=base)
