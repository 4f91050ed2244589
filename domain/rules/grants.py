"""The grants model: everything a character's class, subclass, species, background and feats
give it, read through one function, `grants_for(doc, rules)`.

A grant (docs/rules.md, "Grants") is a record `{"feature", "name", "at", ...}` with any of:
`prof` (fixed proficiencies: armor, weapon, tool, save, skill, language), `pick` (a choice
the document records in `skills`, `languages` or `spells`), `choice` (a feature choice the
document records in `choices`, whose options may carry grants of their own), `spells`
(always-prepared or species spells), `hp`, `ac` (an unarmored formula), `ac_armored`, `max`
(ability maximum), `bonus` (feature ability increases), `max_bonus` (Epic Boon), `cantrips`.

Sources: the SRD tables carry feature grants in each record's `grants`; a record's own fields
(a class's armor and skill choice, a background's skills, a species' languages; the only
shape homebrew has) are turned into grants here, so every check sees one model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.rules.tables import Record, Rules
from domain.sheet import ABILITIES, CharacterDoc

Pool = tuple[int, frozenset[str] | None, str]  # (how many, from which (None: any), label)


@dataclass(slots=True)
class ChoiceSpec:
    """A feature choice the character's features offer, merged over the features that add
    to it (Expertise at rogue 1 and 6 is one `expertise` choice of 4)."""

    key: str
    n: int = 0
    options: frozenset[str] | None = None  # None: `proficient` skills/tools
    proficient: bool = False
    labels: list[str] = field(default_factory=list)
    grants: dict[str, list[Record]] = field(default_factory=dict)
    cls: str | None = None  # the class whose feature offers it


@dataclass(slots=True)
class AcFormula:
    base: int
    add: tuple[str, ...]
    shield: bool
    label: str


@dataclass(slots=True)
class Grants:
    """What a character is granted, each with the label of the grant that gave it
    ("Bonus Proficiency (Life), cleric 1")."""

    armor: dict[str, str] = field(default_factory=dict)
    weapons: dict[str, str] = field(default_factory=dict)
    tools: dict[str, str] = field(default_factory=dict)
    saves: dict[str, str] = field(default_factory=dict)
    skills: dict[str, str] = field(default_factory=dict)
    skill_list: list[str] = field(default_factory=list)  # fixed skills, repeats kept
    languages: dict[str, str] = field(default_factory=dict)
    pools: dict[str, list[Pool]] = field(default_factory=dict)  # skill, language, spell
    cantrips: dict[str, int] = field(default_factory=dict)  # class -> extra cantrips
    always: dict[str, tuple[str | None, str]] = field(default_factory=dict)  # spell -> class
    origin_spells: dict[str, str] = field(default_factory=dict)  # species spells
    hp: int = 0
    hp_sources: list[tuple[str, int]] = field(default_factory=list)
    ac: list[AcFormula] = field(default_factory=list)
    ac_armored: list[tuple[int, str]] = field(default_factory=list)
    max: dict[str, tuple[int, str]] = field(default_factory=dict)
    bonus: dict[str, int] = field(default_factory=dict)
    boons: set[str] = field(default_factory=set)  # feats whose ability may go to 30
    boon_max: int = 20
    choices: dict[str, ChoiceSpec] = field(default_factory=dict)
    feats: list[tuple[str, str]] = field(default_factory=list)  # (feat, option e.g. "wizard")


def _core_class(rec: Record, first: bool) -> Record:
    """A class record's own proficiencies as a grant (full for the first class, the
    multiclass set for later ones)."""
    if first:
        prof = {"armor": rec.get("armor", ()), "weapon": rec.get("weapons", ()),
                "tool": rec.get("tools", ()), "save": rec.get("saves", ()),
                "language": rec.get("languages", ())}
        ch = rec.get("skill_choice")
    else:
        prof = {"armor": rec.get("mc_armor", ()), "weapon": rec.get("mc_weapons", ()),
                "tool": rec.get("mc_tools", ()), "language": rec.get("languages", ())}
        ch = rec.get("mc_skill_choice")
    out: Record = {"prof": prof}
    if ch:
        out["pick"] = [{"what": "skill", "n": ch["choose"], "from": ch["from"]}]
    return out


def _core_origin(rec: Record) -> Record:
    """A species/background record's own fields as a grant (homebrew has only these)."""
    out: Record = {"prof": {"skill": rec.get("skills", ()), "language": rec.get("languages", ()),
                            "tool": rec.get("tools", ())}}
    picks = [{"what": "skill", "n": ch["choose"], "from": ch["from"]}
             for ch in rec.get("skill_choices", ()) if ch]
    picks += [{"what": "language", "n": ch["choose"], "from": ch["from"]}
              for ch in rec.get("language_choices", ()) if ch]
    if picks:
        out["pick"] = picks
    if rec.get("hp_per_level"):
        out["hp"] = {"per": "level", "value": rec["hp_per_level"]}
    return out


