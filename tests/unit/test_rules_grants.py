"""What features grant, and feature choices: for each class of failure in issue 9, a legal
character that must pass and an illegal one that must fail, in both rulesets where the rule
exists. Each test's docstring cites the SRD 5.1 (2014) / SRD 5.2 (2024) fact it checks; the
characters are built from the SRD, not from the engine's code."""

from __future__ import annotations

from typing import Any

import pytest

from domain.rules import derive, load_rules, validate
from domain.rules.constants import XP_THRESHOLDS
from domain.sheet import CharacterDoc, ValidationReport

Data = dict[str, Any]


def char(rs: str, classes: list[tuple[str, int, str | None]], *, skills: list[str],
         languages: list[str] | None = None, abilities: dict[str, int] | None = None,
         **extra: Any) -> Data:
    """A legal origin around the classes under test. 2014: human (+1 to every ability;
    Common + 1 language), acolyte (Insight, Religion, 2 languages). 2024: human (Skillful:
    1 skill), sage (Arcana, History; +1 Con/Int/Wis), Common + 2 standard languages."""
    total = sum(lv for _, lv, _ in classes)
    base = abilities or {"str": 15, "dex": 13, "con": 14, "int": 8, "wis": 12, "cha": 10}
    d: Data = {
        "name": "Test", "ruleset": rs, "background": "acolyte" if rs == "2014" else "sage",
        "classes": [{"class": c, "level": lv, "subclass": s} for c, lv, s in classes],
        "ability_method": "standard_array", "base_abilities": base,
        "xp": XP_THRESHOLDS[total - 1], "skills": skills,
    }
    if rs == "2014":
        d.update(race="human", languages=languages or ["common", "dwarvish", "elvish", "giant"],
                 ability_bonuses=[{"ability": a, "value": 1, "source": "race"} for a in base])
    else:
        d.update(species="human", languages=languages or ["common", "dwarvish", "elvish"],
                 ability_bonuses=[{"ability": a, "value": 1, "source": "background"}
                                  for a in ("con", "int", "wis")])
    d.update(extra)
    return d


def run(d: Data) -> ValidationReport:
    return validate(CharacterDoc.model_validate(d), load_rules(d["ruleset"]))


def legal(d: Data) -> ValidationReport:
    report = run(d)
    assert report.valid, [(i.code, i.path, i.message) for i in report.errors]
    return report


def fails(d: Data, code: str) -> ValidationReport:
    report = run(d)
    assert code in {i.code for i in report.errors}, (code, report.errors)
    return report


def codes(report: ValidationReport, *, warnings: bool = False) -> set[str]:
    return {i.code for i in (report.warnings if warnings else report.errors)}


def spells(*names: str, cls: str | None = None, **kw: Any) -> list[Data]:
    return [{"name": n, **({"class": cls} if cls else {}), **kw} for n in names]


ARMOR = [{"item": "chain-mail", "equipped": True}, {"item": "shield", "equipped": True}]


# --- proficiencies granted by subclasses and choices ---------------------------------------

def cleric_2014(subclass: str | None) -> Data:
    return char("2014", [("cleric", 1, subclass)], skills=["insight", "religion", "history",
                                                          "medicine"], inventory=ARMOR)


def test_2014_life_domain_heavy_armor() -> None:
    """SRD 5.1 Life Domain, Bonus Proficiency (cleric 1): proficiency with heavy armor."""
    legal(cleric_2014("life"))


def test_2014_cleric_without_life_domain_heavy_armor_fails() -> None:
    """SRD 5.1 Cleric proficiencies: light and medium armor, shields (no heavy armor)."""
    fails(cleric_2014(None), "armor_not_proficient")


def cleric_2024(order: str | None, cantrips: int = 3) -> Data:
    d = char("2024", [("cleric", 1, None)], skills=["arcana", "history", "perception",
                                                    "insight", "medicine"], inventory=ARMOR,
             spells=spells(*["guidance", "light", "sacred-flame", "thaumaturgy"][:cantrips],
                           cls="cleric"))
    if order:
        d["choices"] = {"divine-order": order}
    return d


def test_2024_divine_order_protector_heavy_armor() -> None:
    """SRD 5.2 Cleric 1, Divine Order: Protector gives Heavy armor and Martial weapons."""
    legal(cleric_2024("protector"))


def test_2024_divine_order_thaumaturge_no_heavy_armor() -> None:
    """SRD 5.2 Divine Order: only Protector trains with Heavy armor."""
    fails(cleric_2024("thaumaturge"), "armor_not_proficient")


