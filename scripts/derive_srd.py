"""Derive Lorekeeper's compact rules tables from the SRD JSON (dev-time only).

Usage: python scripts/derive_srd.py ../shared/srd

Reads the 5e-bits SRD 5.1 (2014/) and SRD 5.2 (2024/) JSON and writes
domain/rules/data/srd-2014.json and srd-2024.json: facts only (slugs, names, numbers,
tables, prerequisites), never rules prose. Output is deterministic (sorted keys).
Feature grants (what a class/subclass/species feature gives: proficiencies, choices, spells,
hit points, AC formulas, ability maximums) take the feature's slug, level, name and options
from the SRD files and the mechanical facts from scripts/srd_grants.py (docs/rules.md,
"Grants").
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import srd_grants as SG

OUT_DIR = Path(__file__).resolve().parent.parent / "domain" / "rules" / "data"
ABILITIES = ("str", "dex", "con", "int", "wis", "cha")
COIN_CP = {"cp": 1, "sp": 10, "ep": 50, "gp": 100, "pp": 1000}
ARMOR_PROFS = {
    "light-armor": ["light"],
    "medium-armor": ["medium"],
    "heavy-armor": ["heavy"],
    "all-armor": ["light", "medium", "heavy"],
    "shields": ["shield"],
}
SECRET_LANGUAGE_NAMES = {"druidic": "Druidic", "thieves-cant": "Thieves' Cant"}
# Numbers stated in magic-item text that the data has no field for.
MAGIC_ITEM_WEIGHTS = {"bag-of-holding": 15, "handy-haversack": 5, "portable-hole": 0}
MAGIC_AC_BONUS = {"ring-of-protection": 1, "cloak-of-protection": 1}
# Known data error in the 2024 files (see the SRD README).
WEIGHT_FIXES = {"2024": {"chain-shirt": 20}}
# SRD 5.1 Dwarf: speed is not reduced by wearing heavy armor.
UNSLOWED_BY_HEAVY_ARMOR = {"2014": {"dwarf"}}
# SRD 5.2 Sage: Magic Initiate (Wizard); the 5e-bits file leaves the feat's list out.
FEAT_OPTION_FIXES = {"2024": {"sage": "wizard"}}
# Weapon proficiency indexes: a category, or a weapon group named in the plural.
WEAPON_PROFS = {"simple-weapons": "simple", "martial-weapons": "martial"}
WEAPON_PLURALS = {"crossbows-light": "light-crossbow", "crossbows-hand": "hand-crossbow",
                  "hand-crossbows": "hand-crossbow"}


def weapon_prof(index: str) -> str | None:
    if index in WEAPON_PROFS:
        return WEAPON_PROFS[index]
    if index in WEAPON_PLURALS:
        return WEAPON_PLURALS[index]
    if index.startswith(("saving-throw-", "skill-", "tool-")) or index in ARMOR_PROFS:
        return None
    if index.endswith("s") and not index.endswith(("kit", "tools", "supplies")):
        return index[:-1]  # "longswords" -> "longsword"
    return None


def tool_prof(index: str) -> str | None:
    if index.startswith("tool-"):
        return index[len("tool-"):]
    if index.endswith(("-kit", "-tools", "-supplies")):
        return index
    return None


def feature_level(f: dict[str, Any]) -> int:
    lv = f["level"]
    return lv if isinstance(lv, int) else int(str(lv["index"]).rsplit("-", 1)[1])


def load(root: Path, ruleset: str, name: str) -> list[dict[str, Any]]:
    return json.loads((root / ruleset / f"5e-SRD-{name}.json").read_text(encoding="utf-8"))


def skill_slug(index: str) -> str | None:
    if index.startswith("skill-"):
        return index[len("skill-"):]
    return None


def option_indexes(choice: dict[str, Any]) -> list[str]:
    out = []
    for opt in choice.get("from", {}).get("options", []):
        item = opt.get("item") or opt.get("of") or {}
        if "index" in item:
            out.append(item["index"])
    return out


def skill_choice(choice: dict[str, Any], all_skills: list[str]) -> dict[str, Any] | None:
    """A proficiency choice of skills as {"choose": n, "from": [skills]} (None if not skills)."""
    idx = option_indexes(choice)
    skills = []
    for i in idx:
        s = skill_slug(i) or (i if i in all_skills else None)
        if s is None:
            return None
        skills.append(s)
    if not skills:
        return None
    return {"choose": choice["choose"], "from": sorted(set(skills))}


def language_choice(choice: dict[str, Any] | None) -> dict[str, Any] | None:
    if not choice:
        return None
    src = choice.get("from", {})
    if src.get("option_set_type") == "resource_list":
        return {"choose": choice["choose"], "from": "any"}
    return {"choose": choice["choose"], "from": sorted(option_indexes(choice))}


def bonuses(entries: list[dict[str, Any]]) -> dict[str, int]:
    return {b["ability_score"]["index"]: b["bonus"] for b in entries}


def cost_cp(cost: dict[str, Any] | None) -> int:
    if not cost:
        return 0
    return int(cost["quantity"] * COIN_CP[cost["unit"]])


def derive_traits(root: Path, ruleset: str, skills: list[str],
                  spell_levels: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Per race/subrace/species/subspecies: the grants of its traits (skills, skill and
    language choices, spells, hit points) and its build."""
    grants: dict[str, dict[str, Any]] = {}
    for t in load(root, ruleset, "Traits"):
        owners = [o["index"] for key in ("races", "subraces", "species", "subspecies")
                  for o in t.get(key, [])]
        if ruleset == "2024" and t.get("subspecies"):  # lineage traits: the subspecies only
            owners = [o["index"] for o in t["subspecies"]]
        for owner in owners:
            g = grants.setdefault(owner, {"grants": []})
            grant: dict[str, Any] = {}
            fixed = sorted(s for p in t.get("proficiencies", []) or []
                           if (s := skill_slug(p["index"])))
            if fixed:
                grant.setdefault("prof", {})["skill"] = fixed
            pc = t.get("proficiency_choices")
            if pc and (sc := skill_choice(pc, skills)):
                grant.setdefault("pick", []).append(
                    {"what": "skill", "n": sc["choose"], "from": sc["from"]})
            lc = language_choice(t.get("language_options"))
            if lc:
                grant.setdefault("pick", []).append(
                    {"what": "language", "n": lc["choose"], "from": lc["from"]})
            if t["index"] == "dwarven-toughness":
                grant["hp"] = {"per": "level", "value": 1}
            spell_opts = (t.get("trait_specific") or {}).get("spell_options")
            if spell_opts:  # 2014 high elf: one cantrip from a list
                grant.setdefault("pick", []).append(
                    {"what": "spell", "n": spell_opts["choose"],
                     "from": sorted(option_indexes(spell_opts))})
            for sp in t.get("spells", []) or []:
                slug = sp["spell"]["index"]
                if slug not in spell_levels:
                    continue
                at = SG.LINEAGE_SPELL_LEVEL.get(spell_levels[slug], 1)
                grant.setdefault("spells", []).append({"spell": slug, "at": at})
            if t["index"] == "powerful-build":
                g["powerful_build"] = True
            if grant:
                g["grants"].append({"feature": t["index"], "name": t["name"], "at": 1, **grant})
    if ruleset == "2014":
        for owner, spells in SG.SPECIES_SPELLS_2014.items():
            g = grants.setdefault(owner, {"grants": []})
            g["grants"].append({"feature": "infernal-legacy", "name": "Infernal Legacy", "at": 1,
                                "spells": [{"spell": s, "at": at} for s, at in spells]})
    return grants


