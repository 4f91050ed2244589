"""An event as it travels: the outbox row's columns, independent of the transport."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from domain.events.models import OutboxEvent
from domain.events.schemas import Event

E = TypeVar("E", bound=Event)
PRIORITIES = ("high", "normal")


class UnknownVersion(ValueError):
    """The event's schema version is not the one its handler was written for."""


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int  # the outbox order (the log position replay and SSE resume use)
    id: uuid.UUID
    type: str
    version: int
    priority: str
    occurred_at: datetime
    actor_id: int | None
    campaign_id: int | None
    character_id: int | None
    visibility: str
    payload: dict[str, Any]

    @classmethod
    def from_row(cls, row: OutboxEvent) -> Envelope:
        return cls.model_validate(row, from_attributes=True)

    def to_event(self, event_type: type[E]) -> E:
        """The typed event; a wrong version or a payload the schema refuses raises (the
        message is poison and ends in the dead letters with that error)."""
        if self.version != event_type.version:
            raise UnknownVersion(
                f"{self.type} v{self.version}: the handler reads v{event_type.version}; "
                "deploy a handler for this version, then redrive the dead letter."
            )
        return event_type.model_validate(
            {
                "id": self.id,
                "occurred_at": self.occurred_at,
                "actor_id": self.actor_id,
                "campaign_id": self.campaign_id,
                "character_id": self.character_id,
                "visibility": self.visibility,
                **self.payload,
            }
        )
