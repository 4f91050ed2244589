"""Values computed from a character document and the rules. Never raises on a parsed document:
unknown slugs are skipped (validation reports them)."""

from __future__ import annotations

import math

from domain.rules import constants as C
from domain.rules.grants import Grants, grants_for
from domain.rules.tables import Record, Rules
from domain.sheet import (
    ABILITIES,
    Ability,
    CharacterDoc,
    Derived,
    InventoryItem,
    SpellSlots,
)


def final_abilities(doc: CharacterDoc) -> dict[Ability, int]:
    scores = doc.base_abilities.as_dict()
    for b in doc.ability_bonuses:
        scores[b.ability] += b.value
    return scores


def modifier(score: int) -> int:
    return (score - 10) // 2


def total_level(doc: CharacterDoc) -> int:
    return sum(cl.level for cl in doc.classes)


def proficiency_bonus(level: int) -> int:
    return 2 + (max(1, min(level, C.MAX_LEVEL)) - 1) // 4


def class_row(rec: Record, key: str, level: int) -> int | list[int] | None:
    """A class table value at a class level (clamped to 1..20); None if the class has none."""
    table = rec.get(key)
    if table is None or level < 1:
        return None
    return table[min(level, C.MAX_LEVEL) - 1]


def half_caster_levels(level: int, ruleset: str) -> int:
    # Multiclass spellcaster: half casters add half their level, rounded per ruleset.
    return math.ceil(level / 2) if ruleset == "2024" else level // 2


def spell_slots(doc: CharacterDoc, rules: Rules) -> SpellSlots:
    casters: list[tuple[Record, int]] = []
    pact_slots = pact_level = 0
    for cl in doc.classes:
        rec = rules.classes.get(cl.class_)
        if rec is None or cl.level < 1:
            continue
        kind = rec.get("caster", "none")
        if kind == "pact":
            row = class_row(rec, "slots", cl.level) or []
            for n, count in enumerate(row):
                if count:
                    pact_slots, pact_level = count, n + 1
        elif kind in ("full", "half"):
            casters.append((rec, cl.level))
    caster_level = 0
    for rec, level in casters:
        caster_level += level if rec["caster"] == "full" else half_caster_levels(
            level, rules.ruleset)
    caster_level = min(caster_level, C.MAX_LEVEL)
    if len(casters) == 1:
        # A single-class caster uses its own table (a half caster's own table differs).
        rec, level = casters[0]
        slots = list(class_row(rec, "slots", level) or [0] * 9)
    elif caster_level:
        slots = list(rules.mc_slots[caster_level - 1])
    else:
        slots = [0] * 9
    return SpellSlots(caster_level=caster_level, slots=slots, pact_slots=pact_slots,
                      pact_slot_level=pact_level)


def _counts_for_ac(inv: InventoryItem, item: Record) -> bool:
    # A ring or cloak of protection works while attuned (or worn, if it needs no attunement).
    return inv.attuned if item.get("attunement") else inv.equipped