def _spell_table(text: str, names: dict[str, str]) -> dict[str, dict[int, list[str]]]:
    """Spell tables in 2024 subclass text: "3 Aid, Bless," lines (a line without a leading
    level continues the one before); "Arid Land" headings start a new table."""
    tables: dict[str, dict[int, list[str]]] = {}
    current = tables.setdefault("", {})
    level = 0
    for line in text.splitlines():
        line = line.strip()
        head = re.fullmatch(r"(\w+) Land", line)
        if head:
            current = tables.setdefault(head.group(1).lower(), {})
            continue
        m = re.match(r"^(\d+) (.+)$", line)
        if m:
            level, rest = int(m.group(1)), m.group(2)
        elif level and ("," in line or line.lower().replace("\u2019", "'") in names):
            rest = line
        else:
            continue
        for part in rest.split(","):
            key = part.strip().lower().replace("\u2019", "'")
            if key in names:
                current.setdefault(level, []).append(names[key])
    return {k: v for k, v in tables.items() if v}


def _options(f: dict[str, Any]) -> list[str]:
    """The option slugs of a 2014 feature's choice (subfeatures, enemy or terrain types)."""
    spec = f.get("feature_specific") or {}
    for key in ("subfeature_options", "enemy_type_options", "terrain_type_options"):
        if key in spec:
            opts = spec[key]["from"]["options"]
            out = [o if isinstance(o, str) else o["item"]["index"] for o in opts]
            parent = f["index"]
            # "dragon-ancestor-black---acid-damage" -> "black"; "metamagic-careful-spell" ->
            # "careful-spell"; "circle-of-the-land-arctic" -> "arctic"
            short = []
            for o in out:
                for prefix in (parent + "-", "metamagic-", "hunters-prey-",
                               "defensive-tactics-", "multiattack-",
                               "superior-hunters-defense-"):
                    if o.startswith(prefix):
                        o = o[len(prefix):]
                        break
                short.append(o.split("---")[0])
            return sorted(set(short))
    return []


