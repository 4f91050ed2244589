"""Checks of known and prepared spells: class lists, spell levels and per-level limits."""

from __future__ import annotations

from domain.rules.checks.context import Context
from domain.rules.derived import class_row
from domain.rules.tables import Record
from domain.sheet import ClassLevel


def _max_slot_level(rec: Record, level: int) -> int:
    row = class_row(rec, "slots", level) or []
    return max((n + 1 for n, v in enumerate(row) if v), default=0)


def check_spells(c: Context) -> None:
    doc, rules = c.doc, c.rules
    if not doc.spells:
        return
    char_classes: dict[str, ClassLevel] = {}
    for cl in doc.classes:  # a class listed twice: the first entry counts
        char_classes.setdefault(cl.class_, cl)
    cantrips: dict[str, list[int]] = {}
    known: dict[str, list[int]] = {}
    prepared: dict[str, list[int]] = {}
    for i, ks in enumerate(doc.spells):
        sp = rules.spells.get(ks.name)
        if sp is None:
            c.err("unknown_reference", f"spells.{i}.name", f"There is no spell {ks.name!r}.",
                  "Remove it or pick a spell from the class list.")
            continue
        rec = rules.classes.get(ks.class_)
        if rec is None:
            c.err("unknown_reference", f"spells.{i}.class",
                  f"There is no class {ks.class_!r}.", "Set the class that knows the spell.")
            continue
        cl = char_classes.get(ks.class_)
        if cl is None:
            c.err("spell_not_available", f"spells.{i}.class",
                  f"{ks.name} is listed under {ks.class_}, which the character has no "
                  "levels in.", "Move the spell to one of the character's classes or remove it.")
            continue
        if rec.get("caster", "none") == "none":
            c.err("spell_not_available", f"spells.{i}.class",
                  f"The {ks.class_} class does not cast spells.", f"Remove {ks.name}.")
            continue
        on_list = ks.name in rules.class_spells.get(ks.class_, ()) or (
            cl.subclass is not None and ks.name in rules.subclass_spells.get(cl.subclass, ()))
        if not on_list:
            c.err("spell_not_available", f"spells.{i}.name",
                  f"{ks.name} is not on the {ks.class_} spell list.",
                  f"Remove {ks.name} or pick a {ks.class_} spell.")
            continue
        if sp["level"] == 0:
            if not class_row(rec, "cantrips", cl.level):
                c.err("spell_not_available", f"spells.{i}.name",
                      f"A level {cl.level} {ks.class_} knows no cantrips.", f"Remove {ks.name}.")
                continue
            cantrips.setdefault(ks.class_, []).append(i)
            continue
        top = _max_slot_level(rec, cl.level)
        if top == 0:
            c.err("spell_not_available", f"spells.{i}.name",
                  f"A level {cl.level} {ks.class_} cannot cast spells yet.",
                  f"Remove {ks.name} until the class gains spell slots.")
            continue
        if sp["level"] > top:
            c.err("spell_level_too_high", f"spells.{i}.name",
                  f"{ks.name} is level {sp['level']}; a level {cl.level} {ks.class_} casts up "
                  f"to level {top}.", f"Pick a spell of level {top} or lower.")
        known.setdefault(ks.class_, []).append(i)
        if ks.prepared is not False:
            prepared.setdefault(ks.class_, []).append(i)
    for slug, cl in char_classes.items():
        rec = rules.classes.get(slug)
        if rec is None or rec.get("caster", "none") == "none":
            continue
        limit = class_row(rec, "cantrips", cl.level) or 0
        _limit(c, cantrips.get(slug, []), limit, f"{slug} cantrips")
        if "spells_known" in rec:
            _limit(c, known.get(slug, []), class_row(rec, "spells_known", cl.level) or 0,
                   f"{slug} spells known")
        elif "prepared" in rec:
            _limit(c, prepared.get(slug, []), class_row(rec, "prepared", cl.level) or 0,
                   f"{slug} prepared spells")
        elif "prepared_formula" in rec:
            lv = cl.level if rec["prepared_formula"] == "full" else cl.level // 2
            limit = max(1, c.mods[rec["spell_ability"]] + lv)
            _limit(c, prepared.get(slug, []), limit, f"{slug} prepared spells")


def _limit(c: Context, indexes: list[int], limit: int, what: str) -> None:
    if len(indexes) > limit:
        c.err("too_many_spells", f"spells.{indexes[limit]}",
              f"{len(indexes)} {what}; the class allows {limit} at its level.",
              f"Remove {len(indexes) - limit} of them (or mark them not prepared).")
