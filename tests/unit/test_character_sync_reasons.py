"""What a character's history says about a campaign award: its player reads that history."""

from domain.campaigns.events import XpAwarded
from domain.character_sync.handlers import _reason


def test_a_party_award_keeps_its_words():
    event = XpAwarded(
        campaign_id=3,
        session_id=2,
        character_id=1,
        actor_id=9,
        amount=50,
        reason="slew the wyrm",
        visibility="party",
    )
    assert _reason(event, event.reason) == "campaign 3, session 2: slew the wyrm"


def test_a_secret_award_says_only_where_it_came_from():
    event = XpAwarded(
        campaign_id=3,
        session_id=2,
        character_id=1,
        actor_id=9,
        amount=50,
        reason="spared the doppelganger queen",
        visibility="dm",
    )
    assert _reason(event, event.reason) == "campaign 3, session 2"