def feature_grants(root: Path, ruleset: str, spell_by_name: dict[str, str],
                   feats: list[dict[str, Any]]) -> tuple[dict[str, list], dict[str, list]]:
    """Grants of class and subclass features, keyed by class / subclass slug: the facts of
    srd_grants.FEATURES and CHOICES at the level and under the name the SRD files give, and
    the always-prepared subclass spells."""
    features = {f["index"]: f for f in load(root, ruleset, "Features")}
    by_class: dict[str, list[dict[str, Any]]] = {}
    by_sub: dict[str, list[dict[str, Any]]] = {}

    def add(f: dict[str, Any], grant: dict[str, Any]) -> None:
        owner = f.get("subclass")
        g = {"feature": f["index"], "name": f["name"], "at": feature_level(f), **grant}
        if owner:
            by_sub.setdefault(owner["index"], []).append(g)
        else:
            by_class.setdefault(f["class"]["index"], []).append(g)

    def need(slug: str) -> dict[str, Any]:
        if slug not in features:
            raise SystemExit(f"srd_grants names {slug!r}, which is not an SRD {ruleset} feature")
        return features[slug]

    for slug, grants in SG.FEATURES[ruleset].items():
        for grant in grants:
            add(need(slug), dict(grant))
    style_feats = sorted(f["index"] for f in feats if f.get("type") == "fighting-style")
    for key, spec in SG.CHOICES[ruleset].items():
        for slug, n in spec["features"].items():
            f = need(slug)
            options = spec.get("options")
            if options is None:
                options = _options(f)
            elif options == "fighting-style-feats":
                options = style_feats
            choice: dict[str, Any] = {"key": key, "n": n}
            if options == "proficient":
                choice["proficient"] = True
            else:
                choice["options"] = list(options)
                if spec.get("proficient"):
                    choice["proficient"] = True
            if "grants" in spec:
                choice["grants"] = spec["grants"]
            elif key == "fighting-style":
                choice["grants"] = SG.FIGHTING_STYLE_GRANTS
            add(f, {"choice": choice})
            for at, more in spec.get("later", {}).get(slug, []):
                add(f, {"at": at, "choice": {**choice, "n": more}})
    if ruleset == "2014":
        for s in load(root, ruleset, "Subclasses"):
            if s["index"] not in SG.ALWAYS_PREPARED_2014:
                continue
            spells = []
            for sp in s.get("spells", []):
                at, land = 1, None
                for pre in sp["prerequisites"]:
                    if pre["type"] == "level":
                        at = int(pre["index"].rsplit("-", 1)[1])
                    elif pre["index"].startswith("circle-of-the-land-"):
                        land = pre["index"][len("circle-of-the-land-"):]
                entry: dict[str, Any] = {"spell": sp["spell"]["index"], "at": at,
                                         "always": True}
                if land:
                    entry["when"] = {"land": land}
                spells.append(entry)
            by_sub.setdefault(s["index"], []).append(
                {"feature": f"{s['index']}-spells", "name": f"{s['name']} spells", "at": 1,
                 "spells": spells})
    else:
        for slug, sub in SG.SPELL_TABLES_2024.items():
            f = need(slug)
            subclass = next(s for s in load(root, ruleset, "Subclasses") if s["index"] == sub)
            text = next(ft["description"] for ft in subclass["features"]
                        if ft["name"].startswith(f["name"].split(" Whenever")[0]))
            tables = ({"": SG.SPELL_TABLE_FIXES[slug]} if slug in SG.SPELL_TABLE_FIXES
                      else _spell_table(text, spell_by_name))
            spells = []
            for land, rows in sorted(tables.items()):
                for at, names in sorted(rows.items()):
                    for name in names:
                        entry = {"spell": name, "at": at, "always": True}
                        if land:
                            entry["when"] = {"land": land}
                        spells.append(entry)
            add(f, {"spells": spells})
    return by_class, by_sub


