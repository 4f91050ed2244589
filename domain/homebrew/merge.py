"""Homebrew merged into a ruleset's tables, in the SRD-derived record shapes, so that the
rules engine validates and derives homebrew characters with the same code as SRD ones."""

from __future__ import annotations

import math
from typing import Any

from domain.homebrew.entries import (
    HomebrewBackground,
    HomebrewClass,
    HomebrewEntry,
    HomebrewItem,
    HomebrewSpecies,
    HomebrewSpell,
    HomebrewSubclass,
)
from domain.rules.tables import Record, Rules


def _slots_for(entry: HomebrewClass, rules: Rules) -> list[list[int]]:
    if entry.caster == "pact":
        return [list(r) for r in rules.pact_slots]
    out = []
    for level in range(1, 21):
        if entry.caster == "full":
            cl = level
        elif entry.caster == "half":
            cl = math.ceil(level / 2) if rules.ruleset == "2024" else level // 2
        else:
            cl = 0
        out.append(list(rules.mc_slots[cl - 1]) if cl else [0] * 9)
    return out


def _grants(entry: HomebrewEntry) -> list[Record]:
    """Declared grants in the record form of the SRD feature grants."""
    out = []
    for n, g in enumerate(getattr(entry, "grants", ())):
        rec = g.model_dump(mode="json", by_alias=True, exclude_none=True)
        rec = {k: v for k, v in rec.items() if v not in ({}, [])}
        rec["feature"] = f"{entry.slug}-{n + 1}"
        out.append(rec)
    return out


def _record(entry: HomebrewEntry, rules: Rules) -> tuple[str, Record]:
    """The table an entry goes into, and its record in the SRD-derived shape."""
    table, rec = _base_record(entry, rules)
    grants = _grants(entry)
    if grants:
        rec["grants"] = grants
    return table, rec


def _base_record(entry: HomebrewEntry, rules: Rules) -> tuple[str, Record]:
    if isinstance(entry, HomebrewClass):
        rec: Record = {
            "name": entry.name, "hit_die": entry.hit_die, "saves": list(entry.saving_throws),
            "armor": sorted(set(entry.armor)), "mc_armor": sorted(set(entry.multiclass_armor)),
            "mc_prereq": {"all": dict(entry.multiclass_prerequisites)},
            "skill_choice": {"choose": entry.skill_count,
                             "from": sorted(entry.skill_choices or rules.skills)},
            "mc_skill_choice": None, "subclasses": sorted(entry.subclasses),
            "languages": list(entry.languages), "caster": entry.caster,
            "spell_list": list(entry.spell_list), "subclass_level": entry.subclass_level,
        }
        if entry.caster != "none":
            rec["spell_ability"] = entry.spellcasting_ability
            rec["slots"] = _slots_for(entry, rules)
            rec["cantrips"] = list(entry.cantrips_known or [0] * 20)
            if entry.spells_known is not None:
                rec["spells_known"] = list(entry.spells_known)
            elif entry.prepared is not None:
                rec["prepared"] = list(entry.prepared)
            else:
                rec["prepared_formula"] = "half" if entry.caster == "half" else "full"
        return "classes", rec
    if isinstance(entry, HomebrewSubclass):
        return "subclasses", {"name": entry.name, "class": entry.class_, "level": entry.level}
    if isinstance(entry, HomebrewSpecies):
        rec = {
            "name": entry.name, "bonuses": dict(entry.ability_bonuses),
            "languages": sorted(entry.languages),
            "language_choices": ([{"choose": entry.language_choices, "from": "any"}]
                                 if entry.language_choices else []),
            "skills": sorted(entry.skills),
            "skill_choices": ([{"choose": entry.skill_choices,
                                "from": sorted(entry.skill_choice_from or rules.skills)}]
                              if entry.skill_choices else []),
            "hp_per_level": entry.hp_per_level, "powerful_build": entry.powerful_build,
        }
        if entry.bonus_choice_count:
            rec["bonus_choice"] = {"choose": entry.bonus_choice_count,
                                   "amount": entry.bonus_choice_amount,
                                   "from": sorted(a for a in ("str", "dex", "con", "int", "wis",
                                                              "cha")
                                                  if a not in entry.ability_bonuses)}
        if entry.parent:
            rec["parent"] = entry.parent
            return "subraces", rec
        rec.update(size=entry.size, speed=entry.speed)
        return "races", rec
    if isinstance(entry, HomebrewItem):
        rec = {"name": entry.name, "weight": entry.weight, "cost": entry.cost_cp,
               "kind": "magic" if entry.magic else ("armor" if entry.armor else "gear"),
               "magic": entry.magic, "attunement": entry.requires_attunement}
        if entry.armor:
            a = entry.armor
            rec["armor"] = {"category": a.category, "base": a.base_ac,
                            "dex": a.dex_bonus and a.category in ("light", "medium"),
                            "max_dex": a.max_dex if a.category != "light" else None,
                            "str_min": a.str_minimum}
        if entry.ac_bonus:
            rec["ac_bonus"] = entry.ac_bonus
        if entry.capacity_lb is not None:
            rec["capacity"] = entry.capacity_lb
        if entry.extradimensional:
            rec["extradimensional"] = True
        return "items", rec
    if isinstance(entry, HomebrewBackground):
        rec = {"name": entry.name, "skills": sorted(entry.skills),
               "language_choices": ([{"choose": entry.language_choices, "from": "any"}]
                                    if entry.language_choices else [])}
        if entry.abilities:
            rec["abilities"] = list(entry.abilities)
        if entry.feat:
            rec["feat"] = entry.feat
        return "backgrounds", rec
    if isinstance(entry, HomebrewSpell):
        return "spells", {"name": entry.name, "level": entry.level, "school": entry.school,
                          "classes": sorted(entry.classes), "subclasses": []}
    raise TypeError(f"not a homebrew entry: {type(entry).__name__}")