def test_2024_divine_order_thaumaturge_extra_cantrip() -> None:
    """SRD 5.2 Divine Order: Thaumaturge knows one extra Cleric cantrip (4 at cleric 1)."""
    d = cleric_2024("thaumaturge", cantrips=4)
    d["inventory"] = []
    legal(d)


def test_2024_divine_order_protector_no_extra_cantrip() -> None:
    """SRD 5.2 Cleric 1 knows 3 cantrips; Protector adds none."""
    fails(cleric_2024("protector", cantrips=4), "too_many_spells")


def test_2024_divine_order_missing_is_a_warning_with_fix() -> None:
    """SRD 5.2 Divine Order is chosen at cleric 1: unrecorded, it is a warning naming the
    options, never an error of its own."""
    d = cleric_2024(None)
    d["inventory"] = []
    report = legal(d)
    missing = [i for i in report.warnings if i.code == "choice_missing"]
    assert missing and missing[0].path == "choices.divine-order"
    assert "protector" in missing[0].fix and "thaumaturge" in missing[0].fix


def test_2024_divine_order_unknown_option_fails() -> None:
    """SRD 5.2 Divine Order options: Protector or Thaumaturge."""
    fails(cleric_2024("warrior"), "choice_invalid")


def druid(rs: str, order: str | None) -> Data:
    skills = (["insight", "religion", "arcana", "nature"] if rs == "2014"
              else ["arcana", "history", "perception", "insight", "nature"])
    d = char(rs, [("druid", 1, None)], skills=skills,
             inventory=[{"item": "hide-armor", "equipped": True}],
             languages=(["common", "dwarvish", "elvish", "giant", "druidic"] if rs == "2014"
                        else ["common", "dwarvish", "elvish", "druidic"]))
    if order:
        d["choices"] = {"primal-order": order}
    return d


def test_2014_druid_hide_armor_is_medium_and_allowed() -> None:
    """SRD 5.1 Hide is medium armor; druids are proficient with medium armor; Druidic is
    the druid's language."""
    legal(druid("2014", None))


def test_2024_hide_armor_is_medium_warden_allowed() -> None:
    """SRD 5.2 Hide Armor is Medium armor (AC 12 + Dex, max 2); Primal Order: Warden
    trains with Medium armor."""
    legal(druid("2024", "warden"))
    assert load_rules("2024").items["hide-armor"]["armor"]["category"] == "medium"


def test_2024_hide_armor_magician_druid_fails() -> None:
    """SRD 5.2 Druid: Light armor and Shields only; Hide is Medium armor."""
    fails(druid("2024", "magician"), "armor_not_proficient")


def test_2014_wizard_hide_armor_fails() -> None:
    """SRD 5.1 Wizard: no armor proficiency."""
    d = char("2014", [("wizard", 1, None)], skills=["insight", "religion", "arcana",
                                                   "history"],
             inventory=[{"item": "hide-armor", "equipped": True}])
    fails(d, "armor_not_proficient")


# --- skills and languages granted by features --------------------------------------------

LORE_2014 = ["insight", "religion", "acrobatics", "arcana", "deception", "history",
             "nature", "stealth"]


def test_2014_lore_bard_three_bonus_skills() -> None:
    """SRD 5.1 College of Lore, Bonus Proficiencies (bard 3): three skills of your choice."""
    legal(char("2014", [("bard", 3, "lore")], skills=LORE_2014,
               choices={"expertise": ["arcana", "stealth"]}))


def test_2014_bard_without_lore_three_extra_skills_fails() -> None:
    """SRD 5.1 Bard: three skills; only the Lore subclass adds three more."""
    fails(char("2014", [("bard", 3, None)], skills=LORE_2014), "skill_choice_invalid")


LORE_2024 = ["arcana", "history", "perception", "acrobatics", "deception", "insight", "nature",
             "stealth", "survival"]


def test_2024_lore_bard_three_bonus_skills() -> None:
    """SRD 5.2 College of Lore, Bonus Proficiencies (bard 3): three skills of your choice."""
    legal(char("2024", [("bard", 3, "college-of-lore")], skills=LORE_2024,
               choices={"expertise": ["arcana", "stealth"]}))


def test_2024_bard_without_lore_three_extra_skills_fails() -> None:
    """SRD 5.2 Bard: three skills; only College of Lore adds three more."""
    fails(char("2024", [("bard", 3, None)], skills=LORE_2024), "skill_choice_invalid")