def derive_classes(root: Path, ruleset: str, skills: list[str]) -> tuple[dict, dict]:
    levels = load(root, ruleset, "Levels")
    sub_level: dict[str, int] = {}
    rows: dict[str, dict[int, dict[str, Any]]] = {}
    for lv in levels:
        if lv.get("subclass"):
            s = lv["subclass"]["index"]
            sub_level[s] = min(sub_level.get(s, 99), lv["level"])
            continue
        rows.setdefault(lv["class"]["index"], {})[lv["level"]] = lv

    classes: dict[str, Any] = {}
    for c in load(root, ruleset, "Classes"):
        slug = c["index"]
        armor = sorted({a for p in c["proficiencies"] for a in ARMOR_PROFS.get(p["index"], [])})
        mc = c.get("multi_classing", {})
        mc_armor = sorted({a for p in mc.get("proficiencies", [])
                           for a in ARMOR_PROFS.get(p["index"], [])})
        if "prerequisites" in mc:
            prereq = {"all": {p["ability_score"]["index"]: p["minimum_score"]
                              for p in mc["prerequisites"]}}
        else:
            opts = mc.get("prerequisite_options", {}).get("from", {}).get("options", [])
            prereq = {"any": {o["ability_score"]["index"]: o["minimum_score"] for o in opts}}
        choice = next((sc for pc in c.get("proficiency_choices", [])
                       if (sc := skill_choice(pc, skills))), None)
        mc_choice = next((sc for pc in mc.get("proficiency_choices", [])
                          if (sc := skill_choice(pc, skills))), None)
        table = rows.get(slug, {})
        prof = [table[i]["prof_bonus"] for i in range(1, 21)]
        cantrips, known, prepared, slots = [], [], [], []
        for i in range(1, 21):
            sc = table[i].get("spellcasting") or {}
            cantrips.append(sc.get("cantrips_known", 0))
            known.append(sc.get("spells_known"))
            prepared.append(sc.get("prepared_spells"))
            slots.append([sc.get(f"spell_slots_level_{n}", 0) for n in range(1, 10)])
        entry: dict[str, Any] = {
            "name": c["name"],
            "hit_die": c["hit_die"],
            "saves": [s["index"] for s in c["saving_throws"]],
            "armor": armor,
            "mc_armor": mc_armor,
            "mc_prereq": prereq,
            "skill_choice": choice,
            "mc_skill_choice": mc_choice,
            "subclasses": sorted(s["index"] for s in c.get("subclasses", [])),
            "weapons": sorted({w for p in c["proficiencies"] if (w := weapon_prof(p["index"]))}),
            "mc_weapons": sorted({w for p in mc.get("proficiencies", [])
                                  if (w := weapon_prof(p["index"]))}),
            "tools": sorted({t for p in c["proficiencies"] if (t := tool_prof(p["index"]))}),
            "mc_tools": sorted({t for p in mc.get("proficiencies", [])
                                if (t := tool_prof(p["index"]))}),
            "caster": "none",
        }
        if "spellcasting" in c:
            top = slots[19]
            max_level = max((n + 1 for n, v in enumerate(top) if v), default=0)
            if slots[4][0] == 0 and slots[4][2] > 0:
                caster = "pact"  # one slot level at a time: Pact Magic
            elif max_level == 9:
                caster = "full"
            else:
                caster = "half"
            entry.update(
                caster=caster,
                spell_ability=c["spellcasting"]["spellcasting_ability"]["index"],
                cantrips=cantrips,
                slots=slots,
            )
            if any(v is not None for v in known):
                entry["spells_known"] = [v or 0 for v in known]
            if any(v is not None for v in prepared):
                entry["prepared"] = [v or 0 for v in prepared]
            if "spells_known" not in entry and "prepared" not in entry:
                # 2014 prepared casters: ability modifier + class level (half for half casters).
                entry["prepared_formula"] = "half" if caster == "half" else "full"
        classes[slug] = entry
    subclasses = {}
    for s in load(root, ruleset, "Subclasses"):
        subclasses[s["index"]] = {
            "name": s["name"],
            "class": s["class"]["index"],
            "level": sub_level.get(s["index"], 3),
        }
    return classes, {"prof": prof, "subclasses": subclasses}


