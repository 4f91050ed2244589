"""The complete character sheet: the derived values a player expects on a printed sheet,
each proficiency with the grant that gave it. `build_sheet(doc, rules)` never raises on a
parsed document (unknown slugs are left out; validation reports them)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from domain.rules import constants as C
from domain.rules.derived import (
    armor_breakdown,
    attuned_count,
    carrying_capacity,
    class_row,
    final_abilities,
    load,
    modifier,
    proficiency_bonus,
    spell_slots,
    total_level,
)
from domain.rules.grants import Grants, grants_for
from domain.rules.tables import Rules
from domain.sheet import ABILITIES, CharacterDoc, Derived, SpellSlots, ValidationReport

PASSIVE_SKILLS = ("perception", "insight", "investigation")


class Granted(BaseModel):
    slug: str
    name: str
    source: str  # the grant that gave it: "Bonus Proficiency (Life), cleric 1"


class AbilityLine(BaseModel):
    ability: str
    score: int
    modifier: int
    save: int
    save_proficient: bool


class SkillLine(BaseModel):
    skill: str
    name: str
    ability: str
    bonus: int
    proficient: bool
    expertise: bool
    source: str | None = None


class AcPart(BaseModel):
    part: str
    value: int


class SpellLine(BaseModel):
    name: str
    slug: str
    level: int
    source: str  # class, species, feat, background, item
    prepared: bool
    always_prepared: bool = False
    granted_by: str | None = None


class Spellcasting(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    class_: str = Field(alias="class")
    ability: str
    save_dc: int
    attack_bonus: int
    cantrips_known: int
    cantrips_limit: int
    spells: int  # known or prepared (limit-counted) leveled spells
    spells_limit: int | None
    limit_kind: str  # "known" or "prepared"
    always_prepared: list[str]


class Attack(BaseModel):
    item: str
    name: str
    to_hit: int
    damage: str
    damage_type: str
    proficient: bool
    properties: list[str]
    versatile: str | None = None
    range: str | None = None


class Sheet(BaseModel):
    name: str
    ruleset: str
    origin: str
    background: str
    classes: list[str]
    total_level: int
    xp: int
    next_level_xp: int | None
    proficiency_bonus: int
    abilities: list[AbilityLine]
    skills: list[SkillLine]
    passives: dict[str, int]
    initiative: int
    speed: int
    speed_note: str | None = None
    hit_points: int | None
    hit_dice: dict[str, int]
    armor_class: int
    armor_class_breakdown: list[AcPart]
    spell_slots: SpellSlots
    spellcasting: list[Spellcasting]
    spells: list[SpellLine]
    attacks: list[Attack]
    proficiencies: dict[str, list[Granted]]  # armor, weapons, tools, saves, skills, languages
    choices: dict[str, str | list[str]]
    features: list[str]
    inventory: list[dict[str, object]]
    currency: dict[str, int]
    load: float
    carrying_capacity: float
    attuned_items: int
    validation: ValidationReport | None = None


def _name(rules: Rules, table: str, slug: str | None) -> str:
    rec = rules.table(table).get(slug or "")
    return rec["name"] if rec else (slug or "")


def _dex_or_str(props: list[str], ranged: bool, mods: dict[str, int]) -> int:
    if "finesse" in props:
        return max(mods["str"], mods["dex"])
    return mods["dex"] if ranged else mods["str"]


def _attacks(doc: CharacterDoc, rules: Rules, g: Grants, mods: dict[str, int],
             prof: int) -> list[Attack]:
    out: list[Attack] = []
    for inv in doc.inventory:
        item = rules.items.get(inv.item)
        w = item.get("weapon") if item else None
        if not inv.equipped or w is None or item is None:
            continue
        props = list(w.get("properties", ()))
        mod = _dex_or_str(props, bool(w.get("ranged")), mods)
        proficient = w.get("category") in g.weapons or inv.item in g.weapons
        dmg = w.get("damage", "")
        sign = f"{mod:+d}" if mod else ""
        out.append(Attack(
            item=inv.item, name=item["name"], to_hit=mod + (prof if proficient else 0),
            damage=f"{dmg}{sign}" if dmg else str(max(0, 1 + mod)),
            damage_type=w.get("damage_type", ""), proficient=proficient, properties=props,
            versatile=f"{w['versatile']}{sign}" if w.get("versatile") else None,
            range=("ranged" if w.get("ranged") else "melee")))
    return out


def _spellcasting(doc: CharacterDoc, rules: Rules, g: Grants, mods: dict[str, int],
                  prof: int) -> tuple[list[Spellcasting], list[SpellLine]]:
    lines: list[SpellLine] = []
    listed: set[str] = set()
    per_class: dict[str, list[int]] = {}  # class -> [cantrips, leveled counted]
    for ks in doc.spells:
        sp = rules.spells.get(ks.name)
        if sp is None:
            continue
        always = ks.source == "class" and g.always.get(ks.name, (None, ""))[0] == ks.class_
        prepared = always or ks.prepared is not False
        lines.append(SpellLine(name=sp["name"], slug=ks.name, level=sp["level"],
                               source=ks.source if ks.source != "class" else (ks.class_ or ""),
                               prepared=prepared, always_prepared=always,
                               granted_by=ks.granted_by))
        listed.add(ks.name)
        if ks.source == "class" and not always and ks.class_:
            counts = per_class.setdefault(ks.class_, [0, 0])
            if sp["level"] == 0:
                counts[0] += 1
            elif prepared or "spells_known" in rules.classes.get(ks.class_, {}):
                counts[1] += 1
    # Always-prepared spells are on the sheet even when the document does not list them.
    for slug, (cls, _label) in sorted(g.always.items()):
        sp = rules.spells.get(slug)
        if sp is not None and slug not in listed:
            lines.append(SpellLine(name=sp["name"], slug=slug, level=sp["level"],
                                   source=cls or "", prepared=True, always_prepared=True))
    for slug, label in sorted(g.origin_spells.items()):
        sp = rules.spells.get(slug)
        if sp is not None and slug not in listed:
            lines.append(SpellLine(name=sp["name"], slug=slug, level=sp["level"],
                                   source="species", prepared=True, granted_by=label))
    casting: list[Spellcasting] = []
    seen: set[str] = set()
    for cl in doc.classes:
        rec = rules.classes.get(cl.class_)
        if rec is None or cl.class_ in seen or rec.get("caster", "none") == "none":
            continue
        seen.add(cl.class_)
        ab = rec["spell_ability"]
        cantrips, counted = per_class.get(cl.class_, [0, 0])
        limit: int | None
        if "spells_known" in rec:
            kind, limit = "known", int(class_row(rec, "spells_known", cl.level) or 0)
        elif "prepared" in rec:
            kind, limit = "prepared", int(class_row(rec, "prepared", cl.level) or 0)
        elif "prepared_formula" in rec:
            lv = cl.level if rec["prepared_formula"] == "full" else cl.level // 2
            kind, limit = "prepared", max(1, mods[ab] + lv)
        else:
            kind, limit = "prepared", None
        casting.append(Spellcasting(
            class_=cl.class_, ability=ab, save_dc=8 + prof + mods[ab],
            attack_bonus=prof + mods[ab], cantrips_known=cantrips,
            cantrips_limit=int(class_row(rec, "cantrips", cl.level) or 0)
            + g.cantrips.get(cl.class_, 0),
            spells=counted, spells_limit=limit, limit_kind=kind,
            always_prepared=sorted(s for s, (c, _) in g.always.items() if c == cl.class_)))
    lines.sort(key=lambda s: (s.level, s.name))
    return casting, lines


def build_sheet(doc: CharacterDoc, rules: Rules, derived: Derived | None = None,
                report: ValidationReport | None = None) -> Sheet:
    g = grants_for(doc, rules)
    scores = final_abilities(doc)
    mods = {a: modifier(scores[a]) for a in ABILITIES}
    level = total_level(doc)
    prof = proficiency_bonus(level)
    expertise = doc.choices.get("expertise", [])
    expert = set([expertise] if isinstance(expertise, str) else expertise)
    scholar = doc.choices.get("scholar")
    if isinstance(scholar, str):
        expert.add(scholar)
    chosen_skills = set(doc.skills)
    skills = []
    for slug, ability in sorted(rules.skills.items()):
        proficient = slug in chosen_skills
        ex = proficient and slug in expert
        skills.append(SkillLine(
            skill=slug, name=slug.replace("-", " ").title(), ability=ability,
            bonus=mods[ability] + (prof * (2 if ex else 1) if proficient else 0),  # type: ignore[index]
            proficient=proficient, expertise=ex,
            source=g.skills.get(slug) or ("chosen" if proficient else None)))
    by_skill = {s.skill: s.bonus for s in skills}
    abilities = [AbilityLine(ability=a, score=scores[a], modifier=mods[a],
                             save=mods[a] + (prof if a in g.saves else 0),
                             save_proficient=a in g.saves) for a in ABILITIES]
    main = doc.race if rules.ruleset == "2014" else doc.species
    sub = doc.subrace if rules.ruleset == "2014" else doc.subspecies
    race = rules.races.get(main or "") or {}
    speed = int(race.get("speed", 30))
    note = None
    for inv in doc.inventory:
        armor = (rules.items.get(inv.item) or {}).get("armor")
        if (inv.equipped and armor and armor["str_min"] > scores["str"]
                and not race.get("unslowed_by_armor")):
            speed -= 10
            note = f"-10 ft: {inv.item} needs Str {armor['str_min']}"
            break
    dice: dict[str, int] = {}
    for cl in doc.classes:
        rec = rules.classes.get(cl.class_)
        if rec is not None:
            key = f"d{rec['hit_die']}"
            dice[key] = dice.get(key, 0) + cl.level
    parts = armor_breakdown(doc, rules, mods, g)  # type: ignore[arg-type]
    casting, spell_lines = _spellcasting(doc, rules, g, mods, prof)

    def granted(table: dict[str, str], lookup: str | None = None) -> list[Granted]:
        names = rules.table(lookup) if lookup else {}
        return [Granted(slug=k, name=(names.get(k) or {}).get("name", k.replace("-", " ")),
                        source=v) for k, v in sorted(table.items())]

    languages = {lang: g.languages.get(lang, "chosen") for lang in doc.languages}
    next_xp = C.XP_THRESHOLDS[level] if level < C.MAX_LEVEL else None
    features = sorted({label for label in (
        *g.armor.values(), *g.weapons.values(), *g.skills.values(), *g.languages.values(),
        *(lbl for lbl, _ in g.hp_sources), *(f.label for f in g.ac),
        *(spec.labels[0] for spec in g.choices.values()))})
    return Sheet(
        name=doc.name, ruleset=doc.ruleset,
        origin=" / ".join(x for x in (_name(rules, "races", main),
                                      _name(rules, "subraces", sub)) if x),
        background=_name(rules, "backgrounds", doc.background),
        classes=[f"{_name(rules, 'classes', cl.class_)} {cl.level}"
                 + (f" ({_name(rules, 'subclasses', cl.subclass)})" if cl.subclass else "")
                 for cl in doc.classes],
        total_level=level, xp=doc.xp, next_level_xp=next_xp, proficiency_bonus=prof,
        abilities=abilities, skills=skills,
        passives={s: 10 + by_skill.get(s, 0) for s in PASSIVE_SKILLS},
        initiative=mods["dex"], speed=speed, speed_note=note,
        hit_points=doc.hit_points, hit_dice=dice,
        armor_class=sum(v for _, v in parts),
        armor_class_breakdown=[AcPart(part=p, value=v) for p, v in parts],
        spell_slots=derived.spell_slots if derived else spell_slots(doc, rules),
        spellcasting=casting, spells=spell_lines,
        attacks=_attacks(doc, rules, g, mods, prof),  # type: ignore[arg-type]
        proficiencies={
            "armor": granted(g.armor), "weapons": granted(g.weapons),
            "tools": granted(g.tools, "items"), "saving_throws": granted(g.saves),
            "skills": [Granted(slug=s.skill, name=s.name, source=s.source or "chosen")
                       for s in skills if s.proficient],
            "languages": granted(languages, "languages"),
        },
        choices=dict(doc.choices), features=features,
        inventory=[{"item": inv.item, "name": _name(rules, "items", inv.item),
                    "quantity": inv.quantity, "equipped": inv.equipped,
                    "attuned": inv.attuned, "container": inv.container,
                    "weight": round(float((rules.items.get(inv.item) or {}).get("weight", 0))
                                    * inv.quantity, 4)} for inv in doc.inventory],
        currency=doc.currency.model_dump(),
        load=round(load(doc, rules), 4),
        carrying_capacity=carrying_capacity(doc, rules, scores["str"]),
        attuned_items=attuned_count(doc),
        validation=report,
    )
