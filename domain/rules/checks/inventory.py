"""Checks of the inventory: items, attunement, armor, containers and carried load."""

from __future__ import annotations

from domain.rules import constants as C
from domain.rules.checks.context import Context
from domain.rules.derived import attuned_count, carrying_capacity, item_weight, load
from domain.sheet import CharacterDoc


def _attune_unmet(c: Context, need: dict[str, list[str]]) -> str | None:
    """Why the character cannot attune to an item with these prerequisites (None: it can).
    Alignment prerequisites are not checked (the document records no alignment)."""
    classes = {slug for _, slug, _, _ in c.classes}
    wanted: list[str] = []
    if "classes" in need:
        if classes & set(need["classes"]):
            return None
        wanted.append(" or ".join(need["classes"]))
    if "spellcaster" in need:
        casters = any(rec.get("caster", "none") != "none" for _, _, _, rec in c.classes)
        if casters or c.grants.origin_spells or any(
                s.source != "class" for s in c.doc.spells):
            return None
        wanted.append("a spellcaster")
    if "races" in need:
        main = c.doc.race if c.rules.ruleset == "2014" else c.doc.species
        if main in need["races"]:
            return None
        wanted.append(" or ".join(need["races"]))
    if not wanted:  # only prerequisites that are not checked
        return None
    return " or ".join(wanted)


def check_inventory(c: Context) -> None:
    doc, rules = c.doc, c.rules
    if not doc.inventory:
        _check_load(c)
        return
    holders = {}
    for i, inv in enumerate(doc.inventory):
        holders.setdefault(inv.item, i)
    contents: dict[str, float] = {}
    for i, inv in enumerate(doc.inventory):
        item = rules.items.get(inv.item)
        if item is None:
            c.err("unknown_reference", f"inventory.{i}.item",
                  f"There is no item {inv.item!r} in these rules.",
                  "Remove it or register it as homebrew.")
        if inv.container is not None:
            if inv.container not in holders or holders[inv.container] == i:
                c.err("unknown_reference", f"inventory.{i}.container",
                      f"The container {inv.container!r} is not in the inventory.",
                      "Add the container to the inventory or clear the container field.")
            elif inv.container not in rules.container_capacity:
                c.err("unknown_reference", f"inventory.{i}.container",
                      f"{inv.container} is not a container.",
                      "Put the item in a backpack, sack, chest or other container.")
            else:
                contents[inv.container] = contents.get(inv.container, 0.0) + (
                    item_weight(rules, inv.item) * inv.quantity)
        if item is None:
            continue
        if inv.attuned and not (item.get("magic") and item.get("attunement")):
            why = "is not magic" if not item.get("magic") else "does not require attunement"
            c.err("attunement_not_allowed", f"inventory.{i}.attuned",
                  f"{inv.item} {why}, so it cannot be attuned.", "Set attuned to false.")
        elif inv.attuned and item.get("attune_by"):
            unmet = _attune_unmet(c, item["attune_by"])
            if unmet:
                c.err("attunement_prerequisite_unmet", f"inventory.{i}.attuned",
                      f"{inv.item} requires attunement by {unmet}.",
                      f"Set attuned to false, or attune it to a character who is {unmet}.")
        armor = item.get("armor")
        if armor is not None and inv.equipped:
            if armor["str_min"] > c.scores["str"]:
                c.warn("armor_strength_requirement", f"inventory.{i}.item",
                       f"{inv.item} needs Str {armor['str_min']}; Str is "
                       f"{c.scores['str']} (speed drops by 10 feet).",
                       f"Raise Str to {armor['str_min']} or wear lighter armor.")
            if armor["category"] not in c.grants.armor:
                c.err("armor_not_proficient", f"inventory.{i}.equipped",
                      f"Nothing the character has grants {armor['category']} armor "
                      f"proficiency for {inv.item}.",
                      "Unequip it, take a class that grants the proficiency first, or record "
                      "the feature choice that grants it (e.g. choices.divine-order: "
                      "protector).")
    attuned = attuned_count(doc)
    if attuned > C.MAX_ATTUNED:
        c.err("attunement_limit_exceeded", "inventory",
              f"{attuned} items are attuned; at most {C.MAX_ATTUNED} can be.",
              f"Set attuned to false on {attuned - C.MAX_ATTUNED} of them.")
    for slug, weight in contents.items():
        # Nested containers: a container's contents include its contents' contents.
        total = weight + _nested(slug, contents, doc, set())
        holder = doc.inventory[holders[slug]]
        cap = rules.container_capacity.get(slug)
        if cap is not None and total > cap * holder.quantity:
            c.err("container_over_capacity", f"inventory.{holders[slug]}",
                  f"{slug} holds {total:g} lb; it can hold {cap * holder.quantity:g} lb.",
                  f"Move {total - cap * holder.quantity:g} lb of items elsewhere.")
    _check_load(c)


def _nested(slug: str, contents: dict[str, float], doc: CharacterDoc, seen: set[str]) -> float:
    seen.add(slug)
    extra = 0.0
    for inv in doc.inventory:
        if inv.container == slug and inv.item in contents and inv.item not in seen:
            extra += contents[inv.item] + _nested(inv.item, contents, doc, seen)
    return extra


def _check_load(c: Context) -> None:
    cap = carrying_capacity(c.doc, c.rules, c.scores["str"])
    carried = load(c.doc, c.rules)
    if carried > cap:
        c.err("over_carrying_capacity", "inventory",
              f"The character carries {carried:g} lb; Str {c.scores['str']} allows {cap:g} lb.",
              f"Drop {carried - cap:g} lb of items or coins, or store them elsewhere.")
