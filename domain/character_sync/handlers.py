"""The `characters` consumer group: campaign awards and story impacts applied to characters.

Each handler runs in the transaction that also records the event as processed, through the
character service's own write path (rules check, a new version, compare-and-set), acting
for the DM who made the award (`actor_id`): the campaign service checked that they may.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from domain.campaigns.events import ItemAwarded, StoryImpactRecorded, XpAwarded
from domain.character_sync.models import CharacterStoryImpact
from domain.characters.messages import REASON_MAX, LinkRequest, XpAwardRequest
from domain.characters.service import CharacterService
from domain.errors import InvalidRequest
from domain.events.handlers import ConsumerGroup, Handler
from domain.events.schemas import Event
from domain.users.schemas import Principal

GROUP = "characters"


def _service(session: Session, event: Event) -> tuple[CharacterService, int]:
    if event.actor_id is None or event.character_id is None:
        raise InvalidRequest(
            f"{event.type} {event.id} names no actor or no character: the campaign service "
            "must set both.",
            code="event_incomplete",
        )
    # The awarding DM, with the rights to write another user's character.
    return CharacterService(session, Principal(event.actor_id, "admin")), event.character_id


def _reason(event: Event, text: str) -> str:
    """The character's history is readable by its player: a secret award's words stay with
    the DMs (the campaign's award record), the history says only where it came from."""
    if not _public_to_player(event):
        text = ""
    where = f"campaign {event.campaign_id}"
    session_id = getattr(event, "session_id", None)
    if session_id is not None:
        where += f", session {session_id}"
    return f"{where}: {text}"[:REASON_MAX] if text else where


def _public_to_player(event: Event) -> bool:
    return event.visibility in ("public", "party")


def on_xp_awarded(session: Session, event: XpAwarded) -> None:
    service, character_id = _service(session, event)
    kind = "milestone" if event.milestone else "xp"
    request = XpAwardRequest(kind=kind, amount=event.amount, reason=_reason(event, event.reason))
    service.award_xp(character_id, request)


def on_item_awarded(session: Session, event: ItemAwarded) -> None:
    service, character_id = _service(session, event)
    name = event.item.get("item", "an item")
    service.receive_item(character_id, event.item, _reason(event, f"received {name}"))


def on_story_impact(session: Session, event: StoryImpactRecorded) -> None:
    service, character_id = _service(session, event)
    service.get(character_id)  # 404 (poison) for a character that is gone
    session.add(
        CharacterStoryImpact(
            event_id=event.id,
            character_id=character_id,
            campaign_id=event.campaign_id,
            kind=event.kind,
            summary=event.summary,
            details=event.details,
            visibility=event.visibility,
            occurred_at=event.occurred_at,
        )
    )
    counterpart = event.details.get("counterpart_id")
    if event.kind == "antitheticon" and isinstance(counterpart, int):
        service.link(character_id, LinkRequest(counterpart_id=counterpart))


CHARACTERS = ConsumerGroup.of(
    GROUP,
    Handler(XpAwarded, on_xp_awarded),
    Handler(ItemAwarded, on_item_awarded),
    Handler(StoryImpactRecorded, on_story_impact),
)
