"""The loaded rules tables of one ruleset, with the lookups validation needs precomputed."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from domain.rules import constants as C

RulesetName = Literal["2014", "2024"]
Record = dict[str, Any]
# The tables a Rules carries; homebrew entries go into one of them.
TABLES: tuple[str, ...] = (
    "classes", "subclasses", "races", "subraces", "backgrounds", "spells", "items", "feats",
    "languages", "skills",
)


class Rules:
    """One ruleset's tables. Treat as immutable: `domain.homebrew.merge` builds new ones."""

    def __init__(self, data: dict[str, Any], homebrew: frozenset[str] = frozenset()) -> None:
        self.ruleset: RulesetName = data["ruleset"]
        self.skills: dict[str, str] = data["skills"]  # skill -> ability
        self.languages: dict[str, Record] = data["languages"]
        self.classes: dict[str, Record] = data["classes"]
        self.subclasses: dict[str, Record] = data["subclasses"]
        self.races: dict[str, Record] = data["races"]  # 2014 races / 2024 species
        self.subraces: dict[str, Record] = data["subraces"]  # 2014 subraces / 2024 subspecies
        self.backgrounds: dict[str, Record] = data["backgrounds"]
        self.spells: dict[str, Record] = data["spells"]
        self.items: dict[str, Record] = data["items"]
        self.feats: dict[str, Record] = data["feats"]
        self.magic_schools: list[str] = data["magic_schools"]
        self.proficiency_bonus: list[int] = data["proficiency_bonus"]
        self.homebrew: frozenset[str] = homebrew  # slugs that came from homebrew entries
        # Grants every character gets from the ruleset's creation rules (2024 languages).
        self.creation_grants: list[Record] = data.get("creation_grants", [])
        # domain.rules.grants caches each document's grants here (per Rules, so homebrew
        # merged into a new Rules never sees stale grants).
        self.grants_cache: dict[Any, Any] = {}
        self._data = data
        self._index()

    def _index(self) -> None:
        # Spells per class: the spell's own class list plus a (homebrew) class's spell_list.
        class_spells: dict[str, set[str]] = {c: set(r.get("spell_list", ())) for c, r in
                                             self.classes.items()}
        subclass_spells: dict[str, set[str]] = {}
        for slug, sp in self.spells.items():
            for c in sp["classes"]:
                class_spells.setdefault(c, set()).add(slug)
            for s in sp.get("subclasses", ()):
                subclass_spells.setdefault(s, set()).add(slug)
        self.class_spells: dict[str, frozenset[str]] = {
            c: frozenset(s) for c, s in class_spells.items()}
        self.subclass_spells: dict[str, frozenset[str]] = {
            c: frozenset(s) for c, s in subclass_spells.items()}
        # Multiclass spellcaster table: slots by caster level follow the wizard (full) table.
        self.mc_slots: list[list[int]] = self.classes["wizard"]["slots"]
        self.pact_slots: list[list[int]] = self.classes["warlock"]["slots"]
        self.standard_languages: frozenset[str] = frozenset(
            s for s, r in self.languages.items() if r.get("standard"))
        self.container_capacity: dict[str, float | None] = {}
        for slug, item in self.items.items():
            if "capacity" in item:
                self.container_capacity[slug] = item["capacity"]
            elif slug in C.CONTAINER_CAPACITY_LB:
                self.container_capacity[slug] = C.CONTAINER_CAPACITY_LB[slug]
            elif slug in C.CONTAINERS_WITHOUT_WEIGHT_LIMIT:
                self.container_capacity[slug] = None
        self.extradimensional: frozenset[str] = frozenset(
            s for s, it in self.items.items() if it.get("extradimensional")
            or s in C.EXTRADIMENSIONAL)
        self.all_slugs: frozenset[str] = frozenset(
            s for t in TABLES for s in getattr(self, t))

    def table(self, name: str) -> dict[str, Any]:
        return getattr(self, name)

    def data_copy(self) -> dict[str, Any]:
        """A copy of the tables deep enough that adding entries leaves this Rules untouched."""
        out = dict(self._data)
        for t in TABLES:
            out[t] = dict(getattr(self, t))
        return out

    def __repr__(self) -> str:
        extra = f", homebrew={len(self.homebrew)}" if self.homebrew else ""
        return f"Rules({self.ruleset}{extra})"


@lru_cache(maxsize=2)
def load_rules(ruleset: RulesetName) -> Rules:
    """The SRD tables of one ruleset, read once from the packaged JSON."""
    if ruleset not in ("2014", "2024"):
        raise ValueError(f"unknown ruleset {ruleset!r}; expected '2014' or '2024'")
    text = resources.files("domain.rules").joinpath(f"data/srd-{ruleset}.json").read_text(
        encoding="utf-8")
    return Rules(json.loads(text))
