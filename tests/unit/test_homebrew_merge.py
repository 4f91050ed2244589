"""Homebrew merged into the rules: it validates like SRD content; collisions are refused."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from domain.homebrew.entries import HomebrewEntry
from domain.homebrew.merge import merge_homebrew
from domain.rules import derive, load_rules, validate
from tests.unit.rules_fixtures import BASES, doc

ENTRIES = TypeAdapter(list[HomebrewEntry])

HOMEBREW = [
    {"kind": "class", "slug": "witch-hunter", "name": "Witch Hunter", "hit_die": 10,
     "saving_throws": ["wis", "con"], "armor": ["light", "medium", "shield"],
     "skill_choices": ["insight", "investigation", "perception", "religion"], "skill_count": 2,
     "multiclass_prerequisites": {"wis": 13}, "caster": "half", "spellcasting_ability": "wis",
     "spell_list": ["detect-magic", "bless"], "subclasses": ["order-of-ash"]},
    {"kind": "species", "slug": "sprite-folk", "name": "Sprite-folk", "size": "Tiny",
     "languages": ["sylvan"], "skills": ["stealth"]},
    {"kind": "item", "slug": "ironwood-plate", "name": "Ironwood Plate", "weight": 30,
     "armor": {"category": "heavy", "base_ac": 17, "dex_bonus": False, "str_minimum": 15}},
    {"kind": "item", "slug": "lucky-charm", "name": "Lucky Charm", "magic": True,
     "requires_attunement": True, "ac_bonus": 1},
    {"kind": "item", "slug": "saddlebag", "name": "Saddlebag", "weight": 3, "capacity_lb": 10},
    {"kind": "spell", "slug": "hex-ward", "name": "Hex Ward", "level": 1, "school": "abjuration",
     "classes": ["witch-hunter"]},
]


def rules_2024():  # type: ignore[no-untyped-def]
    return merge_homebrew(load_rules("2024"), ENTRIES.validate_python(HOMEBREW))


def hunter() -> dict[str, Any]:
    data = BASES["2024"]()
    data.update(species="sprite-folk", classes=[{"class": "witch-hunter", "level": 3,
                                                 "subclass": "order-of-ash"}],
                hit_points=None, languages=["common", "elvish", "dwarvish", "sylvan"],
                skills=["arcana", "history", "stealth", "insight", "religion"],
                spells=[{"name": "hex-ward", "class": "witch-hunter"},
                        {"name": "bless", "class": "witch-hunter"}],
                inventory=[{"item": "ironwood-plate"}, {"item": "lucky-charm", "attuned": True},
                           {"item": "saddlebag"},
                           {"item": "dagger", "quantity": 3, "container": "saddlebag"}])
    data["base_abilities"]["str"] = 8
    return data


def test_homebrew_character_validates() -> None:
    report = validate(doc(hunter()), rules_2024())
    assert report.valid, report.errors


def test_homebrew_is_checked_by_the_same_rules() -> None:
    rules = rules_2024()
    data = hunter()
    data["spells"].append({"name": "fireball", "class": "witch-hunter"})
    data["inventory"][0]["equipped"] = True  # heavy armor: not proficient, Str 8 < 15
    data["inventory"][3]["quantity"] = 11  # 11 lb in a 10 lb saddlebag
    report = validate(doc(data), rules)
    codes = {i.code for i in report.errors} | {i.code for i in report.warnings}
    assert {"spell_not_available", "armor_not_proficient", "armor_strength_requirement",
            "container_over_capacity"} <= codes


def test_homebrew_derived_values() -> None:
    rules = rules_2024()
    data = hunter()
    data["inventory"][0]["equipped"] = True
    d = derive(doc(data), rules)
    assert d.armor_class == 17 + 1  # plate + attuned charm
    assert d.spell_slots.slots[0] == 3  # half caster 3 -> caster level 2 (2024 rounds up)
    assert d.carrying_capacity == 8 * 7.5  # Tiny


def test_unknown_homebrew_fails_without_registration() -> None:
    report = validate(doc(hunter()), load_rules("2024"))
    paths = {i.path for i in report.errors if i.code == "unknown_reference"}
    assert {"species", "classes.0.class", "inventory.0.item"} <= paths


def test_original_rules_untouched() -> None:
    base = load_rules("2024")
    rules_2024()
    assert "witch-hunter" not in base.classes and "hex-ward" not in base.spells
    assert "saddlebag" not in base.container_capacity


@pytest.mark.parametrize("entry", [
    {"kind": "item", "slug": "longsword", "name": "My Longsword"},
    {"kind": "class", "slug": "wizard", "name": "Wizard II", "hit_die": 6},
])
def test_slug_collision_is_an_error(entry: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="collides"):
        merge_homebrew(load_rules("2014"), ENTRIES.validate_python([entry]))


def test_collision_with_earlier_homebrew_and_bad_references() -> None:
    rules = rules_2024()
    with pytest.raises(ValueError, match="collides"):
        merge_homebrew(rules, ENTRIES.validate_python([HOMEBREW[1]]))
    with pytest.raises(ValueError, match="not a known"):
        merge_homebrew(load_rules("2014"), ENTRIES.validate_python([
            {"kind": "subclass", "slug": "path-of-rust", "name": "Rust", "class": "tinker"}]))


def test_homebrew_models_reject_nonsense() -> None:
    with pytest.raises(ValidationError):
        ENTRIES.validate_python([{"kind": "item", "slug": "x", "name": "X",
                                  "requires_attunement": True}])  # not magic
    with pytest.raises(ValidationError):
        ENTRIES.validate_python([{"kind": "class", "slug": "y", "name": "Y", "hit_die": 6,
                                  "caster": "full"}])  # no spellcasting ability


def test_homebrew_subclass_for_srd_class_2014() -> None:
    rules = merge_homebrew(load_rules("2014"), ENTRIES.validate_python([
        {"kind": "subclass", "slug": "battle-master-lite", "name": "BM", "class": "fighter"}]))
    data = BASES["2014"]()
    data["classes"][0]["subclass"] = "battle-master-lite"
    assert validate(doc(data), rules).valid
    data["classes"][0]["level"] = 2
    data["xp"] = 300
    data["hit_points"] = None
    codes = {i.code for i in validate(doc(data), rules).errors}
    assert codes == {"subclass_level_too_low"}