def armor_breakdown(doc: CharacterDoc, rules: Rules, mods: dict[Ability, int],
                    grants: Grants) -> list[tuple[str, int]]:
    """AC as (part, value) pairs that add up to it: body armor (with its Dex, capped) or the
    best unarmored formula the grants give (10 + Dex for anyone), shield, magic bonuses and
    armored-only bonuses (Defense fighting style)."""
    dex = mods["dex"]
    body: tuple[str, int] | None = None
    shield: tuple[str, int] | None = None
    bonus: list[tuple[str, int]] = []
    armor_bonus: tuple[str, int] | None = None
    for inv in doc.inventory:
        item = rules.items.get(inv.item)
        if item is None:
            continue
        armor = item.get("armor")
        if armor is not None and inv.equipped:
            if armor["category"] == "shield":
                value = armor["base"] + item.get("ac_bonus", 0)
                if shield is None or value > shield[1]:
                    shield = (item["name"], value)
                continue
            ac = armor["base"]
            if armor["dex"]:
                ac += dex if armor["max_dex"] is None else min(dex, armor["max_dex"])
            ac += item.get("ac_bonus", 0)
            if body is None or ac > body[1]:
                cap = "" if not armor["dex"] else (
                    " + Dex" if armor["max_dex"] is None else f" + Dex (max {armor['max_dex']})")
                body = (f"{item['name']} ({armor['category']}: {armor['base']}{cap})", ac)
        elif item.get("ac_bonus") and _counts_for_ac(inv, item):
            if item.get("bonus_to") == "armor":
                if armor_bonus is None or item["ac_bonus"] > armor_bonus[1]:
                    armor_bonus = (item["name"], item["ac_bonus"])
            else:
                bonus.append((item["name"], item["ac_bonus"]))
    parts: list[tuple[str, int]]
    if body is not None:
        parts = [body]
        if armor_bonus:
            parts.append(armor_bonus)
        parts += [(f"{label}, armored", v) for v, label in grants.ac_armored]
    else:
        best = ("Unarmored: 10 + Dex", 10 + dex)
        for f in grants.ac:
            if shield is not None and not f.shield:
                continue
            value = f.base + sum(mods[a] for a in f.add)  # type: ignore[index]
            if value > best[1]:
                adds = " + ".join(a.title() for a in f.add)
                best = (f"{f.label}: {f.base}{' + ' + adds if adds else ''}", value)
        parts = [best]
    if shield is not None:
        parts.append(shield)
    return parts + bonus


def armor_class(doc: CharacterDoc, rules: Rules, mods: dict[Ability, int],
                grants: Grants | None = None) -> int:
    g = grants if grants is not None else grants_for(doc, rules)
    return sum(v for _, v in armor_breakdown(doc, rules, mods, g))


def carrying_capacity(doc: CharacterDoc, rules: Rules, strength: int) -> float:
    race = rules.races.get((doc.race if rules.ruleset == "2014" else doc.species) or "")
    size = race.get("size", "Medium") if race else "Medium"
    if size not in C.SIZES:
        size = "Medium"
    if race and race.get("powerful_build"):  # counts as one size larger
        size = C.SIZES[min(C.SIZES.index(size) + 1, len(C.SIZES) - 1)]
    return float(max(strength, 0) * C.CARRY_MULTIPLIER[rules.ruleset][size])


def item_weight(rules: Rules, slug: str) -> float:
    item = rules.items.get(slug)
    return float(item["weight"]) if item else 0.0


def load(doc: CharacterDoc, rules: Rules) -> float:
    """Pounds carried: items x quantity (containers and contents), coins at 50 per lb.
    Contents of an extradimensional container (bag of holding) weigh nothing outside."""
    holder = {inv.item: inv for inv in doc.inventory}
    items = rules.items
    extradimensional = rules.extradimensional
    total = 0.0
    for inv in doc.inventory:
        # Walk up the containers; skip the item if any is extradimensional.
        parent = inv.container
        if parent is not None:
            hidden = False
            seen: set[str] = set()
            while parent and parent not in seen and parent in holder:
                if parent in extradimensional:
                    hidden = True
                    break
                seen.add(parent)
                parent = holder[parent].container
            if hidden:
                continue
        item = items.get(inv.item)
        if item is not None:
            total += item["weight"] * inv.quantity
    cur = doc.currency
    coins = cur.cp + cur.sp + cur.ep + cur.gp + cur.pp
    return total + coins / C.COINS_PER_POUND


def attuned_count(doc: CharacterDoc) -> int:
    return sum(inv.quantity for inv in doc.inventory if inv.attuned)


def derive(doc: CharacterDoc, rules: Rules) -> Derived:
    scores = final_abilities(doc)
    mods = {a: modifier(scores[a]) for a in ABILITIES}
    level = total_level(doc)
    return Derived(
        abilities=scores,
        modifiers=mods,
        total_level=level,
        proficiency_bonus=proficiency_bonus(level),
        spell_slots=spell_slots(doc, rules),
        armor_class=armor_class(doc, rules, mods),
        carrying_capacity=carrying_capacity(doc, rules, scores["str"]),
        load=round(load(doc, rules), 4),
        attuned_items=attuned_count(doc),
    )