def rogue(rs: str, languages: list[str], expertise: list[str] | None = None) -> Data:
    skills = (["insight", "religion", "stealth", "acrobatics", "deception", "perception"]
              if rs == "2014" else ["arcana", "history", "perception", "stealth", "acrobatics",
                                    "deception", "insight"])
    return char(rs, [("rogue", 1, None)], skills=skills, languages=languages,
                choices={"expertise": expertise or ["stealth", "acrobatics"]})


def test_2014_rogue_thieves_cant() -> None:
    """SRD 5.1 Rogue 1, Thieves' Cant: the rogue knows thieves' cant (no other language)."""
    legal(rogue("2014", ["common", "dwarvish", "elvish", "giant", "thieves-cant"]))


def test_2014_rogue_missing_thieves_cant_fails() -> None:
    """SRD 5.1 Thieves' Cant is granted at rogue 1; the document must list it."""
    fails(rogue("2014", ["common", "dwarvish", "elvish", "giant"]), "language_count_invalid")


def test_2014_rogue_no_extra_language() -> None:
    """SRD 5.1 Thieves' Cant grants no further language (unlike SRD 5.2)."""
    fails(rogue("2014", ["common", "dwarvish", "elvish", "giant", "thieves-cant", "orc"]),
          "language_count_invalid")


def test_2024_rogue_thieves_cant_plus_language() -> None:
    """SRD 5.2 Rogue 1, Thieves' Cant: Thieves' Cant and one other language of your choice."""
    legal(rogue("2024", ["common", "dwarvish", "elvish", "thieves-cant", "infernal"]))


def test_2024_rogue_thieves_cant_without_its_language_fails() -> None:
    """SRD 5.2 Thieves' Cant: the extra language must be chosen."""
    fails(rogue("2024", ["common", "dwarvish", "elvish", "thieves-cant"]),
          "language_count_invalid")


def test_2014_rogue_expertise_thieves_tools() -> None:
    """SRD 5.1 Rogue Expertise: two skill proficiencies, or one and thieves' tools."""
    legal(rogue("2014", ["common", "dwarvish", "elvish", "giant", "thieves-cant"],
                ["stealth", "thieves-tools"]))


@pytest.mark.parametrize("rs", ["2014", "2024"])
def test_expertise_needs_proficiency(rs: str) -> None:
    """SRD 5.1/5.2 Expertise: choose skills in which you have proficiency."""
    langs = (["common", "dwarvish", "elvish", "giant", "thieves-cant"] if rs == "2014"
             else ["common", "dwarvish", "elvish", "thieves-cant", "infernal"])
    fails(rogue(rs, langs, ["stealth", "medicine"]), "choice_invalid")


@pytest.mark.parametrize("rs", ["2014", "2024"])
def test_expertise_too_many_fails(rs: str) -> None:
    """SRD 5.1/5.2 Rogue 1 Expertise: two proficiencies."""
    langs = (["common", "dwarvish", "elvish", "giant", "thieves-cant"] if rs == "2014"
             else ["common", "dwarvish", "elvish", "thieves-cant", "infernal"])
    fails(rogue(rs, langs, ["stealth", "acrobatics", "deception"]), "choice_invalid")


def ranger_2024(level: int, languages: list[str]) -> Data:
    return char("2024", [("ranger", level, None)],
                skills=["arcana", "history", "insight", "stealth", "survival", "nature"],
                languages=languages,
                choices={"expertise": ["stealth"], "fighting-style": "archery"}
                if level >= 2 else {})


def test_2024_deft_explorer_two_languages() -> None:
    """SRD 5.2 Ranger 2, Deft Explorer: Expertise in one skill and two languages."""
    legal(ranger_2024(2, ["common", "dwarvish", "elvish", "sylvan", "draconic"]))


def test_2024_ranger_1_has_no_deft_explorer_languages() -> None:
    """SRD 5.2 Deft Explorer comes at ranger 2."""
    fails(ranger_2024(1, ["common", "dwarvish", "elvish", "sylvan", "draconic"]),
          "language_count_invalid")


def ranger_2014(level: int, languages: list[str]) -> Data:
    enemies = {1: ["dragons"], 6: ["dragons", "giants"]}[level]
    d = char("2014", [("ranger", level, None)],
             skills=["insight", "religion", "stealth", "survival", "nature"],
             languages=languages, choices={"favored-enemy": enemies,
                                           "favored-terrain": enemies and ["forest"]})
    if level >= 6:
        d["choices"].update({"favored-terrain": ["forest", "swamp"],
                             "fighting-style": "archery"})
    return d


def test_2014_favored_enemy_language() -> None:
    """SRD 5.1 Ranger 1, Favored Enemy: one language spoken by the favored enemies."""
    legal(ranger_2014(1, ["common", "dwarvish", "elvish", "giant", "draconic"]))


