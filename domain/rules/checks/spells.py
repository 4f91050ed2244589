"""Checks of known and prepared spells: class lists, spell levels and per-level limits."""

from __future__ import annotations

from domain.rules.checks.context import Context
from domain.rules.derived import class_row
from domain.rules.tables import Record
from domain.sheet import ClassLevel


def _max_slot_level(rec: Record, level: int) -> int:
    row = class_row(rec, "slots", level) or []
    top = 0
    for n, v in enumerate(row):  # type: ignore[arg-type]
        if v:
            top = n + 1
    return top


def check_spells(c: Context) -> None:
    doc, rules, g = c.doc, c.rules, c.grants
    if not doc.spells:
        return
    char_classes: dict[str, ClassLevel] = {}
    for cl in doc.classes:  # a class listed twice: the first entry counts
        char_classes.setdefault(cl.class_, cl)
    cantrips: dict[str, list[int]] = {}
    known: dict[str, list[int]] = {}
    prepared: dict[str, list[int]] = {}
    species_picks: list[int] = []
    tops: dict[str, int] = {}  # class -> highest slot level at its class level
    feat_spells: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for i, ks in enumerate(doc.spells):
        sp = rules.spells.get(ks.name)
        if sp is None:
            c.err("unknown_reference", f"spells.{i}.name", f"There is no spell {ks.name!r}.",
                  "Remove it or pick a spell from the class list.")
            continue
        if ks.source != "class":
            _check_other_source(c, i, sp, species_picks, feat_spells)
            continue
        if ks.class_ is None:
            c.err("unknown_reference", f"spells.{i}.class",
                  f"{ks.name} has source class but names no class.",
                  "Set the class that knows the spell, or the source it comes from "
                  "(species, feat, background, item).")
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
        granted = g.always.get(ks.name)
        if granted is not None and granted[0] == ks.class_:
            continue  # always prepared by a feature: on the list, outside the limits
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
        top = tops.get(ks.class_, -1)
        if top < 0:
            top = tops[ks.class_] = _max_slot_level(rec, cl.level)
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
        limit = (class_row(rec, "cantrips", cl.level) or 0) + g.cantrips.get(slug, 0)
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
    _check_species_picks(c, species_picks)
    _check_feat_counts(c, feat_spells)


def _check_other_source(c: Context, i: int, sp: Record, species_picks: list[int],
                        feat_spells: dict[tuple[str, str], list[tuple[int, int]]]) -> None:
    """A spell from a species, feat, background or item: checked against that source, never
    against a class's limits."""
    ks, g, rules = c.doc.spells[i], c.grants, c.rules
    if ks.source in ("species", "background"):
        if ks.name in g.origin_spells:
            return
        if ks.source == "species" and any(
                allowed is None or ks.name in allowed for _, allowed, _ in
                g.pools.get("spell", ())):
            species_picks.append(i)
            return
        c.err("spell_not_available", f"spells.{i}.source",
              f"The character's {ks.source} does not grant {ks.name} at its level.",
              f"Remove {ks.name}, or list it under the class or feat that grants it.")
    elif ks.source == "feat":
        feats = {f: opt for f, opt in g.feats}
        feat = ks.granted_by or next((f for f in feats if rules.feats.get(f, {}).get(
            "magic_initiate")), None)
        rec = rules.feats.get(feat or "")
        if feat not in feats or rec is None or not rec.get("magic_initiate"):
            c.err("spell_not_available", f"spells.{i}.granted_by",
                  f"No feat of the character grants {ks.name}"
                  + (f" ({feat} is not one of its feats)." if feat else "."),
                  "Name the feat in granted_by (e.g. magic-initiate), or remove the spell.")
            return
        mi = rec["magic_initiate"]
        lists = [feats[feat]] if feats[feat] else mi["lists"]
        if ks.class_ not in lists:
            c.err("spell_not_available", f"spells.{i}.class",
                  f"{feat} gives spells from the {' or '.join(lists)} list; "
                  f"{ks.name} names {ks.class_ or 'no list'}.",
                  f"Set class to {' or '.join(lists)}.")
            return
        if ks.name not in rules.class_spells.get(ks.class_, ()) or sp["level"] > 1:
            c.err("spell_not_available", f"spells.{i}.name",
                  f"{ks.name} is not a cantrip or level-1 spell of the {ks.class_} list.",
                  f"Pick a {ks.class_} cantrip or level-1 spell.")
            return
        feat_spells.setdefault((feat, ks.class_), []).append((i, sp["level"]))
    elif ks.source == "item":
        held = {inv.item for inv in c.doc.inventory}
        item = rules.items.get(ks.granted_by or "")
        if ks.granted_by not in held or item is None or not item.get("magic"):
            c.err("spell_not_available", f"spells.{i}.granted_by",
                  f"{ks.name} comes from an item, but {ks.granted_by or 'no item'} is not a "
                  "magic item in the inventory.",
                  "Set granted_by to the magic item in the inventory that casts it.")


def _check_species_picks(c: Context, picks: list[int]) -> None:
    allowed = sum(n for n, _, _ in c.grants.pools.get("spell", ()))
    if len(picks) > allowed:
        c.err("too_many_spells", f"spells.{picks[allowed]}",
              f"{len(picks)} spells chosen from the species' options; it allows {allowed}.",
              f"Remove {len(picks) - allowed} of them.")


def _check_feat_counts(c: Context, feat_spells: dict[tuple[str, str],
                                                      list[tuple[int, int]]]) -> None:
    for (feat, _), entries in feat_spells.items():
        mi = c.rules.feats[feat]["magic_initiate"]
        for level, limit, what in ((0, mi["cantrips"], "cantrips"),
                                   (1, mi["level1"], "level-1 spells")):
            idx = [i for i, lv in entries if lv == level]
            if len(idx) > limit:
                c.err("too_many_spells", f"spells.{idx[limit]}",
                      f"{len(idx)} {what} from {feat}; it gives {limit}.",
                      f"Remove {len(idx) - limit} of them.")


def _limit(c: Context, indexes: list[int], limit: int, what: str) -> None:
    if len(indexes) > limit:
        c.err("too_many_spells", f"spells.{indexes[limit]}",
              f"{len(indexes)} {what}; the class allows {limit} at its level.",
              f"Remove {len(indexes) - limit} of them (or mark them not prepared).")
