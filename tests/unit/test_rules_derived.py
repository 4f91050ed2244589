"""derive(): abilities, AC, spell slots (multiclass rounding, pact magic), carrying and load."""

from __future__ import annotations

from typing import Any

import pytest

from domain.rules import derive, load_rules
from domain.sheet import Derived
from tests.unit.rules_fixtures import BASES, doc


def derived(data: dict[str, Any]) -> Derived:
    return derive(doc(data), load_rules(data["ruleset"]))


def with_classes(ruleset: str, *classes: tuple[str, int]) -> dict[str, Any]:
    data = BASES[ruleset]()
    data["classes"] = [{"class": c, "level": lv} for c, lv in classes]
    data["spells"] = []
    return data


def test_abilities_modifiers_and_proficiency() -> None:
    d = derived(BASES["2014"]())
    assert d.abilities["con"] == 16 and d.abilities["wis"] == 13
    assert d.modifiers["con"] == 3 and d.modifiers["int"] == -1
    assert d.total_level == 3 and d.proficiency_bonus == 2
    data = with_classes("2014", ("fighter", 5), ("cleric", 4))
    assert derived(data).proficiency_bonus == 4


@pytest.mark.parametrize(("ruleset", "items", "dex", "ac"), [
    ("2014", [("chain-mail", True), ("shield", True)], 13, 18),  # heavy: no Dex
    ("2014", [("leather-armor", True)], 16, 14),  # light: 11 + full Dex
    ("2014", [("chain-shirt", True)], 16, 15),  # medium: 13 + Dex max 2
    ("2024", [("chain-shirt", True), ("shield", True)], 16, 17),
    ("2024", [], 14, 12),  # unarmored 10 + Dex
    ("2024", [("chain-mail", False)], 14, 12),  # carried, not worn
    ("2014", [("chain-mail", True), ("armor-1", True)], 13, 17),  # magic +1 to worn armor
    ("2024", [("shield-2", True)], 14, 16),  # shield +2: 2 + 2
])
def test_armor_class(ruleset: str, items: list[tuple[str, bool]], dex: int, ac: int) -> None:
    data = BASES[ruleset]()
    data["base_abilities"]["dex"] = dex
    data["inventory"] = [{"item": i, "equipped": e} for i, e in items]
    assert derived(data).armor_class == ac


def test_ring_of_protection_counts_only_when_attuned() -> None:
    data = BASES["2014"]()
    data["inventory"].append({"item": "ring-of-protection", "equipped": True})
    base = derived(BASES["2014"]()).armor_class
    assert derived(data).armor_class == base
    data["inventory"][-1]["attuned"] = True
    assert derived(data).armor_class == base + 1


def test_unarmored_defense() -> None:
    data = with_classes("2014", ("barbarian", 1))
    data["inventory"] = []
    d = derived(data)
    assert d.armor_class == 10 + d.modifiers["dex"] + d.modifiers["con"]


def test_single_class_full_caster_slots() -> None:
    d = derived(BASES["2024"]())
    assert d.spell_slots.slots[:3] == [4, 2, 0] and d.spell_slots.caster_level == 3


@pytest.mark.parametrize(("ruleset", "caster_level", "slots"), [
    # paladin 3 + wizard 3: half of 3 rounds down (1) in 2014, up (2) in 2024.
    ("2014", 4, [4, 3, 0]),
    ("2024", 5, [4, 3, 2]),
])
def test_multiclass_caster_rounding(ruleset: str, caster_level: int, slots: list[int]) -> None:
    d = derived(with_classes(ruleset, ("paladin", 3), ("wizard", 3)))
    assert d.spell_slots.caster_level == caster_level
    assert d.spell_slots.slots[:3] == slots


@pytest.mark.parametrize(("ruleset", "first_level_slots"), [("2014", 0), ("2024", 2)])
def test_single_class_half_caster_uses_own_table(ruleset: str, first_level_slots: int) -> None:
    assert derived(with_classes(ruleset, ("paladin", 1))).spell_slots.slots[0] == \
        first_level_slots
    assert derived(with_classes(ruleset, ("paladin", 5))).spell_slots.slots[:3] == [4, 2, 0]


@pytest.mark.parametrize("ruleset", ["2014", "2024"])
def test_pact_slots_are_separate(ruleset: str) -> None:
    d = derived(with_classes(ruleset, ("warlock", 5)))
    assert (d.spell_slots.pact_slots, d.spell_slots.pact_slot_level) == (2, 3)
    assert d.spell_slots.slots == [0] * 9
    d = derived(with_classes(ruleset, ("warlock", 3), ("wizard", 2)))
    assert (d.spell_slots.pact_slots, d.spell_slots.pact_slot_level) == (2, 2)
    assert d.spell_slots.slots[:2] == [3, 0] and d.spell_slots.caster_level == 2


@pytest.mark.parametrize(("ruleset", "race_field", "race", "strength", "capacity"), [
    ("2014", "race", "dwarf", 15, 225.0),
    ("2014", "race", "halfling", 10, 150.0),  # Small carries like Medium
    ("2024", "species", "goliath", 15, 450.0),  # powerful build: one size larger
    ("2024", "species", "halfling", 8, 120.0),
])
def test_carrying_capacity(ruleset: str, race_field: str, race: str, strength: int,
                           capacity: float) -> None:
    data = BASES[ruleset]()
    data[race_field] = race
    data["base_abilities"]["str"] = strength
    data["ability_bonuses"] = []
    assert derived(data).carrying_capacity == capacity


def test_load_counts_items_containers_and_coins() -> None:
    rules = load_rules("2014")
    data = BASES["2014"]()
    expected = sum(rules.items[i["item"]]["weight"] * i.get("quantity", 1)
                   for i in data["inventory"]) + 15 / 50
    assert derived(data).load == pytest.approx(expected)
    data["currency"] = {"gp": 100, "sp": 50}
    assert derived(data).load == pytest.approx(expected - 0.3 + 3)


def test_bag_of_holding_contents_weigh_nothing_outside() -> None:
    data = BASES["2024"]()
    data["inventory"] = [{"item": "bag-of-holding"},
                         {"item": "chain-mail", "container": "bag-of-holding"}]
    assert derived(data).load == pytest.approx(15 + 20 / 50 + 5 / 50)


def test_attuned_items_and_never_raises_on_unknown_slugs() -> None:
    data = BASES["2024"]()
    data["inventory"] = [{"item": "ring-of-protection", "attuned": True},
                         {"item": "no-such-thing", "equipped": True, "container": "nowhere"}]
    data["classes"] = [{"class": "no-such-class", "level": 40}]
    data["species"] = "no-such-species"
    d = derived(data)
    assert d.attuned_items == 1 and d.total_level == 40 and d.proficiency_bonus == 6