CLASS_SLUGS = ("barbarian", "bard", "cleric", "druid", "fighter", "monk", "paladin", "ranger",
               "rogue", "sorcerer", "warlock", "wizard")


def attune_by(text: str) -> dict[str, list[str]]:
    """"a cleric, druid, or paladin" -> classes; "spellcaster"; "dwarf" -> races; an
    alignment is kept as text (the document records no alignment)."""
    words = [w.strip().lower() for w in re.split(r",|\bor\b", text) if w.strip()]
    words = [re.sub(r"^(a|an|creature of)\s+", "", w) for w in words]
    out: dict[str, list[str]] = {}
    for w in words:
        if w in CLASS_SLUGS:
            out.setdefault("classes", []).append(w)
        elif w == "spellcaster":
            out["spellcaster"] = []
        elif w in ("dwarf", "elf", "halfling", "human", "gnome"):
            out.setdefault("races", []).append(w)
        else:
            out.setdefault("other", []).append(w)
    return out


def weapon_facts(e: dict[str, Any], cats: list[str]) -> dict[str, Any]:
    props = sorted(p["index"] for p in e.get("properties", []))
    category = e.get("weapon_category") or ("martial" if any("martial" in c for c in cats)
                                            else "simple")
    ranged = e.get("weapon_range") == "Ranged" or any(c.endswith("ranged-weapons")
                                                     for c in cats)
    dmg = e.get("damage") or {}
    out: dict[str, Any] = {
        "category": category.lower(),
        "ranged": ranged,
        "damage": dmg.get("damage_dice", ""),
        "damage_type": (dmg.get("damage_type") or {}).get("index", ""),
        "properties": props,
    }
    two = e.get("two_handed_damage")
    if two:
        out["versatile"] = two["damage_dice"]
    elif "versatile" in props:
        for p in e.get("properties", []):
            if p["index"] == "versatile" and p.get("notes"):
                out["versatile"] = p["notes"]
    return out


