"""Derive Lorekeeper's compact rules tables from the SRD JSON (dev-time only).

Usage: python scripts/derive_srd.py ../shared/srd

Reads the 5e-bits SRD 5.1 (2014/) and SRD 5.2 (2024/) JSON and writes
domain/rules/data/srd-2014.json and srd-2024.json: facts only (slugs, names, numbers,
tables, prerequisites), never rules prose. Output is deterministic (sorted keys).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

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
# Class features that grant a secret language (SRD class features, not in the 2014 list).
CLASS_LANGUAGES = {"druid": "druidic", "rogue": "thieves-cant"}
SECRET_LANGUAGE_NAMES = {"druidic": "Druidic", "thieves-cant": "Thieves' Cant"}
# Numbers stated in magic-item text that the data has no field for.
MAGIC_ITEM_WEIGHTS = {"bag-of-holding": 15, "handy-haversack": 5, "portable-hole": 0}
MAGIC_AC_BONUS = {"ring-of-protection": 1, "cloak-of-protection": 1}
# Known data error in the 2024 files (see the SRD README).
WEIGHT_FIXES = {"2024": {"chain-shirt": 20}}


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


def derive_traits(root: Path, ruleset: str, skills: list[str]) -> dict[str, dict[str, Any]]:
    """Per race/subrace/species/subspecies: skills, skill choices, languages, hp, build."""
    grants: dict[str, dict[str, Any]] = {}
    for t in load(root, ruleset, "Traits"):
        owners = [o["index"] for key in ("races", "subraces", "species", "subspecies")
                  for o in t.get(key, [])]
        for owner in owners:
            g = grants.setdefault(owner, {})
            for p in t.get("proficiencies", []) or []:
                s = skill_slug(p["index"])
                if s:
                    g.setdefault("skills", []).append(s)
            pc = t.get("proficiency_choices")
            if pc:
                sc = skill_choice(pc, skills)
                if sc:
                    g.setdefault("skill_choices", []).append(sc)
            lc = language_choice(t.get("language_options"))
            if lc:
                g.setdefault("language_choices", []).append(lc)
            if t["index"] == "dwarven-toughness":
                g["hp_per_level"] = 1
            if t["index"] == "powerful-build":
                g["powerful_build"] = True
    return grants


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
            "languages": [CLASS_LANGUAGES[slug]] if slug in CLASS_LANGUAGES else [],
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
        if "armor" in cats:
            cat = e.get("armor_category")
            if cat is None:
                cat = next(c.split("-")[0] for c in cats if c != "armor")
            cat = {"shields": "shield"}.get(cat.lower(), cat.lower())
            ac = e["armor_class"]
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
        if "attunement" in m:
            attune = bool(m["attunement"])
        else:
            text = " ".join(m["desc"]) if isinstance(m["desc"], list) else m["desc"]
            attune = bool(re.search(r"requires attunement", text, re.IGNORECASE))
        item = {"name": m["name"], "weight": MAGIC_ITEM_WEIGHTS.get(slug, 0), "cost": 0,
                "kind": "magic", "magic": True, "attunement": attune}
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
    grants = derive_traits(root, ruleset, skill_list)

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
    for s in load(root, ruleset, "Spells"):
        spells[s["index"]] = {
            "name": s["name"],
            "level": s["level"],
            "school": s["school"]["index"],
            "classes": sorted(c["index"] for c in s.get("classes", [])),
            "subclasses": sorted(c["index"] for c in s.get("subclasses", [])),
        }

    def origin(entry: dict[str, Any], parent: str | None) -> dict[str, Any]:
        g = grants.get(entry["index"], {})
        lchoices = list(g.get("language_choices", []))
        lc = language_choice(entry.get("language_options"))
        if lc:
            lchoices.append(lc)
        out: dict[str, Any] = {
            "name": entry["name"],
            "bonuses": bonuses(entry.get("ability_bonuses", [])),
            "languages": sorted(lang["index"] for lang in entry.get("languages", [])),
            "language_choices": lchoices,
            "skills": sorted(set(g.get("skills", []))),
            "skill_choices": g.get("skill_choices", []),
            "hp_per_level": g.get("hp_per_level", 0),
            "powerful_build": g.get("powerful_build", False),
        }
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
    feats = load(root, ruleset, "Feats")
    data["feats"] = {f["index"]: {"name": f["name"], "type": f.get("type", "general")}
                     for f in feats}
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
            "language_choices": [lc] if (lc := language_choice(b.get("language_options"))) else [],
        }
        if "ability_scores" in b:
            bg["abilities"] = [a["index"] for a in b["ability_scores"]]
        if "feat" in b:
            bg["feat"] = b["feat"]["index"]
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
