"""What SRD features grant, as facts in Lorekeeper's grant form (used by derive_srd.py).

The 5e-bits files give every feature (slug, class, subclass, level, option lists) but state
what most features grant only in prose. The mechanical facts are written here, keyed by the
SRD feature or trait slug; derive_srd.py takes the level, name and options from the SRD files
and fails when a slug here is not in them. No rules prose: only slugs and numbers.

Grant keys (docs/rules.md, "Grants"): prof, pick, choice, spells, hp, ac, ac_armored, max,
bonus, cantrips. `at` overrides the feature's level (a feature that grows later).
"""

from __future__ import annotations

from typing import Any

G = dict[str, Any]
SKILLS_ANY = "any"


def _ac(base: int, *add: str, shield: bool = True) -> G:
    return {"ac": {"base": base, "add": list(add), "shield": shield}}


# Fighting-style options that change a derived number (the rest are recorded, not computed).
FIGHTING_STYLE_GRANTS: dict[str, list[G]] = {"defense": [{"ac_armored": 1}]}

FEATURES: dict[str, dict[str, list[G]]] = {
    "2014": {
        "barbarian-unarmored-defense": [_ac(10, "dex", "con")],
        "monk-unarmored-defense": [_ac(10, "dex", "wis", shield=False)],
        "primal-champion": [{"max": {"str": 24, "con": 24}, "bonus": {"str": 4, "con": 4}}],
        "bonus-proficiencies": [{"pick": [{"what": "skill", "n": 3, "from": SKILLS_ANY}]}],
        "bonus-proficiency": [{"prof": {"armor": ["heavy"]}}],  # Life Domain
        "bonus-cantrip": [{"cantrips": 1}],  # Circle of the Land
        "thieves-cant": [{"prof": {"language": ["thieves-cant"]}}],
        "druidic": [{"prof": {"language": ["druidic"]}}],
        # Favored Enemy: a language of the favored enemies with each new enemy (1, 6, 14).
        "favored-enemy-1-type": [{"pick": [{"what": "language", "n": 1, "from": "any"}]}],
        "favored-enemy-2-types": [{"pick": [{"what": "language", "n": 1, "from": "any"}]}],
        "favored-enemy-3-enemies": [{"pick": [{"what": "language", "n": 1, "from": "any"}]}],
        "dragon-ancestor": [{"prof": {"language": ["draconic"]}}],
        "draconic-resilience": [{"hp": {"per": "class_level", "value": 1}}, _ac(13, "dex")],
    },
    "2024": {
        "barbarian-unarmored-defense": [_ac(10, "dex", "con")],
        "monk-unarmored-defense": [_ac(10, "dex", "wis", shield=False)],
        "barbarian-primal-champion": [{"max": {"str": 25, "con": 25},
                                       "bonus": {"str": 4, "con": 4}}],
        "monk-body-and-mind": [{"max": {"dex": 25, "wis": 25}, "bonus": {"dex": 4, "wis": 4}}],
        "barbarian-primal-knowledge": [{"pick": [{"what": "skill", "n": 1, "from": "class"}]}],
        "lore-bonus-proficiencies": [{"pick": [{"what": "skill", "n": 3, "from": SKILLS_ANY}]}],
        "rogue-thieves-cant": [{"prof": {"language": ["thieves-cant"]},
                                "pick": [{"what": "language", "n": 1, "from": "any"}]}],
        "druid-druidic": [{"prof": {"language": ["druidic"]}}],
        "ranger-deft-explorer": [{"pick": [{"what": "language", "n": 2, "from": "any"}]}],
        "ranger-favored-enemy": [{"spells": [{"spell": "hunters-mark", "always": True}]}],
        "draconic-sorcery-draconic-resilience": [{"hp": {"per": "class_level", "value": 1}},
                                                 _ac(10, "dex", "cha")],
    },
}

