"""Campaign calendar dates, theme transitions and record bodies, without a database."""

from __future__ import annotations

import pytest

from domain.campaigns.calendar import Calendar, Era, Month, WorldDate
from domain.campaigns.records import KINDS, strip
from domain.campaigns.themes import check_campaign_transition
from domain.errors import InvalidRequest


def test_dates_sort_like_the_calendar():
    dates = ["-5-12-30", "735-1-1", "735-1-30", "735-2-1", "1492-3-1"]
    ordinals = [WorldDate.parse(d).ordinal for d in dates]
    assert ordinals == sorted(ordinals)
    with pytest.raises(ValueError):
        WorldDate.parse("1492/3/1")


def test_calendar_checks_and_describes():
    cal = Calendar(months=[Month(name="Frost", days=20), Month(name="Thaw")],
                   eras=[Era(name="Old", start_year=0), Era(name="New", start_year=1000)])
    cal.check(WorldDate(year=1, month=1, day=20))
    with pytest.raises(ValueError, match="20 days"):
        cal.check(WorldDate(year=1, month=1, day=21))
    with pytest.raises(ValueError, match="2 months"):
        cal.check(WorldDate(year=1, month=3, day=1))
    assert cal.describe(WorldDate(year=1200, month=2, day=3)) == "3 Thaw 1200 (New)"
    assert cal.describe(WorldDate(year=-1, month=1, day=1)) == "1 Frost -1"


@pytest.mark.parametrize(("current", "to", "ruleset", "code"), [
    (None, "nope", "2024", "theme_unknown"),
    (None, "old-school", "2024", "theme_not_offered"),
    ("shadow-self", "heroic", "2024", "theme_transition_disallowed"),
    ("shadow-self", "old-school", "2014", "theme_transition_disallowed"),
])
def test_disallowed_theme_transitions(current, to, ruleset, code):
    with pytest.raises(InvalidRequest) as exc:
        check_campaign_transition(current, to, ruleset)
    assert exc.value.code == code


@pytest.mark.parametrize(("current", "to"), [
    (None, "heroic"), ("grimdark", "heroic"), ("heroic", None), ("heroic", "shadow-self"),
    (None, "old-school"),
])
def test_allowed_theme_transitions(current, to):
    check_campaign_transition(current, to, "2014")


def test_players_never_get_dm_fields():
    body = KINDS["npc"].model_validate({"name": "Ireena", "secret": "Tatyana"}).model_dump()
    assert "secret" not in strip("npc", body, is_dm=False)
    assert strip("npc", body, is_dm=True)["secret"] == "Tatyana"
    chapter = KINDS["chapter"].model_validate({"title": "One", "dm_notes": "twist"}).model_dump()
    assert "dm_notes" not in strip("chapter", chapter, is_dm=False)


def test_refs_name_records_and_characters():
    action = KINDS["action"].model_validate(
        {"title": "x", "session_id": 3, "character_id": 7, "location_id": 9})
    assert action.refs() == {"record:3", "record:9", "character:7"}
    rel = KINDS["relationship"].model_validate(
        {"from_ref": "record:1", "to_ref": "character:2"})
    assert rel.refs() == {"record:1", "character:2"}