def test_2014_favored_enemy_language_missing_fails() -> None:
    """SRD 5.1 Favored Enemy's language is a grant: a 1st-level ranger lists 5 here."""
    fails(ranger_2014(1, ["common", "dwarvish", "elvish", "giant"]), "language_count_invalid")


def test_2014_favored_enemy_second_language_at_6() -> None:
    """SRD 5.1 Favored Enemy: an additional favored enemy and language at ranger 6."""
    legal(ranger_2014(6, ["common", "dwarvish", "elvish", "giant", "draconic", "sylvan"]))


def test_2014_favored_enemy_unknown_type_fails() -> None:
    """SRD 5.1 Favored Enemy types: aberrations, beasts, ... undead, or two humanoid races."""
    d = ranger_2014(1, ["common", "dwarvish", "elvish", "giant", "draconic"])
    d["choices"]["favored-enemy"] = ["kobolds"]
    fails(d, "choice_invalid")


# --- hit points and AC from features -----------------------------------------------------

SORC = {"str": 8, "dex": 14, "con": 13, "int": 10, "wis": 12, "cha": 15}


def sorcerer(rs: str, level: int, sub: str | None, hp: int | None) -> Data:
    skills = (["insight", "religion", "arcana", "deception"] if rs == "2014"
              else ["arcana", "history", "perception", "deception", "insight"])
    choices: Data = {"dragon-ancestor": "red"} if (rs == "2014" and sub) else {}
    if rs == "2024" and level >= 2:
        choices["metamagic"] = ["quickened-spell", "twinned-spell"]
    langs = (["common", "dwarvish", "elvish", "giant"] + (["draconic"] if sub else [])
             if rs == "2014" else None)
    return char(rs, [("sorcerer", level, sub)], skills=skills, abilities=SORC, hit_points=hp,
                choices=choices, languages=langs)


def test_2014_draconic_resilience_hp() -> None:
    """SRD 5.1 Draconic Resilience: +1 HP per sorcerer level. d6 + Con 2 + 1 = 9 at 1st."""
    legal(sorcerer("2014", 1, "draconic", 9))


def test_2014_draconic_resilience_hp_over_fails() -> None:
    """SRD 5.1: a 1st-level draconic sorcerer with Con +2 has exactly 9 HP."""
    fails(sorcerer("2014", 1, "draconic", 10), "hit_points_invalid")


def test_2014_sorcerer_without_resilience_hp_fails() -> None:
    """SRD 5.1: without Draconic Resilience, 1st-level HP is 6 + Con modifier (8)."""
    fails(sorcerer("2014", 1, None, 9), "hit_points_invalid")


def test_2014_draconic_resilience_ac_and_language() -> None:
    """SRD 5.1 Draconic Resilience: unarmored AC 13 + Dex; Dragon Ancestor: Draconic."""
    d = sorcerer("2014", 1, "draconic", 9)
    legal(d)
    derived = derive(CharacterDoc.model_validate(d), load_rules("2014"))
    assert derived.armor_class == 13 + 2


def test_2024_draconic_resilience_hp_and_ac() -> None:
    """SRD 5.2 Draconic Resilience (sorcerer 3): HP max +3, +1 per later sorcerer level;
    unarmored AC 10 + Dex + Cha. Con 14: 8 + 8 + 8 + 3 = 27 at most."""
    d = sorcerer("2024", 3, "draconic-sorcery", 27)
    legal(d)
    derived = derive(CharacterDoc.model_validate(d), load_rules("2024"))
    assert derived.armor_class == 10 + 2 + 2


def test_2024_draconic_resilience_hp_over_fails() -> None:
    """SRD 5.2: a 3rd-level draconic sorcerer with Con +2 has at most 27 HP."""
    fails(sorcerer("2024", 3, "draconic-sorcery", 28), "hit_points_invalid")


def test_2024_sorcerer_without_subclass_hp_fails() -> None:
    """SRD 5.2: without Draconic Resilience, a 3rd-level sorcerer (Con +2) has at most 24."""
    fails(sorcerer("2024", 3, None, 27), "hit_points_invalid")