def _check_references(table: str, slug: str, rec: Record, data: dict[str, Any]) -> None:
    def need(kind: str, ref: str, where: str) -> None:
        if ref not in data[kind]:
            raise ValueError(f"homebrew {slug!r}: {where} {ref!r} is not a known {kind[:-1]}")

    skills_ok = data["skills"]
    for g in rec.get("grants", ()):
        prof = g.get("prof", {})
        for s in prof.get("skill", ()):
            need("skills", s, "granted skill")
        for lang in prof.get("language", ()):
            need("languages", lang, "granted language")
        for sp in g.get("spells", ()):
            need("spells", sp["spell"], "granted spell")
        for p in g.get("pick", ()):
            if isinstance(p["from"], list):
                kind = {"skill": "skills", "language": "languages", "spell": "spells"}[p["what"]]
                for ref in p["from"]:
                    need(kind, ref, f"{p['what']} option")
    if table == "classes":
        for s in rec["skill_choice"]["from"]:
            need("skills", s, "skill choice")
        for s in rec.get("spell_list", ()):
            need("spells", s, "spell list entry")
        for lang in rec["languages"]:
            need("languages", lang, "language")
    elif table == "subclasses":
        need("classes", rec["class"], "class")
    elif table in ("races", "subraces", "backgrounds"):
        for s in rec["skills"]:
            if s not in skills_ok:
                raise ValueError(f"homebrew {slug!r}: skill {s!r} is not a known skill")
        for lang in rec.get("languages", ()):
            need("languages", lang, "language")
        if table == "subraces":
            need("races", rec["parent"], "parent")
    elif table == "spells":
        if rec["school"] not in data["magic_schools"]:
            raise ValueError(f"homebrew {slug!r}: unknown magic school {rec['school']!r}")
        for c in rec["classes"]:
            need("classes", c, "class")


def merge_homebrew(rules: Rules, entries: list[HomebrewEntry]) -> Rules:
    """A new Rules with the entries added; `rules` is left untouched. Raises ValueError on a
    slug collision (SRD, earlier homebrew, the batch) or a reference to unknown content."""
    data = rules.data_copy()
    taken = set(rules.all_slugs)
    added: list[tuple[str, str, Record]] = []
    for entry in entries:
        table, rec = _record(entry, rules)
        if entry.slug in taken:
            origin = "homebrew" if entry.slug in rules.homebrew else "SRD"
            if any(entry.slug == s for _, s, _ in added):
                origin = "another homebrew entry in this batch"
            raise ValueError(
                f"homebrew slug {entry.slug!r} collides with {origin} content; "
                "choose a different slug")
        taken.add(entry.slug)
        data[table][entry.slug] = rec
        added.append((table, entry.slug, rec))
    for table, slug, rec in added:
        _check_references(table, slug, rec, data)
        if table == "subclasses":
            cls = dict(data["classes"][rec["class"]])
            if rec["level"] is None:
                rec["level"] = cls.get("subclass_level") or _srd_subclass_level(data, rec["class"])
            cls["subclasses"] = sorted({*cls["subclasses"], slug})
            data["classes"][rec["class"]] = cls
        elif table == "classes":
            for sub in rec["subclasses"]:
                if sub not in data["subclasses"]:
                    data["subclasses"][sub] = {"name": sub.replace("-", " ").title(),
                                               "class": slug, "level": rec["subclass_level"]}
    return type(rules)(data, homebrew=rules.homebrew | {s for _, s, _ in added})


def _srd_subclass_level(data: dict[str, Any], cls: str) -> int:
    levels = [r["level"] for r in data["subclasses"].values()
              if r["class"] == cls and r.get("level")]
    return min(levels) if levels else 3