def derive_items(root: Path, ruleset: str) -> dict[str, Any]:
    items: dict[str, Any] = {}
    raw = load(root, ruleset, "Equipment")
    by_slug = {e["index"]: e for e in raw}
    fixes = WEIGHT_FIXES.get(ruleset, {})
    for e in raw:
        cats = ([e["equipment_category"]["index"]] if "equipment_category" in e
                else [c["index"] for c in e["equipment_categories"]])
        weight = e.get("weight")
        if weight is None and e.get("contents"):  # packs: the weight of their contents
            weight = sum((by_slug.get(c["item"]["index"], {}).get("weight") or 0) * c["quantity"]
                         for c in e["contents"])
        weight = fixes.get(e["index"], weight)
        item: dict[str, Any] = {"name": e["name"], "weight": weight or 0,
                                "cost": cost_cp(e.get("cost"))}
        ammo = (e.get("gear_category") or {}).get("index") == "ammunition" or "ammunition" in cats
        if ammo and (e.get("quantity") or 1) > 1:
            # Sold in bundles (20 arrows weigh 1 lb): the weight of one piece.
            item["bundle"] = e["quantity"]
            item["weight"] = round((weight or 0) / e["quantity"], 6)
        if "armor" in cats:
            cat = e.get("armor_category")
            if cat is None:
                cat = next(c.split("-")[0] for c in cats if c != "armor")
            cat = {"shields": "shield"}.get(cat.lower(), cat.lower())
            ac = e["armor_class"]
            if cat == "light" and ac.get("max_bonus") == 2:
                # SRD 5.2 hide armor is Medium armor (its Dex cap of 2 is the medium rule); the
                # 5e-bits 2024 file files it under light armor.
                cat = "medium"
            item["kind"] = "armor"
            item["armor"] = {
                "category": cat,
                "base": ac["base"],
                "dex": bool(ac.get("dex_bonus")),
                "max_dex": ac.get("max_bonus") or None,
                "str_min": e.get("str_minimum") or 0,
            }
        elif any(c in ("weapon", "weapons") for c in cats):
            item["kind"] = "weapon"
            item["weapon"] = weapon_facts(e, cats)
        elif "tools" in cats:
            item["kind"] = "tool"
        elif "mounts-and-vehicles" in cats:
            item["kind"] = "mount"
        else:
            item["kind"] = "gear"
        items[e["index"]] = item
    for m in load(root, ruleset, "Magic-Items"):
        slug = m["index"]
        if slug in items:  # e.g. 2024 "shield": the mundane entry wins
            continue
        text = " ".join(m["desc"]) if isinstance(m["desc"], list) else m["desc"]
        by = None
        if "attunement" in m:
            attune = bool(m["attunement"])
            by = m.get("limited-to")
        else:
            attune = bool(re.search(r"requires attunement", text, re.IGNORECASE))
            found = re.search(r"requires attunement by an? ([^)]*)\)", text, re.IGNORECASE)
            by = found.group(1) if found else None
        item = {"name": m["name"], "weight": MAGIC_ITEM_WEIGHTS.get(slug, 0), "cost": 0,
                "kind": "magic", "magic": True, "attunement": attune}
        if attune and by:
            item["attune_by"] = attune_by(by)
        plus = re.fullmatch(r"(armor|shield)-([123])", slug)
        if plus:
            item["ac_bonus"] = int(plus.group(2))
            if plus.group(1) == "armor":
                item["bonus_to"] = "armor"  # +N to the body armor worn with it
            else:
                item["armor"] = {"category": "shield", "base": 2, "dex": False,
                                 "max_dex": None, "str_min": 0}
                item["weight"] = 6
        if slug in MAGIC_AC_BONUS:
            item["ac_bonus"] = MAGIC_AC_BONUS[slug]
        items[slug] = item
    return items


