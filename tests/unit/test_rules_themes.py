"""Themes: transitions, adjustments applied and reversed, forbidden content."""

from __future__ import annotations

import pytest

from domain.rules import apply_transition, check_transition, get_theme, load_rules, validate
from domain.rules.derived import final_abilities
from tests.unit.rules_fixtures import BASES, doc


@pytest.mark.parametrize("ruleset", ["2014", "2024"])
def test_required_themes_exist(ruleset: str) -> None:
    for slug in ("heroic", "grimdark", "shadow-self"):
        theme = get_theme(slug)
        assert theme is not None and ruleset in theme.rulesets
    assert get_theme("shadow-self").requires_counterpart  # type: ignore[union-attr]


def codes_of(issues) -> set[str]:  # type: ignore[no-untyped-def]
    return {i.code for i in issues}


@pytest.mark.parametrize("ruleset", ["2014", "2024"])
def test_transition_rules(ruleset: str) -> None:
    rules = load_rules(ruleset)
    d = doc(BASES[ruleset]())
    assert check_transition(d, "heroic", rules, has_counterpart=False) == []
    heroic, _ = apply_transition(d, "heroic")
    assert check_transition(heroic, "grimdark", rules, has_counterpart=False) == []
    assert codes_of(check_transition(heroic, "shadow-self", rules, False)) == {
        "theme_incompatible"}
    assert check_transition(heroic, "shadow-self", rules, has_counterpart=True) == []
    shadow, _ = apply_transition(heroic, "shadow-self")
    assert codes_of(check_transition(shadow, "heroic", rules, True)) == {"theme_incompatible"}
    assert check_transition(shadow, "grimdark", rules, True) == []
    assert check_transition(shadow, None, rules, False) == []
    assert codes_of(check_transition(d, "vaporwave", rules, True)) == {"unknown_reference"}


def test_theme_not_offered_in_ruleset() -> None:
    assert check_transition(doc(BASES["2014"]()), "old-school", load_rules("2014"), False) == []
    issues = check_transition(doc(BASES["2024"]()), "old-school", load_rules("2024"), False)
    assert codes_of(issues) == {"theme_incompatible"}


@pytest.mark.parametrize("ruleset", ["2014", "2024"])
def test_adjustments_applied_and_reversed(ruleset: str) -> None:
    rules = load_rules(ruleset)
    d = doc(BASES[ruleset]())
    before = final_abilities(d)
    grim, net = apply_transition(d, "grimdark")
    assert net == get_theme("grimdark").adjustments  # type: ignore[union-attr]
    after = final_abilities(grim)
    assert {a: after[a] - before[a] for a in after if after[a] != before[a]} == net
    assert grim.theme == "grimdark" and validate(grim, rules).valid
    heroic, net2 = apply_transition(grim, "heroic")
    assert net2 == {"con": -2, "cha": 2}  # grimdark removed, heroic added
    plain, net3 = apply_transition(heroic, None)
    assert final_abilities(plain) == before and plain.theme is None
    assert net3 == {"cha": -1, "con": 1}
    assert d.theme is None and final_abilities(d) == before  # the original is unchanged


def test_forbidden_content() -> None:
    rules = load_rules("2024")
    data = BASES["2024"]()
    data["spells"][1]["name"] = "chill-touch"  # necromancy cantrip
    issues = check_transition(doc(data), "heroic", rules, has_counterpart=False)
    assert [i.path for i in issues] == ["spells.1.name"]
    data = BASES["2014"]()
    data["classes"].append({"class": "paladin", "level": 1})
    issues = check_transition(doc(data), "shadow-self", load_rules("2014"), True)
    assert "classes.1.class" in {i.path for i in issues}