@pytest.mark.parametrize("rs", ["2014", "2024"])
def test_unarmored_defense_barbarian_with_shield(rs: str) -> None:
    """SRD 5.1/5.2 Barbarian Unarmored Defense: 10 + Dex + Con, a shield allowed."""
    base = {"str": 15, "dex": 13, "con": 14, "int": 8, "wis": 12, "cha": 10}
    skills = (["insight", "religion", "athletics", "survival"] if rs == "2014"
              else ["arcana", "history", "perception", "athletics", "survival"])
    d = char(rs, [("barbarian", 1, None)], skills=skills, abilities=base,
             inventory=[{"item": "shield", "equipped": True}])
    legal(d)
    mods = derive(CharacterDoc.model_validate(d), load_rules(rs)).modifiers
    ac = derive(CharacterDoc.model_validate(d), load_rules(rs)).armor_class
    assert ac == 10 + mods["dex"] + mods["con"] + 2


@pytest.mark.parametrize("rs", ["2014", "2024"])
def test_unarmored_defense_monk_not_with_shield(rs: str) -> None:
    """SRD 5.1/5.2 Monk Unarmored Defense: 10 + Dex + Wis, only without armor or shield."""
    base = {"str": 8, "dex": 14, "con": 13, "int": 10, "wis": 15, "cha": 12}
    skills = (["insight", "religion", "acrobatics", "stealth"] if rs == "2014"
              else ["arcana", "history", "perception", "acrobatics", "stealth"])
    d = char(rs, [("monk", 1, None)], skills=skills, abilities=base)
    rules = load_rules(rs)
    derived = derive(CharacterDoc.model_validate(d), rules)
    m = derived.modifiers
    assert derived.armor_class == 10 + m["dex"] + m["wis"]
    d["inventory"] = [{"item": "shield", "equipped": True}]
    assert derive(CharacterDoc.model_validate(d), rules).armor_class == 10 + m["dex"] + 2


# --- always-prepared spells ---------------------------------------------------------------

CLERIC_8 = ["guiding-bolt", "healing-word", "sanctuary", "shield-of-faith", "command", "aid",
            "hold-person", "spirit-guardians"]
LIFE_5 = ["bless", "cure-wounds", "lesser-restoration", "spiritual-weapon", "beacon-of-hope",
          "revivify"]


def life_cleric_2014(sub: str | None) -> Data:
    base = {"str": 14, "dex": 10, "con": 13, "int": 8, "wis": 15, "cha": 12}  # Wis 16: +3
    return char("2014", [("cleric", 5, sub)], skills=["insight", "religion", "history",
                                                      "medicine"], abilities=base,
                spells=spells(*CLERIC_8, *LIFE_5, cls="cleric", prepared=True))


def test_2014_domain_spells_do_not_count() -> None:
    """SRD 5.1 Divine Domain, Domain Spells: always prepared, not counted against the
    Wis modifier + cleric level (3 + 5 = 8) prepared spells."""
    legal(life_cleric_2014("life"))


def test_2014_same_spells_without_domain_fail() -> None:
    """SRD 5.1 Cleric: Wis modifier + level spells prepared (8); 14 is too many."""
    fails(life_cleric_2014(None), "too_many_spells")


def test_2014_oath_spells_always_prepared() -> None:
    """SRD 5.1 Oath of Devotion, Oath Spells (paladin 3): protection from evil and good and
    sanctuary always prepared (sanctuary is not on the paladin list)."""
    base = {"str": 15, "dex": 10, "con": 13, "int": 8, "wis": 12, "cha": 14}  # Cha 15: +2
    d = char("2014", [("paladin", 3, "devotion")], skills=["insight", "religion", "athletics",
                                                           "persuasion"], abilities=base,
             choices={"fighting-style": "defense"},
             spells=spells("bless", "cure-wounds", "divine-favor", cls="paladin", prepared=True)
             + spells("protection-from-evil-and-good", "sanctuary", cls="paladin"))
    legal(d)
    d["classes"][0]["subclass"] = None
    fails(d, "spell_not_available")


def fiend_warlock(sub: str | None) -> Data:
    return char("2024", [("warlock", 3, sub)], skills=["arcana", "history", "perception",
                                                       "deception", "intimidation"],
                spells=spells("eldritch-blast", "mage-hand", cls="warlock")
                + spells("hex", "hellish-rebuke", "misty-step", "darkness", cls="warlock")
                + spells("burning-hands", "command", "scorching-ray", "suggestion",
                         cls="warlock"))


def test_2024_patron_spells_count_as_warlock_spells() -> None:
    """SRD 5.2 Fiend Spells (warlock 3): always prepared and count as warlock spells
    (burning hands is not on the warlock list); warlock 3 prepares 4 others."""
    legal(fiend_warlock("fiend-patron"))


def test_2024_patron_spells_without_patron_fail() -> None:
    """SRD 5.2 Warlock spell list: burning hands is not on it."""
    fails(fiend_warlock(None), "spell_not_available")