def derive(root: Path, ruleset: str) -> dict[str, Any]:
    skills = {s["index"]: s["ability_score"]["index"] for s in load(root, ruleset, "Skills")}
    skill_list = sorted(skills)
    raw_spells = load(root, ruleset, "Spells")
    spell_levels = {s["index"]: s["level"] for s in raw_spells}
    spell_by_name = {s["name"].lower().replace("\u2019", "'"): s["index"] for s in raw_spells}
    grants = derive_traits(root, ruleset, skill_list, spell_levels)
    feats = load(root, ruleset, "Feats")
    class_grants, sub_grants = feature_grants(root, ruleset, spell_by_name, feats)

    languages: dict[str, Any] = {}
    for lang in load(root, ruleset, "Languages"):
        if ruleset == "2014":
            standard = lang.get("type") == "Standard"
        else:
            standard = not lang.get("is_rare") and lang["index"] not in SECRET_LANGUAGE_NAMES
        languages[lang["index"]] = {"name": lang["name"], "standard": standard,
                                    "secret": lang["index"] in SECRET_LANGUAGE_NAMES}
    for slug, name in SECRET_LANGUAGE_NAMES.items():
        languages.setdefault(slug, {"name": name, "standard": False, "secret": True})

    classes, extra = derive_classes(root, ruleset, skill_list)
    spells: dict[str, Any] = {}
    for s in raw_spells:
        spells[s["index"]] = {
            "name": s["name"],
            "level": s["level"],
            "school": s["school"]["index"],
            "classes": sorted(c["index"] for c in s.get("classes", [])),
            "subclasses": sorted(c["index"] for c in s.get("subclasses", [])),
        }

    def origin(entry: dict[str, Any], parent: str | None) -> dict[str, Any]:
        g = grants.get(entry["index"], {})
        lc = language_choice(entry.get("language_options"))
        out: dict[str, Any] = {
            "name": entry["name"],
            "bonuses": bonuses(entry.get("ability_bonuses", [])),
            "languages": sorted(lang["index"] for lang in entry.get("languages", [])),
            "language_choices": [lc] if lc else [],
            "powerful_build": g.get("powerful_build", False),
            "grants": g.get("grants", []),
        }
        if entry["index"] in UNSLOWED_BY_HEAVY_ARMOR.get(ruleset, ()):
            out["unslowed_by_armor"] = True
        if parent is None:
            out["size"] = entry.get("size", "Medium")
            out["speed"] = entry.get("speed", 30)
        else:
            out["parent"] = parent
        abo = entry.get("ability_bonus_options")
        if abo:
            opts = abo["from"]["options"]
            out["bonus_choice"] = {
                "choose": abo["choose"],
                "amount": opts[0]["bonus"],
                "from": sorted(o["ability_score"]["index"] for o in opts),
            }
        return out

    data: dict[str, Any] = {
        "ruleset": ruleset,
        "skills": skills,
        "languages": languages,
        "classes": classes,
        "subclasses": extra["subclasses"],
        "proficiency_bonus": extra["prof"],
        "spells": spells,
        "magic_schools": sorted(s["index"] for s in load(root, ruleset, "Magic-Schools")),
        "items": derive_items(root, ruleset),
    }
    data["feats"] = {}
    for f in feats:
        rec: dict[str, Any] = {"name": f["name"], "type": f.get("type", "general")}
        if rec["type"] == "epic-boon":
            rec["grants"] = [{"feature": f["index"], "name": f["name"], "at": 1,
                              "max_bonus": SG.EPIC_BOON_MAX}]
        if f["index"] == "magic-initiate":
            rec["magic_initiate"] = SG.MAGIC_INITIATE
        data["feats"][f["index"]] = rec
    for slug, g in class_grants.items():
        data["classes"][slug]["grants"] = g
    for slug, g in sub_grants.items():
        data["subclasses"][slug]["grants"] = g
    if ruleset == "2024":
        # SRD 5.2 character creation: Common plus two standard languages.
        data["creation_grants"] = [{
            "feature": "languages", "name": "Languages", "at": 1,
            "prof": {"language": ["common"]},
            "pick": [{"what": "language", "n": 2, "from": "standard"}]}]
    if ruleset == "2014":
        data["races"] = {r["index"]: origin(r, None) for r in load(root, ruleset, "Races")}
        data["subraces"] = {s["index"]: origin(s, s["race"]["index"])
                            for s in load(root, ruleset, "Subraces")}
    else:
        data["races"] = {s["index"]: origin(s, None) for s in load(root, ruleset, "Species")}
        data["subraces"] = {s["index"]: origin(s, s["species"]["index"])
                            for s in load(root, ruleset, "Subspecies")}
    backgrounds = {}
    for b in load(root, ruleset, "Backgrounds"):
        profs = b.get("starting_proficiencies") or b.get("proficiencies") or []
        bg: dict[str, Any] = {
            "name": b["name"],
            "skills": sorted(s for p in profs if (s := skill_slug(p["index"]))),
            "tools": sorted(t for p in profs if (t := tool_prof(p["index"]))),
            "language_choices": [lc] if (lc := language_choice(b.get("language_options"))) else [],
        }
        if "ability_scores" in b:
            bg["abilities"] = [a["index"] for a in b["ability_scores"]]
        if "feat" in b:
            bg["feat"] = b["feat"]["index"]
            note = b["feat"].get("note") or FEAT_OPTION_FIXES.get(ruleset, {}).get(b["index"])
            if note:  # Magic Initiate (Cleric): the feat's spell list
                bg["feat_option"] = note.lower()
        backgrounds[b["index"]] = bg
    data["backgrounds"] = backgrounds
    return data


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    root = Path(argv[1])
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for ruleset in ("2014", "2024"):
        data = derive(root, ruleset)
        path = OUT_DIR / f"srd-{ruleset}.json"
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        path.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {path} ({len(text) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
