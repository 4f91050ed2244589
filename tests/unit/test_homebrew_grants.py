"""Homebrew classes, subclasses, species and backgrounds declare grants in the same form as
the SRD features, and the same engine validates them."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from domain.homebrew.entries import HomebrewEntry
from domain.homebrew.merge import merge_homebrew
from domain.rules import derive, load_rules, validate
from domain.sheet import CharacterDoc
from tests.unit.test_rules_grants import ARMOR, char

ENTRIES = TypeAdapter(list[HomebrewEntry])
FORGE = {"kind": "subclass", "slug": "forge-domain", "name": "Forge Domain", "class": "cleric",
         "grants": [
             {"name": "Bonus Proficiency", "at": 3, "prof": {"armor": ["heavy"]}},
             {"name": "Forge Spells", "at": 3,
              "spells": [{"spell": "identify", "at": 3}, {"spell": "heat-metal", "at": 3}]}]}
STONEBORN = {"kind": "species", "slug": "stoneborn", "name": "Stoneborn",
             "grants": [{"name": "Stone Hide", "ac": {"base": 13, "add": ["dex"]},
                         "hp": {"per": "level", "value": 1},
                         "prof": {"skill": ["athletics"]},
                         "pick": [{"what": "language", "n": 1, "from": ["giant", "primordial"]}]}]}


def rules():  # type: ignore[no-untyped-def]
    return merge_homebrew(load_rules("2024"), ENTRIES.validate_python([FORGE, STONEBORN]))


def forge_cleric(sub: str | None) -> CharacterDoc:
    d = char("2024", [("cleric", 3, sub)], skills=["arcana", "history", "perception",
                                                   "insight", "medicine"], inventory=ARMOR,
             choices={"divine-order": "thaumaturge"},
             spells=[{"name": "identify", "class": "cleric"},
                     {"name": "heat-metal", "class": "cleric"}])
    return CharacterDoc.model_validate(d)


def test_homebrew_subclass_grants_heavy_armor_and_spells() -> None:
    report = validate(forge_cleric("forge-domain"), rules())
    assert report.valid, report.errors
    report = validate(forge_cleric(None), rules())
    assert {"armor_not_proficient", "spell_not_available"} <= {i.code for i in report.errors}


def test_homebrew_species_grants_ac_hp_skill_and_language() -> None:
    d = char("2024", [("wizard", 1, None)], skills=["arcana", "history", "athletics",
                                                   "insight", "investigation"],
             languages=["common", "dwarvish", "elvish", "giant"], hit_points=9)
    d["species"] = "stoneborn"
    doc = CharacterDoc.model_validate(d)
    report = validate(doc, rules())
    assert report.valid, report.errors  # 6 + Con 2 + 1 (Stone Hide)
    assert derive(doc, rules()).armor_class == 13 + 1
    d["languages"] = ["common", "dwarvish", "elvish", "orc"]
    report = validate(CharacterDoc.model_validate(d), rules())
    assert "language_count_invalid" in {i.code for i in report.errors}


def test_homebrew_grant_references_are_checked() -> None:
    bad = {**FORGE, "grants": [{"name": "x", "spells": [{"spell": "no-such-spell"}]}]}
    with pytest.raises(ValueError, match="no-such-spell"):
        merge_homebrew(load_rules("2024"), ENTRIES.validate_python([bad]))
    with pytest.raises(ValidationError):
        ENTRIES.validate_python([{**FORGE, "grants": [{"name": "x", "max": {"str": 40}}]}])