def test_2024_hunters_mark_always_prepared() -> None:
    """SRD 5.2 Ranger 1, Favored Enemy: Hunter's Mark always prepared, outside the 2
    prepared spells of ranger 1."""
    d = char("2024", [("ranger", 1, None)], skills=["arcana", "history", "perception",
                                                    "stealth", "survival", "nature"],
             spells=spells("cure-wounds", "ensnaring-strike", "hunters-mark", cls="ranger"))
    legal(d)


def test_2014_ranger_1_casts_no_hunters_mark() -> None:
    """SRD 5.1 Ranger: spellcasting starts at ranger 2."""
    d = char("2014", [("ranger", 1, None)], skills=["insight", "religion", "stealth",
                                                    "survival", "nature"],
             languages=["common", "dwarvish", "elvish", "giant", "draconic"],
             choices={"favored-enemy": ["dragons"], "favored-terrain": ["forest"]},
             spells=spells("hunters-mark", cls="ranger"))
    fails(d, "spell_not_available")


# --- spells from species, feats and items -------------------------------------------------

def high_elf_2014(*cantrips: str) -> Data:
    d = char("2014", [("fighter", 1, None)], skills=["perception", "insight", "religion",
                                                     "athletics", "survival"],
             languages=["common", "elvish", "giant", "dwarvish", "orc"],
             choices={"fighting-style": "archery"},
             spells=spells(*cantrips, source="species"))
    d.update(race="elf", subrace="high-elf",
             ability_bonuses=[{"ability": "dex", "value": 2, "source": "race"},
                              {"ability": "int", "value": 1, "source": "subrace"}])
    return d


def test_2014_high_elf_cantrip() -> None:
    """SRD 5.1 High Elf Cantrip: one cantrip of your choice from the wizard spell list."""
    legal(high_elf_2014("fire-bolt"))


def test_2014_high_elf_two_cantrips_fail() -> None:
    """SRD 5.1 High Elf Cantrip: one cantrip only."""
    fails(high_elf_2014("fire-bolt", "light"), "too_many_spells")


def test_2014_high_elf_cantrip_off_the_wizard_list_fails() -> None:
    """SRD 5.1 High Elf Cantrip: the wizard list (sacred flame is a cleric cantrip)."""
    fails(high_elf_2014("sacred-flame"), "spell_not_available")


def tiefling_2014(level: int, *names: str) -> Data:
    d = char("2014", [("fighter", level, "champion" if level >= 3 else None)],
             skills=["insight", "religion", "athletics", "survival"],
             languages=["common", "infernal", "giant", "dwarvish"],
             choices={"fighting-style": "archery"}, spells=spells(*names, source="species"))
    d.update(race="tiefling", ability_bonuses=[{"ability": "cha", "value": 2, "source": "race"},
                                               {"ability": "int", "value": 1, "source": "race"}])
    return d


def test_2014_infernal_legacy_by_level() -> None:
    """SRD 5.1 Infernal Legacy: thaumaturgy; hellish rebuke at 3rd level; darkness at 5th."""
    legal(tiefling_2014(3, "thaumaturgy", "hellish-rebuke"))
    fails(tiefling_2014(3, "thaumaturgy", "darkness"), "spell_not_available")


def high_elf_2024(level: int, *names: str) -> Data:
    d = char("2024", [("fighter", level, "champion" if level >= 3 else None)],
             skills=["arcana", "history", "perception", "athletics", "survival"],
             choices={"fighting-style": "archery"}, spells=spells(*names, source="species"))
    d.update(species="elf", subspecies="elven-lineage-high-elf")
    return d


def test_2024_elven_lineage_spells_by_level() -> None:
    """SRD 5.2 Elven Lineage, High Elf: Prestidigitation; Detect Magic at character level 3;
    Misty Step at 5 (Keen Senses: Perception)."""
    legal(high_elf_2024(3, "prestidigitation", "detect-magic"))
    fails(high_elf_2024(3, "prestidigitation", "misty-step"), "spell_not_available")


def magic_initiate(rs: str, cls: str, *names: str) -> Data:
    skills = (["insight", "religion", "athletics", "survival"] if rs == "2014"
              else ["arcana", "history", "perception", "athletics", "survival"])
    return char(rs, [("fighter", 1, None)], skills=skills,
                choices={"fighting-style": "archery"},
                spells=spells(*names, cls=cls, source="feat", granted_by="magic-initiate"))


def test_2024_magic_initiate_from_sage() -> None:
    """SRD 5.2 Sage background: Magic Initiate (Wizard): two wizard cantrips and one
    level-1 wizard spell."""
    legal(magic_initiate("2024", "wizard", "fire-bolt", "light", "magic-missile"))


