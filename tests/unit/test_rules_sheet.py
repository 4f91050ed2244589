"""The complete character sheet (domain.rules.charsheet) and its printable HTML, both
rulesets. Expected numbers are worked out from the SRD rules in each docstring."""

from __future__ import annotations

from typing import Any

from domain.characters.sheet_html import render_sheet
from domain.rules import load_rules
from domain.rules.charsheet import Sheet, build_sheet
from domain.sheet import CharacterDoc
from tests.unit.rules_fixtures import base_2014, base_2024
from tests.unit.test_rules_grants import char


def sheet(d: dict[str, Any]) -> Sheet:
    return build_sheet(CharacterDoc.model_validate(d), load_rules(d["ruleset"]))


def test_2014_fighter_sheet() -> None:
    """Hill dwarf fighter 3: Str 15, Con 16, Dex 13, Wis 13, proficiency +2. Saves Str/Con
    proficient; chain mail 16 + shield 2; dwarf speed 25; 3d10 hit dice; longsword +4 to hit,
    1d8+2 (versatile 1d10+2); passive Perception 10 + 1 + 2."""
    s = sheet(base_2014())
    ab = {a.ability: a for a in s.abilities}
    assert (ab["str"].save, ab["str"].save_proficient) == (4, True)
    assert (ab["dex"].save, ab["dex"].save_proficient) == (1, False)
    assert s.armor_class == 18 and [p.value for p in s.armor_class_breakdown] == [16, 2]
    assert s.speed == 25 and s.hit_dice == {"d10": 3} and s.initiative == 1
    assert s.passives["perception"] == 13
    sword = s.attacks[0]
    assert (sword.to_hit, sword.damage, sword.versatile) == (4, "1d8+2", "1d10+2")
    assert {g.slug: g.source for g in s.proficiencies["armor"]}["heavy"] == "Fighter class"
    assert s.proficiencies["languages"][0].source == "Dwarf"


def test_2024_wizard_sheet_spellcasting_and_expertise() -> None:
    """Human wizard 3, Int 17 (+3), proficiency +2: spell save DC 8 + 2 + 3 = 13, attack +5;
    Scholar expertise in Arcana doubles the proficiency bonus (3 + 4 = 7)."""
    s = sheet(base_2024())
    wiz = s.spellcasting[0]
    assert (wiz.save_dc, wiz.attack_bonus, wiz.cantrips_limit, wiz.spells_limit) == (13, 5, 3, 6)
    arcana = next(k for k in s.skills if k.skill == "arcana")
    assert (arcana.bonus, arcana.expertise, arcana.source) == (7, True, "Sage background")
    assert s.spell_slots.slots[:2] == [4, 2]


def test_life_cleric_heavy_armor_source_and_domain_spells_on_sheet() -> None:
    """SRD 5.1 Life Domain (cleric 1): heavy armor from Bonus Proficiency; bless and cure
    wounds always prepared, on the sheet even when the document does not list them."""
    d = char("2014", [("cleric", 1, "life")], skills=["insight", "religion", "history",
                                                     "medicine"],
             inventory=[{"item": "chain-mail", "equipped": True}])
    s = sheet(d)
    heavy = {g.slug: g.source for g in s.proficiencies["armor"]}["heavy"]
    assert heavy == "Bonus Proficiency (Life), cleric 1"
    always = {sp.slug for sp in s.spells if sp.always_prepared}
    assert always == {"bless", "cure-wounds"}
    assert s.spellcasting[0].always_prepared == ["bless", "cure-wounds"]


def test_finesse_ranged_and_unproficient_weapons() -> None:
    """SRD: finesse uses the better of Str and Dex; ranged weapons use Dex; no proficiency
    bonus without proficiency (a wizard with a longsword, 2024)."""
    d = char("2024", [("wizard", 1, None)], skills=["arcana", "history", "perception",
                                                   "insight", "investigation"],
             abilities={"str": 8, "dex": 15, "con": 14, "int": 13, "wis": 12, "cha": 10},
             inventory=[{"item": "dagger", "equipped": True},
                        {"item": "longbow", "equipped": True},
                        {"item": "longsword", "equipped": True}])
    by = {a.item: a for a in sheet(d).attacks}
    assert by["dagger"].to_hit == 2 + 2 and by["dagger"].damage == "1d4+2"  # Dex, proficient
    assert by["longbow"].to_hit == 2 and not by["longbow"].proficient  # martial
    assert by["longsword"].to_hit == -1 and by["longsword"].damage == "1d8-1"


def test_heavy_armor_without_strength_slows() -> None:
    """SRD 5.1/5.2: heavy armor whose Str requirement is not met costs 10 ft of speed; an
    SRD 5.1 dwarf's speed is not reduced by heavy armor."""
    d = base_2014()
    d["base_abilities"] = {**d["base_abilities"], "str": 8, "int": 15}
    assert sheet(d).speed == 25
    d = char("2024", [("fighter", 1, None)], skills=["arcana", "history", "perception",
                                                    "athletics", "survival"],
             abilities={"str": 8, "dex": 13, "con": 14, "int": 15, "wis": 12, "cha": 10},
             inventory=[{"item": "chain-mail", "equipped": True}])
    s = sheet(d)
    assert s.speed == 20 and s.speed_note


def test_html_sheet_is_a_printable_page() -> None:
    """?format=html: a whole HTML document with print CSS; values are escaped."""
    d = base_2024()
    d["name"] = "<script>x</script> Mira"
    html = render_sheet(sheet(d))
    assert html.startswith("<!doctype html>") and "@page" in html and "@media print" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Armor Class" in html and "Spell slots" in html and "Arcana" in html