class _Builder:
    __slots__ = ("chosen", "doc", "g", "level", "rules")

    def __init__(self, doc: CharacterDoc, rules: Rules) -> None:
        self.doc = doc
        self.rules = rules
        self.g = Grants()
        self.level = max(1, min(20, sum(cl.level for cl in doc.classes)))
        self.chosen = doc.choices

    def apply(self, grant: Record, label: str, cls: str | None, level: int,
              class_rec: Record | None = None) -> None:
        g, rules = self.g, self.rules
        prof = grant.get("prof")
        if prof:
            for cat, target in (("armor", g.armor), ("weapon", g.weapons), ("tool", g.tools),
                                ("save", g.saves), ("language", g.languages)):
                for v in prof.get(cat, ()):
                    target.setdefault(v, label)
            for v in prof.get("skill", ()):
                g.skills.setdefault(v, label)
                g.skill_list.append(v)
        for pick in grant.get("pick", ()):
            src = pick["from"]
            allowed: frozenset[str] | None
            if src == "any":
                allowed = None
            elif src == "standard":
                allowed = rules.standard_languages
            elif src == "class":
                ch = (class_rec or {}).get("skill_choice") or {}
                allowed = frozenset(ch.get("from", ())) or None
            else:
                allowed = frozenset(src)
            g.pools.setdefault(pick["what"], []).append((pick["n"], allowed, label))
        for sp in grant.get("spells", ()):
            if sp.get("at", 1) > level:
                continue
            when = sp.get("when")
            if when and any(self.chosen.get(k) != v for k, v in when.items()):
                continue
            if sp.get("always") or cls is not None:
                g.always.setdefault(sp["spell"], (cls, label))
            else:
                g.origin_spells.setdefault(sp["spell"], label)
        hp = grant.get("hp")
        if hp:
            value = hp["value"] * (level if hp["per"] == "class_level" else self.level)
            g.hp += value
            g.hp_sources.append((label, value))
        ac = grant.get("ac")
        if ac:
            g.ac.append(AcFormula(ac["base"], tuple(ac.get("add", ())), ac.get("shield", True),
                                  label))
        if grant.get("ac_armored"):
            g.ac_armored.append((grant["ac_armored"], label))
        for a, m in grant.get("max", {}).items():
            if m > g.max.get(a, (20, ""))[0]:
                g.max[a] = (m, label)
        for a, v in grant.get("bonus", {}).items():
            g.bonus[a] = g.bonus.get(a, 0) + v
        if grant.get("max_bonus"):
            g.boons.add(grant["feature"])
            g.boon_max = max(g.boon_max, grant["max_bonus"])
        if grant.get("cantrips") and cls is not None:
            g.cantrips[cls] = g.cantrips.get(cls, 0) + grant["cantrips"]
        ch = grant.get("choice")
        if ch:
            spec = g.choices.get(ch["key"])
            if spec is None:
                spec = g.choices[ch["key"]] = ChoiceSpec(ch["key"], cls=cls)
            spec.n += ch["n"]
            if "options" in ch:
                spec.options = frozenset(ch["options"]) | (spec.options or frozenset())
            spec.proficient = spec.proficient or bool(ch.get("proficient"))
            spec.labels.append(label)
            for opt, og in ch.get("grants", {}).items():
                spec.grants.setdefault(opt, og)

    def record(self, rec: Record, core: Record | None, name: str, cls: str | None, level: int,
               class_rec: Record | None = None, where: str = "") -> None:
        if core:
            self.apply(core, name, cls, level, class_rec)
        for grant in rec.get("grants", ()):
            at = grant.get("at", 1)
            if at > level:
                continue
            label = f"{grant['name']}{where}" + (f", {cls} {at}" if cls else "")
            self.apply(grant, label, cls, level, class_rec)

    def build(self) -> Grants:
        doc, rules, g = self.doc, self.rules, self.g
        main = doc.race if rules.ruleset == "2014" else doc.species
        sub = doc.subrace if rules.ruleset == "2014" else doc.subspecies
        race = rules.races.get(main or "")
        if race is not None:
            self.record(race, _core_origin(race), race["name"], None, self.level)
            srec = rules.subraces.get(sub or "")
            if srec is not None and srec.get("parent") == main:
                self.record(srec, _core_origin(srec), srec["name"], None, self.level)
        bg = rules.backgrounds.get(doc.background)
        if bg is not None:
            self.record(bg, _core_origin(bg), f"{bg['name']} background", None, self.level)
            if bg.get("feat"):
                g.feats.append((bg["feat"], bg.get("feat_option") or ""))
        for grant in rules.creation_grants:
            self.apply(grant, grant["name"], None, self.level)
        seen: set[str] = set()
        for n, cl in enumerate(doc.classes):
            rec = rules.classes.get(cl.class_)
            if rec is None or cl.class_ in seen:
                continue
            seen.add(cl.class_)
            level = max(0, min(cl.level, 20))
            name = f"{rec['name']} class" if n == 0 else f"{rec['name']} multiclass"
            self.apply(_core_class(rec, n == 0), name, None, level, rec)
            self.record(rec, None, "", cl.class_, level, rec)
            srec = rules.subclasses.get(cl.subclass or "")
            if srec is not None and srec["class"] == cl.class_ and level >= srec["level"]:
                self.record(srec, None, "", cl.class_, level, rec, f" ({srec['name']})")
        for b in doc.ability_bonuses:
            if b.source == "feat" and b.note in rules.feats and (b.note, "") not in g.feats:
                g.feats.append((b.note, ""))
        for slug, _ in g.feats:
            feat = rules.feats.get(slug)
            if feat is not None:
                self.record(feat, None, feat["name"], None, self.level)
        # The options chosen for feature choices, and what they grant.
        for key, spec in list(g.choices.items()):
            value = self.chosen.get(key)
            for v in ([value] if isinstance(value, str) else value or ()):
                for og in spec.grants.get(v, ()):
                    self.apply(og, f"{v.replace('-', ' ').title()} ({spec.labels[0]})",
                               spec.cls, self.level)
        return g