# Feature choices: choice key -> the features that offer it (their SRD slugs), how many each
# adds, and the options. `options` None: taken from the SRD feature's option list.
# `proficient`: each option must be a skill (or tool) the character is proficient in.
CHOICES: dict[str, dict[str, Any]] = {
    "2014": {
        "fighting-style": {"features": {"fighter-fighting-style": 1, "paladin-fighting-style": 1,
                                        "ranger-fighting-style": 1,
                                        "additional-fighting-style": 1},
                           "options": ["archery", "defense", "dueling", "great-weapon-fighting",
                                       "protection", "two-weapon-fighting"]},
        "expertise": {"features": {"bard-expertise-1": 2, "bard-expertise-2": 2,
                                   "rogue-expertise-1": 2, "rogue-expertise-2": 2},
                      "options": "proficient"},
        "favored-enemy": {"features": {"favored-enemy-1-type": 1, "favored-enemy-2-types": 1,
                                       "favored-enemy-3-enemies": 1}},
        "favored-terrain": {"features": {"natural-explorer-1-terrain-type": 1,
                                         "natural-explorer-2-terrain-types": 1,
                                         "natural-explorer-3-terrain-types": 1}},
        "land": {"features": {"circle-of-the-land": 1}},
        "dragon-ancestor": {"features": {"dragon-ancestor": 1}},
        "metamagic": {"features": {"metamagic-1": 2, "metamagic-2": 1, "metamagic-3": 1}},
        "pact-boon": {"features": {"pact-boon": 1}},
        "hunters-prey": {"features": {"hunters-prey": 1}},
        "defensive-tactics": {"features": {"defensive-tactics": 1}},
        "multiattack": {"features": {"multiattack": 1}},
        "superior-hunters-defense": {"features": {"superior-hunters-defense": 1}},
    },
    "2024": {
        "divine-order": {"features": {"cleric-divine-order": 1},
                         "options": ["protector", "thaumaturge"],
                         "grants": {"protector": [{"prof": {"armor": ["heavy"],
                                                            "weapon": ["martial"]}}],
                                    "thaumaturge": [{"cantrips": 1}]}},
        "primal-order": {"features": {"druid-primal-order": 1},
                         "options": ["magician", "warden"],
                         "grants": {"magician": [{"cantrips": 1}],
                                    "warden": [{"prof": {"armor": ["medium"],
                                                         "weapon": ["martial"]}}]}},
        "fighting-style": {"features": {"fighter-fighting-style": 1, "paladin-fighting-style": 1,
                                        "ranger-fighting-style": 1,
                                        "champion-additional-fighting-style": 1},
                           "options": "fighting-style-feats"},
        "expertise": {"features": {"bard-expertise": 2, "rogue-expertise": 2,
                                   "ranger-deft-explorer": 1, "ranger-expertise": 2},
                      "options": "proficient",
                      # SRD 5.2: two more skills at bard 9 and rogue 6.
                      "later": {"bard-expertise": [[9, 2]], "rogue-expertise": [[6, 2]]}},
        "scholar": {"features": {"wizard-scholar": 1}, "proficient": True,
                    "options": ["arcana", "history", "investigation", "medicine", "nature",
                                "religion"]},
        "metamagic": {"features": {"sorcerer-metamagic": 2},
                      "later": {"sorcerer-metamagic": [[10, 2], [17, 2]]},
                      "options": ["careful-spell", "distant-spell", "empowered-spell",
                                  "extended-spell", "heightened-spell", "quickened-spell",
                                  "seeking-spell", "subtle-spell", "transmuted-spell",
                                  "twinned-spell"]},
        "land": {"features": {"land-circle-of-the-land-spells": 1},
                 "options": ["arid", "polar", "temperate", "tropical"]},
    },
}

# SRD 5.2 subclass spell tables the 5e-bits text garbles (Oath of Devotion): level -> spells.
SPELL_TABLE_FIXES: dict[str, dict[int, list[str]]] = {
    "devotion-oath-of-devotion-spells": {
        3: ["protection-from-evil-and-good", "shield-of-faith"],
        5: ["aid", "zone-of-truth"], 9: ["beacon-of-hope", "dispel-magic"],
        13: ["freedom-of-movement", "guardian-of-faith"], 17: ["commune", "flame-strike"]},
}
# 2014 subclass spells that are always prepared (domain, oath, circle spells); the fiend's
# 2014 expanded list only widens the warlock list.
ALWAYS_PREPARED_2014 = frozenset({"life", "devotion", "land"})
# Features holding 2024 always-prepared subclass spell tables.
SPELL_TABLES_2024 = {
    "life-domain-spells": "life-domain",
    "land-circle-of-the-land-spells": "circle-of-the-land",
    "devotion-oath-of-devotion-spells": "oath-of-devotion",
    "draconic-sorcery-draconic-spells": "draconic-sorcery",
    "fiend-patron-fiend-spells": "fiend-patron",
}
# Species spells by character level (SRD 5.1 Infernal Legacy; SRD 5.2 lineages and legacies
# gain a cantrip at 1, a level-1 spell at 3 and a level-2 spell at 5).
SPECIES_SPELLS_2014: dict[str, list[tuple[str, int]]] = {
    "tiefling": [("thaumaturgy", 1), ("hellish-rebuke", 3), ("darkness", 5)],
}
LINEAGE_SPELL_LEVEL = {0: 1, 1: 3, 2: 5}
# Epic Boon feats (SRD 5.2): the ability they raise may go to 30.
EPIC_BOON_MAX = 30
# Magic Initiate (SRD 5.2): two cantrips and one level-1 spell from the chosen list.
MAGIC_INITIATE = {"cantrips": 2, "level1": 1, "lists": ["cleric", "druid", "wizard"]}