def test_2024_magic_initiate_three_cantrips_fail() -> None:
    """SRD 5.2 Magic Initiate: two cantrips."""
    fails(magic_initiate("2024", "wizard", "fire-bolt", "light", "mage-hand"),
          "too_many_spells")


def test_2024_magic_initiate_wrong_list_fails() -> None:
    """SRD 5.2 Sage: Magic Initiate (Wizard), so cleric spells are not available."""
    fails(magic_initiate("2024", "cleric", "guidance"), "spell_not_available")


def test_2014_no_magic_initiate_in_srd() -> None:
    """SRD 5.1 has one feat (Grappler): no feat grants spells."""
    fails(magic_initiate("2014", "wizard", "fire-bolt"), "spell_not_available")


@pytest.mark.parametrize("rs", ["2014", "2024"])
def test_item_spell_needs_the_item(rs: str) -> None:
    """SRD 5.1/5.2 Wand of Fireballs: its wielder casts fireball from it."""
    skills = (["insight", "religion", "arcana", "history"] if rs == "2014"
              else ["arcana", "history", "perception", "insight", "investigation"])
    d = char(rs, [("wizard", 1, None)], skills=skills,
             inventory=[{"item": "wand-of-fireballs", "attuned": True}],
             spells=spells("fireball", source="item", granted_by="wand-of-fireballs"),
             choices={})
    legal(d)
    d["inventory"] = []
    fails(d, "spell_not_available")


# --- data facts: ammunition, ability maximums, attunement ---------------------------------

@pytest.mark.parametrize(("rs", "slug"), [("2014", "arrow"), ("2024", "arrows")])
def test_ammunition_weighs_per_bundle(rs: str, slug: str) -> None:
    """SRD 5.1/5.2: arrows are sold 20 for 1 gp and the 20 weigh 1 lb."""
    skills = (["insight", "religion", "athletics", "survival"] if rs == "2014"
              else ["arcana", "history", "perception", "athletics", "survival"])
    d = char(rs, [("fighter", 1, None)], skills=skills, choices={"fighting-style": "archery"},
             inventory=[{"item": slug, "quantity": 2000}])
    legal(d)  # 100 lb, under a Str 16 capacity of 240 lb
    assert derive(CharacterDoc.model_validate(d), load_rules(rs)).load == pytest.approx(100)
    d["inventory"] = [{"item": slug, "quantity": 6000}]  # 300 lb
    fails(d, "over_carrying_capacity")


def barbarian(rs: str, level: int, str_feature: int, boon: bool = False) -> Data:
    # SRD 5.2 Primal Knowledge (barbarian 3): one more skill from the barbarian list.
    skills = (["insight", "religion", "athletics", "survival"] if rs == "2014"
              else ["arcana", "history", "perception", "athletics", "survival", "nature"])
    bonuses = [{"ability": "str", "value": 4, "source": "asi", "note": "barbarian 4, 8"},
               {"ability": "con", "value": 4, "source": "asi", "note": "barbarian 12, 16"}]
    if rs == "2014":
        bonuses.append({"ability": "dex", "value": 2, "source": "asi", "note": "barbarian 19"})
    elif boon:
        bonuses.append({"ability": "str", "value": 1, "source": "feat",
                        "note": "boon-of-combat-prowess"})
    if str_feature:
        bonuses += [{"ability": "str", "value": str_feature, "source": "feature",
                     "note": "primal-champion"},
                    {"ability": "con", "value": 4, "source": "feature", "note": "primal-champion"}]
    d = char(rs, [("barbarian", level, None)], skills=skills,
             abilities={"str": 15, "dex": 13, "con": 14, "int": 8, "wis": 12, "cha": 10})
    d["ability_bonuses"] = d["ability_bonuses"] + bonuses
    return d


def test_2014_primal_champion_raises_maximum_to_24() -> None:
    """SRD 5.1 Primal Champion (barbarian 20): Str and Con +4, maximum 24 (Str 16+4+4)."""
    legal(barbarian("2014", 20, 4))


def test_2014_str_24_without_primal_champion_fails() -> None:
    """SRD 5.1: ability scores cannot exceed 20 without such a feature."""
    fails(barbarian("2014", 19, 4), "ability_score_out_of_range")


def test_2024_primal_champion_raises_maximum() -> None:
    """SRD 5.2 Primal Champion (barbarian 20): Str and Con +4, maximum 25; with an Epic
    Boon (+1) at 19: Str 15 + 4 (ASI) + 1 (boon) + 4 = 24."""
    legal(barbarian("2024", 20, 4, boon=True))


