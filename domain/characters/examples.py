"""Two valid characters, one per ruleset: the API docs' examples, the base that the rules
tests mutate, and the character of the benchmarks and the README walk-through."""

from __future__ import annotations

from typing import Any

# 2024 rules: a level-3 human wizard (Evoker) with the Sage background, standard array.
EXAMPLE_2024: dict[str, Any] = {
    "name": "Mira Quillfeather",
    "ruleset": "2024",
    "species": "human",
    "background": "sage",
    "classes": [{"class": "wizard", "level": 3, "subclass": "evoker"}],
    "ability_method": "standard_array",
    "base_abilities": {"str": 8, "dex": 13, "con": 14, "int": 15, "wis": 12, "cha": 10},
    "ability_bonuses": [
        {"ability": "int", "value": 2, "source": "background"},
        {"ability": "con", "value": 1, "source": "background"},
    ],
    "xp": 900,
    "hit_points": 20,
    "languages": ["common", "elvish", "dwarvish"],
    "skills": ["arcana", "history", "investigation", "medicine", "insight"],
    "spells": [
        {"name": "fire-bolt", "class": "wizard"},
        {"name": "light", "class": "wizard"},
        {"name": "mage-hand", "class": "wizard"},
        {"name": "magic-missile", "class": "wizard", "prepared": True},
        {"name": "shield", "class": "wizard", "prepared": True},
        {"name": "detect-magic", "class": "wizard", "prepared": True},
        {"name": "misty-step", "class": "wizard", "prepared": True},
        {"name": "sleep", "class": "wizard", "prepared": True},
        {"name": "burning-hands", "class": "wizard", "prepared": False},
    ],
    "inventory": [
        {"item": "quarterstaff", "equipped": True},
        {"item": "spellbook"},
        {"item": "backpack"},
        {"item": "dagger", "container": "backpack"},
        {"item": "rations", "quantity": 3, "container": "backpack"},
    ],
    "currency": {"gp": 20, "sp": 5},
    "choices": {"scholar": "arcana"},
}

# 2014 rules: a level-3 hill dwarf fighter (Champion), Acolyte background, standard array.
EXAMPLE_2014: dict[str, Any] = {
    "name": "Borin Stonebrow",
    "ruleset": "2014",
    "race": "dwarf",
    "subrace": "hill-dwarf",
    "background": "acolyte",
    "classes": [{"class": "fighter", "level": 3, "subclass": "champion"}],
    "ability_method": "standard_array",
    "base_abilities": {"str": 15, "dex": 13, "con": 14, "int": 8, "wis": 12, "cha": 10},
    "ability_bonuses": [
        {"ability": "con", "value": 2, "source": "race"},
        {"ability": "wis", "value": 1, "source": "subrace"},
    ],
    "xp": 900,
    "hit_points": 34,
    "languages": ["common", "dwarvish", "elvish", "giant"],
    "skills": ["insight", "religion", "athletics", "perception"],
    "spells": [],
    "inventory": [
        {"item": "chain-mail", "equipped": True},
        {"item": "shield", "equipped": True},
        {"item": "longsword", "equipped": True},
        {"item": "backpack"},
        {"item": "rations-1-day", "quantity": 5, "container": "backpack"},
        {"item": "rope-hempen-50-feet", "container": "backpack"},
    ],
    "currency": {"gp": 15},
    "choices": {"fighting-style": "dueling"},
}