_CACHE_LIMIT = 4096


def _key(doc: CharacterDoc) -> tuple[Any, ...]:
    return (doc.race, doc.subrace, doc.species, doc.subspecies, doc.background,
            tuple((cl.class_, cl.level, cl.subclass) for cl in doc.classes),
            tuple(b.note for b in doc.ability_bonuses if b.source == "feat"),
            tuple(sorted((k, v if isinstance(v, str) else tuple(v))
                         for k, v in doc.choices.items())))


def grants_for(doc: CharacterDoc, rules: Rules) -> Grants:
    """Everything the character's sources grant at its levels, with its choices applied.
    Cached per Rules on the parts of the document that decide it (treat as read-only)."""
    cache: dict[tuple[Any, ...], Grants] = rules.grants_cache
    key = _key(doc)
    hit = cache.get(key)
    if hit is None:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        hit = cache[key] = _Builder(doc, rules).build()
    return hit


def ability_max(g: Grants, doc: CharacterDoc) -> dict[str, int]:
    """Each ability's maximum: 20, raised by features (Primal Champion) and, for the
    abilities an Epic Boon raised, the boon's maximum (30)."""
    out = {a: max(20, g.max.get(a, (20, ""))[0]) for a in ABILITIES}
    if g.boons:
        for b in doc.ability_bonuses:
            if b.source == "feat" and b.note in g.boons:
                out[b.ability] = max(out[b.ability], g.boon_max)
    return out