def test_2024_primal_champion_overstated_fails() -> None:
    """SRD 5.2 Primal Champion gives +4 to Str, not more."""
    fails(barbarian("2024", 20, 6, boon=True), "ability_bonus_invalid")


def test_2024_epic_boon_maximum_30() -> None:
    """SRD 5.2 Epic Boon feats: +1 to one score, to a maximum of 30."""
    skills = ["arcana", "history", "perception", "insight", "investigation"]
    bonuses = [{"ability": "int", "value": 1, "source": "background"},
               {"ability": "con", "value": 1, "source": "background"},
               {"ability": "wis", "value": 1, "source": "background"},
               {"ability": "int", "value": 4, "source": "asi", "note": "wizard 4, 8"},
               {"ability": "int", "value": 1, "source": "feat", "note": "boon-of-fate"}]
    d = char("2024", [("wizard", 19, None)], skills=skills,
             abilities={"str": 8, "dex": 13, "con": 14, "int": 15, "wis": 12, "cha": 10},
             ability_bonuses=bonuses, choices={"scholar": "arcana"})
    legal(d)  # Int 15 + 1 + 4 + 1 = 21
    d["ability_bonuses"][-1] = {"ability": "int", "value": 1, "source": "asi",
                                "note": "wizard 12"}
    fails(d, "ability_score_out_of_range")


def attuned(rs: str, cls: str, item: str) -> Data:
    skills = {("2014", "paladin"): ["insight", "religion", "athletics", "persuasion"],
              ("2014", "fighter"): ["insight", "religion", "athletics", "survival"],
              ("2014", "wizard"): ["insight", "religion", "arcana", "history"],
              ("2024", "paladin"): ["arcana", "history", "perception", "athletics",
                                    "persuasion"],
              ("2024", "fighter"): ["arcana", "history", "perception", "athletics",
                                    "survival"],
              ("2024", "wizard"): ["arcana", "history", "perception", "insight",
                                   "investigation"]}[(rs, cls)]
    return char(rs, [(cls, 1, None)], skills=skills,
                choices={"fighting-style": "archery"} if cls == "fighter" else {},
                inventory=[{"item": item, "attuned": True}])


@pytest.mark.parametrize("rs", ["2014", "2024"])
def test_attunement_by_a_paladin(rs: str) -> None:
    """SRD 5.1/5.2 Holy Avenger: requires attunement by a paladin."""
    legal(attuned(rs, "paladin", "holy-avenger"))
    fails(attuned(rs, "fighter", "holy-avenger"), "attunement_prerequisite_unmet")


@pytest.mark.parametrize("rs", ["2014", "2024"])
def test_attunement_by_a_spellcaster(rs: str) -> None:
    """SRD 5.1/5.2 Wand of Fireballs: requires attunement by a spellcaster."""
    legal(attuned(rs, "wizard", "wand-of-fireballs"))
    fails(attuned(rs, "fighter", "wand-of-fireballs"), "attunement_prerequisite_unmet")


# --- choices -------------------------------------------------------------------------------

def test_stored_document_without_choices_still_parses() -> None:
    """Documents stored before `choices` existed read with an empty section."""
    from domain.characters.examples import EXAMPLE_2014
    data = {k: v for k, v in EXAMPLE_2014.items() if k != "choices"}
    doc = CharacterDoc.model_validate(data)
    assert doc.choices == {}
    report = validate(doc, load_rules("2014"))
    assert report.valid and codes(report, warnings=True) == {"choice_missing"}


def test_leftover_choice_is_only_a_warning() -> None:
    """A choice no feature offers (the class changed) is ignored, with a warning."""
    d = cleric_2014("life")
    d["choices"] = {"divine-order": "protector"}
    report = legal(d)
    assert "choice_invalid" in codes(report, warnings=True)


@pytest.mark.parametrize("rs", ["2014", "2024"])
def test_fighting_style_defense_adds_ac_in_armor(rs: str) -> None:
    """SRD 5.1/5.2 Fighting Style Defense: +1 AC while wearing armor."""
    skills = (["insight", "religion", "athletics", "survival"] if rs == "2014"
              else ["arcana", "history", "perception", "athletics", "survival"])
    d = char(rs, [("fighter", 1, None)], skills=skills, inventory=ARMOR,
             choices={"fighting-style": "defense"})
    legal(d)
    assert derive(CharacterDoc.model_validate(d), load_rules(rs)).armor_class == 16 + 2 + 1
