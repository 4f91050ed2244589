"""Every validation code, in both rulesets: one document that produces it and one that doesn't."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from domain.rules import apply_transition, load_rules, validate
from domain.rules.constants import XP_THRESHOLDS
from domain.sheet import ABILITIES, ValidationReport
from tests.unit.rules_fixtures import BASES, doc

Data = dict[str, Any]
Mutator = Callable[[Data], None]


def run(data: Data) -> ValidationReport:
    return validate(doc(data), load_rules(data["ruleset"]))


def codes(report: ValidationReport) -> set[str]:
    return {i.code for i in report.errors} | {i.code for i in report.warnings}


# --- helpers that reshape the base characters --------------------------------------------

def set_level(d: Data, classes: list[dict[str, Any]]) -> None:
    d["classes"] = classes
    d["xp"] = XP_THRESHOLDS[min(20, sum(c["level"] for c in classes)) - 1]
    d["hit_points"] = None


def fighter_cleric(d: Data, spells: list[str]) -> None:
    """2014: fighter 3 / cleric 1 (Wis 13 meets the cleric prerequisite)."""
    set_level(d, [{"class": "fighter", "level": 3, "subclass": "champion"},
                  {"class": "cleric", "level": 1}])
    d["spells"] = [{"name": s, "class": "cleric"} for s in spells]


def fighter_2024(d: Data) -> None:
    """2024: a human soldier fighter 3, proficient with all armor."""
    d.update(background="soldier", spells=[], hit_points=28,
             classes=[{"class": "fighter", "level": 3, "subclass": "champion"}],
             base_abilities={"str": 15, "dex": 13, "con": 14, "int": 8, "wis": 12, "cha": 10},
             ability_bonuses=[{"ability": "str", "value": 2, "source": "background"},
                              {"ability": "con", "value": 1, "source": "background"}],
             skills=["athletics", "intimidation", "perception", "survival", "insight"],
             inventory=[{"item": "chain-mail", "equipped": True},
                        {"item": "shield", "equipped": True}])


def set_abilities(d: Data, method: str, **scores: int) -> None:
    d["ability_method"] = method
    d["base_abilities"] = {**d["base_abilities"], **scores}


def add_items(d: Data, *items: Data) -> None:
    d["inventory"] = [*d["inventory"], *items]


def replace(lst: list[Any], old: Any, new: Any) -> list[Any]:
    return [new if x == old else x for x in lst]


def themed(d: Data, theme: str | None) -> None:
    new, _ = apply_transition(doc(d), theme)
    d.clear()
    d.update(new.dump())


def container_fill(d: Data, extra_lb: float) -> None:
    """Fill the backpack to its 30 lb capacity plus `extra_lb` using 1 lb daggers."""
    rules = load_rules(d["ruleset"])
    inside = sum(rules.items[i["item"]]["weight"] * i.get("quantity", 1)
                 for i in d["inventory"] if i.get("container") == "backpack")
    room = 30 - inside
    d["inventory"] = [*d["inventory"], {"item": "dagger", "quantity": int(room + extra_lb),
                                        "container": "backpack"}]


def spell(name: str, cls: str, prepared: bool | None = None) -> Data:
    return {"name": name, "class": cls, "prepared": prepared}


# (code, ruleset, makes-the-code, passes) -------------------------------------------------
CASES: list[tuple[str, str, Mutator, Mutator]] = [
    ("unknown_reference", "2014",
     lambda d: d.update(subrace="high-elf"),
     lambda d: add_items(d, {"item": "torch"})),
    ("unknown_reference", "2024",
     lambda d: d.update(subspecies="elven-lineage-drow"),
     lambda d: add_items(d, {"item": "torch"})),
    ("ability_score_out_of_range", "2014",
     lambda d: set_abilities(d, "rolled", str=19),
     lambda d: set_abilities(d, "rolled", str=18)),
    ("ability_score_out_of_range", "2024",
     lambda d: set_abilities(d, "manual", int=19),  # 19 + 2 from the background = 21
     lambda d: set_abilities(d, "manual", int=18)),
    ("point_buy_invalid", "2014",
     lambda d: set_abilities(d, "point_buy", dex=14),
     lambda d: set_abilities(d, "point_buy")),
    ("point_buy_invalid", "2024",
     lambda d: set_abilities(d, "point_buy", dex=15),
     lambda d: set_abilities(d, "point_buy")),
    ("standard_array_invalid", "2014",
     lambda d: set_abilities(d, "standard_array", dex=15),
     lambda d: set_abilities(d, "standard_array", wis=10, cha=12)),
    ("standard_array_invalid", "2024",
     lambda d: set_abilities(d, "standard_array", cha=12),
     lambda d: set_abilities(d, "standard_array", wis=10, cha=12)),
    ("ability_bonus_invalid", "2014",
     lambda d: d["ability_bonuses"][0].update(value=1),
     lambda d: d["ability_bonuses"][1].update(source="race")),
    ("ability_bonus_invalid", "2024",
     lambda d: d["ability_bonuses"][1].update(ability="dex"),
     lambda d: d.update(ability_bonuses=[
         {"ability": a, "value": 1, "source": "background"} for a in ("con", "int", "wis")])),
    ("level_out_of_range", "2014",
     lambda d: set_level(d, [{"class": "fighter", "level": 21}]),
     lambda d: set_level(d, [{"class": "fighter", "level": 20, "subclass": "champion"}])),
    ("level_out_of_range", "2024",
     lambda d: set_level(d, [{"class": "wizard", "level": 2}, {"class": "wizard", "level": 1}]),
     lambda d: set_level(d, [{"class": "wizard", "level": 20, "subclass": "evoker"}])),
    ("xp_level_mismatch", "2014",
     lambda d: d.update(xp=899),
     lambda d: d.update(xp=2699)),
    ("xp_level_mismatch", "2024",
     lambda d: d.update(xp=2700),  # a pending level-up: a warning
     lambda d: d.update(xp=900)),
    ("multiclass_prerequisite_unmet", "2014",
     lambda d: set_level(d, [d["classes"][0], {"class": "wizard", "level": 1}]),
     lambda d: set_level(d, [d["classes"][0], {"class": "cleric", "level": 1}])),
    ("multiclass_prerequisite_unmet", "2024",
     lambda d: set_level(d, [d["classes"][0], {"class": "barbarian", "level": 1}]),
     lambda d: set_level(d, [d["classes"][0], {"class": "fighter", "level": 1}])),
    ("subclass_level_too_low", "2014",
     lambda d: set_level(d, [{"class": "fighter", "level": 2, "subclass": "champion"}]),
     lambda d: set_level(d, [{"class": "fighter", "level": 2}])),
    ("subclass_level_too_low", "2024",
     lambda d: (set_level(d, [{"class": "wizard", "level": 2, "subclass": "evoker"}]),
                d.update(spells=d["spells"][:4])),
     lambda d: (set_level(d, [{"class": "wizard", "level": 2}]),
                d.update(spells=d["spells"][:4]))),
    ("spell_not_available", "2014",
     lambda d: d.update(spells=[spell("cure-wounds", "fighter")]),
     lambda d: fighter_cleric(d, ["cure-wounds"])),
    ("spell_not_available", "2024",
     lambda d: d.update(spells=[*d["spells"], spell("cure-wounds", "wizard", False)]),
     lambda d: d.update(spells=[*d["spells"], spell("thunderwave", "wizard", False)])),
    ("spell_level_too_high", "2014",
     lambda d: fighter_cleric(d, ["spiritual-weapon"]),
     lambda d: fighter_cleric(d, ["bless"])),
    ("spell_level_too_high", "2024",
     lambda d: d.update(spells=[*d["spells"], spell("fireball", "wizard", False)]),
     lambda d: d.update(spells=[*d["spells"], spell("scorching-ray", "wizard", False)])),
    ("too_many_spells", "2014",
     lambda d: fighter_cleric(d, ["bless", "cure-wounds", "guiding-bolt"]),  # Wis +1, level 1
     lambda d: fighter_cleric(d, ["bless", "cure-wounds"])),
    ("too_many_spells", "2024",
     lambda d: d.update(spells=[*d["spells"], spell("thunderwave", "wizard", True),
                                spell("fog-cloud", "wizard", True)]),
     lambda d: d.update(spells=[*d["spells"], spell("thunderwave", "wizard", True)])),
    ("attunement_limit_exceeded", "2014",
     lambda d: add_items(d, *({"item": s, "attuned": True} for s in (
         "ring-of-protection", "cloak-of-protection", "amulet-of-health", "ring-of-warmth"))),
     lambda d: add_items(d, *({"item": s, "attuned": True} for s in (
         "ring-of-protection", "cloak-of-protection", "amulet-of-health")))),
    ("attunement_limit_exceeded", "2024",
     lambda d: add_items(d, {"item": "ring-of-protection", "quantity": 2, "attuned": True},
                         {"item": "cloak-of-protection", "attuned": True},
                         {"item": "amulet-of-health", "attuned": True}),
     lambda d: add_items(d, {"item": "ring-of-protection", "quantity": 2, "attuned": True},
                         {"item": "cloak-of-protection", "attuned": True})),
    ("attunement_not_allowed", "2014",
     lambda d: d["inventory"][2].update(attuned=True),  # a mundane longsword
     lambda d: add_items(d, {"item": "ring-of-protection", "attuned": True})),
    ("attunement_not_allowed", "2024",
     lambda d: add_items(d, {"item": "boots-of-elvenkind", "attuned": True}),  # no attunement
     lambda d: add_items(d, {"item": "boots-of-elvenkind"})),
    ("armor_strength_requirement", "2014",
     lambda d: set_abilities(d, "rolled", str=12),
     lambda d: set_abilities(d, "rolled", str=13)),
    ("armor_strength_requirement", "2024",
     lambda d: (fighter_2024(d), set_abilities(d, "rolled", str=10)),  # 10 + 2 < 13
     lambda d: (fighter_2024(d), set_abilities(d, "rolled", str=11))),
    ("armor_not_proficient", "2014",
     lambda d: set_level(d, [{"class": "cleric", "level": 1}, d["classes"][0]]),
     lambda d: set_level(d, [d["classes"][0], {"class": "cleric", "level": 1}])),
    ("armor_not_proficient", "2024",
     lambda d: add_items(d, {"item": "leather-armor", "equipped": True}),
     lambda d: add_items(d, {"item": "leather-armor", "equipped": False})),
    ("over_carrying_capacity", "2014",
     lambda d: d["currency"].update(gp=10_000),  # 200 lb of gold on top of ~89 lb
     lambda d: d["currency"].update(gp=6_000)),
    ("over_carrying_capacity", "2024",
     lambda d: d["currency"].update(gp=5_500),  # Str 8: 120 lb
     lambda d: d["currency"].update(gp=4_000)),
    ("container_over_capacity", "2014",
     lambda d: container_fill(d, 1),
     lambda d: container_fill(d, 0)),
    ("container_over_capacity", "2024",
     lambda d: container_fill(d, 1),
     lambda d: container_fill(d, 0)),
    ("language_count_invalid", "2014",
     lambda d: d["languages"].remove("giant"),
     lambda d: d.update(languages=replace(d["languages"], "giant", "infernal"))),
    ("language_count_invalid", "2024",
     lambda d: d.update(languages=replace(d["languages"], "dwarvish", "abyssal")),
     lambda d: d.update(languages=replace(d["languages"], "dwarvish", "goblin"))),
    ("skill_choice_invalid", "2014",
     lambda d: d.update(skills=replace(d["skills"], "perception", "arcana")),
     lambda d: d.update(skills=replace(d["skills"], "perception", "survival"))),
    ("skill_choice_invalid", "2024",
     lambda d: d["skills"].remove("insight"),
     lambda d: d.update(skills=replace(d["skills"], "insight", "stealth"))),
    ("hit_points_invalid", "2014",
     lambda d: d.update(hit_points=43),  # max: 13 + 13 + 13 + 3 (dwarven toughness)
     lambda d: d.update(hit_points=42)),
    ("hit_points_invalid", "2024",
     lambda d: d.update(hit_points=13),  # min: 8 + 3 + 3
     lambda d: d.update(hit_points=14)),
    ("theme_incompatible", "2014",
     lambda d: (themed(d, "heroic"), add_items(d, {"item": "demon-armor"})),
     lambda d: (themed(d, "grimdark"), add_items(d, {"item": "demon-armor"}))),
    ("theme_incompatible", "2024",
     lambda d: d.update(theme="old-school"),  # offered in 2014 only
     lambda d: themed(d, "heroic")),
]
IDS = [f"{code}-{rs}" for code, rs, _, _ in CASES]


def test_every_code_is_covered_in_both_rulesets() -> None:
    expected = {
        "unknown_reference", "ability_score_out_of_range", "point_buy_invalid",
        "standard_array_invalid", "ability_bonus_invalid", "level_out_of_range",
        "xp_level_mismatch", "multiclass_prerequisite_unmet", "subclass_level_too_low",
        "spell_not_available", "spell_level_too_high", "too_many_spells",
        "attunement_limit_exceeded", "attunement_not_allowed", "armor_strength_requirement",
        "armor_not_proficient", "over_carrying_capacity", "container_over_capacity",
        "language_count_invalid", "skill_choice_invalid", "hit_points_invalid",
        "theme_incompatible",
    }
    for rs in ("2014", "2024"):
        assert {code for code, r, _, _ in CASES if r == rs} == expected


@pytest.mark.parametrize("ruleset", ["2014", "2024"])
def test_base_character_is_valid(ruleset: str) -> None:
    report = run(BASES[ruleset]())
    assert report.valid, report.errors
    assert report.errors == [] and report.warnings == []


@pytest.mark.parametrize(("code", "ruleset", "bad", "good"), CASES, ids=IDS)
def test_code_is_produced(code: str, ruleset: str, bad: Mutator, good: Mutator) -> None:
    data = copy.deepcopy(BASES[ruleset]())
    bad(data)
    report = run(data)
    assert code in codes(report), (report.errors, report.warnings)
    for issue in report.errors + report.warnings:
        assert issue.path and issue.message and issue.fix


@pytest.mark.parametrize(("code", "ruleset", "bad", "good"), CASES, ids=IDS)
def test_code_is_not_produced(code: str, ruleset: str, bad: Mutator, good: Mutator) -> None:
    data = copy.deepcopy(BASES[ruleset]())
    good(data)
    report = run(data)
    assert code not in codes(report), (report.errors, report.warnings)
    assert report.valid, report.errors


# --- severity and details of particular rules --------------------------------------------

def issue(report: ValidationReport, code: str, errors: bool = True):  # type: ignore[no-untyped-def]
    found = [i for i in (report.errors if errors else report.warnings) if i.code == code]
    assert found, (report.errors, report.warnings)
    return found[0]


@pytest.mark.parametrize("ruleset", ["2014", "2024"])
def test_armor_strength_is_a_warning(ruleset: str) -> None:
    data = BASES[ruleset]()
    if ruleset == "2024":
        fighter_2024(data)
    set_abilities(data, "rolled", str=8)
    report = run(data)
    assert issue(report, "armor_strength_requirement", errors=False).path.startswith("inventory.")
    assert report.valid


@pytest.mark.parametrize("ruleset", ["2014", "2024"])
def test_xp_pending_level_up_is_warning_and_too_little_xp_is_error(ruleset: str) -> None:
    data = BASES[ruleset]()
    data["xp"] = XP_THRESHOLDS[3]
    assert issue(run(data), "xp_level_mismatch", errors=False).path == "xp"
    data["xp"] = XP_THRESHOLDS[1]
    assert issue(run(data), "xp_level_mismatch").path == "xp"


@pytest.mark.parametrize("ruleset", ["2014", "2024"])
def test_point_buy_underspent_is_a_warning(ruleset: str) -> None:
    data = BASES[ruleset]()
    set_abilities(data, "point_buy", cha=8)
    report = run(data)
    assert issue(report, "point_buy_invalid", errors=False).path == "base_abilities"
    assert "point_buy_invalid" not in {i.code for i in report.errors}


def test_paths_point_into_the_document() -> None:
    data = BASES["2024"]()
    data["spells"].append(spell("cure-wounds", "wizard", False))
    data["classes"][0]["level"] = 21
    report = run(data)
    assert issue(report, "spell_not_available").path == f"spells.{len(data['spells']) - 1}.name"
    assert issue(report, "level_out_of_range").path == "classes.0.level"


@pytest.mark.parametrize(("ruleset", "mutate", "path"), [
    ("2014", lambda d: d.update(race="minotaur"), "race"),
    ("2014", lambda d: d.update(species="human"), "species"),
    ("2024", lambda d: d.update(background="noble"), "background"),
    ("2024", lambda d: d["classes"][0].update(subclass="champion"), "classes.0.subclass"),
    ("2024", lambda d: d["classes"][0].update({"class": "artificer"}), "classes.0.class"),
    ("2024", lambda d: d["spells"][0].update(name="power-word-pun"), "spells.0.name"),
    ("2024", lambda d: d["languages"].append("klingon"), "languages.3"),
    ("2014", lambda d: d["skills"].append("piloting"), "skills.4"),
    ("2014", lambda d: d["inventory"][4].update(container="bag-of-holding"),
     "inventory.4.container"),
    ("2014", lambda d: d["inventory"][4].update(container="longsword"), "inventory.4.container"),
    ("2024", lambda d: d.update(theme="cosmic-horror"), "theme"),
])
def test_unknown_references(ruleset: str, mutate: Mutator, path: str) -> None:
    data = BASES[ruleset]()
    mutate(data)
    report = run(data)
    assert path in {i.path for i in report.errors if i.code == "unknown_reference"}, report.errors


def test_2014_half_elf_bonus_choice() -> None:
    data = BASES["2014"]()
    data.update(race="half-elf", subrace=None, languages=["common", "elvish", "orc", "giant",
                                                          "dwarvish"],
                skills=["insight", "religion", "athletics", "perception", "stealth", "arcana"])
    data["ability_bonuses"] = [
        {"ability": "cha", "value": 2, "source": "race"},
        {"ability": "str", "value": 1, "source": "race"},
        {"ability": "con", "value": 1, "source": "race"},
    ]
    data["hit_points"] = None
    assert run(data).valid, run(data).errors
    data["ability_bonuses"][1]["ability"] = "cha"  # +1 to Cha is not "another" ability
    assert "ability_bonus_invalid" in codes(run(data))


def test_2024_species_bonus_is_not_allowed() -> None:
    data = BASES["2024"]()
    data["ability_bonuses"].append({"ability": "wis", "value": 1, "source": "species"})
    assert issue(run(data), "ability_bonus_invalid").path == "ability_bonuses.2"


@pytest.mark.parametrize("ruleset", ["2014", "2024"])
def test_asi_points_follow_class_levels(ruleset: str) -> None:
    data = BASES[ruleset]()
    cls = data["classes"][0]["class"]
    set_level(data, [{**data["classes"][0], "level": 4}])
    if ruleset == "2024":
        data["spells"] = data["spells"][:8]
    data["ability_bonuses"].append({"ability": "dex", "value": 2, "source": "asi",
                                    "note": f"{cls} 4"})
    assert "ability_bonus_invalid" not in codes(run(data))
    data["ability_bonuses"].append({"ability": "cha", "value": 1, "source": "asi"})
    assert "ability_bonus_invalid" in codes(run(data))
    # A feat in place of the ASI uses the slot up.
    data["ability_bonuses"] = [b for b in data["ability_bonuses"] if b["source"] != "asi"]
    data["ability_bonuses"] += [
        {"ability": "str", "value": 1, "source": "feat", "note": "grappler"},
        {"ability": "dex", "value": 1, "source": "asi"},
    ]
    assert "ability_bonus_invalid" in codes(run(data))


def test_fighter_gets_an_extra_asi_at_6() -> None:
    data = BASES["2014"]()
    set_level(data, [{"class": "fighter", "level": 6, "subclass": "champion"}])
    data["ability_bonuses"] += [{"ability": a, "value": 1, "source": "asi"}
                                for a in ("str", "dex", "int", "cha")]
    assert "ability_bonus_invalid" not in codes(run(data))


@pytest.mark.parametrize("ruleset", ["2014", "2024"])
def test_theme_bonuses_must_match_the_theme(ruleset: str) -> None:
    data = BASES[ruleset]()
    themed(data, "grimdark")
    assert "ability_bonus_invalid" not in codes(run(data))
    data["ability_bonuses"][-1]["value"] = 2
    assert "ability_bonus_invalid" in codes(run(data))


def test_final_score_above_20_is_out_of_range() -> None:
    data = BASES["2014"]()
    set_abilities(data, "manual", con=19)  # + 2 (dwarf) = 21
    data["hit_points"] = None
    assert issue(run(data), "ability_score_out_of_range").path == "base_abilities.con"


def test_hit_points_average_is_accepted() -> None:
    for ruleset in ("2014", "2024"):
        data = BASES[ruleset]()
        report = run(data)
        assert "hit_points_invalid" not in codes(report)
    data = BASES["2014"]()
    data["hit_points"] = None
    assert "hit_points_invalid" not in codes(run(data))


def test_spells_for_a_class_without_slots_yet() -> None:
    data = BASES["2014"]()
    set_level(data, [{"class": "fighter", "level": 3, "subclass": "champion"},
                     {"class": "paladin", "level": 1}])
    data["base_abilities"]["cha"] = 13
    data["ability_method"] = "rolled"
    data["spells"] = [spell("bless", "paladin")]
    assert issue(run(data), "spell_not_available").path == "spells.0.name"


def test_validate_does_not_touch_abilities_list() -> None:
    assert len(ABILITIES) == 6  # guard for the helpers above
