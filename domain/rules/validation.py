"""Rules validation of a character document: every finding is an Issue with a code, a dotted
path into the document, what is wrong and how to fix it. See docs/rules.md for the codes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from domain.characters.schemas import (
    ABILITIES,
    CharacterDoc,
    ClassLevel,
    Issue,
    ValidationReport,
)
from domain.rules import constants as C
from domain.rules import themes
from domain.rules.derived import (
    attuned_count,
    carrying_capacity,
    class_row,
    final_abilities,
    item_weight,
    load,
    modifier,
)
from domain.rules.tables import Record, Rules

Pool = tuple[int, frozenset[str] | None]  # (how many to choose, from which; None: any)
Bad = Callable[[str, str, str], None]  # (bonus source, message, fix) -> records an error


class _Ctx:
    __slots__ = ("bg", "classes", "doc", "errors", "mods", "race", "rules", "scores", "subrace",
                 "warnings")

    def __init__(self, doc: CharacterDoc, rules: Rules) -> None:
        self.doc = doc
        self.rules = rules
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self.scores = final_abilities(doc)
        self.mods = {a: modifier(s) for a, s in self.scores.items()}
        self.race: Record | None = None
        self.subrace: Record | None = None
        self.bg: Record | None = rules.backgrounds.get(doc.background)
        # (index, class slug, level, record) of the classes the rules know.
        self.classes: list[tuple[int, str, int, Record]] = [
            (i, cl.class_, cl.level, rules.classes[cl.class_])
            for i, cl in enumerate(doc.classes) if cl.class_ in rules.classes]

    def err(self, code: str, path: str, message: str, fix: str) -> None:
        self.errors.append(Issue(code=code, path=path, message=message, fix=fix))

    def warn(self, code: str, path: str, message: str, fix: str) -> None:
        self.warnings.append(Issue(code=code, path=path, message=message, fix=fix))


def _names(slugs: Iterable[str]) -> str:
    return ", ".join(sorted(slugs)) or "none"


# --- origin: race/species, subrace/subspecies, background -----------------------------------

def _check_origin(c: _Ctx) -> None:
    doc, rules = c.doc, c.rules
    if rules.ruleset == "2014":
        main, sub, other_main, other_sub = "race", "subrace", "species", "subspecies"
    else:
        main, sub, other_main, other_sub = "species", "subspecies", "race", "subrace"
    for field in (other_main, other_sub):
        if getattr(doc, field) is not None:
            c.err("unknown_reference", field,
                  f"The {rules.ruleset} rules have no {field}; they use {main}.",
                  f"Remove {field} and set {main} instead.")
    main_slug, sub_slug = getattr(doc, main), getattr(doc, sub)
    if main_slug is None:
        c.err("unknown_reference", main, f"No {main} is chosen.",
              f"Choose a {main}: {_names(rules.races)}.")
    elif main_slug not in rules.races:
        c.err("unknown_reference", main, f"There is no {main} {main_slug!r} in these rules.",
              f"Choose a {main}: {_names(rules.races)}.")
    else:
        c.race = rules.races[main_slug]
    if sub_slug is not None:
        rec = rules.subraces.get(sub_slug)
        if rec is None:
            c.err("unknown_reference", sub, f"There is no {sub} {sub_slug!r} in these rules.",
                  f"Choose a known {sub} or remove it.")
        elif main_slug is not None and rec["parent"] != main_slug:
            options = [s for s, r in rules.subraces.items() if r["parent"] == main_slug]
            c.err("unknown_reference", sub,
                  f"The {sub} {sub_slug} belongs to {rec['parent']}, not {main_slug}.",
                  f"Choose a {sub} of {main_slug} ({_names(options)}) or none.")
        else:
            c.subrace = rec
    if c.bg is None:
        c.err("unknown_reference", "background",
              f"There is no background {doc.background!r} in these rules.",
              f"Choose a background: {_names(rules.backgrounds)}.")


# --- classes, levels, XP -------------------------------------------------------------------

def _check_classes(c: _Ctx) -> None:
    doc, rules = c.doc, c.rules
    seen: set[str] = set()
    for i, cl in enumerate(doc.classes):
        rec = rules.classes.get(cl.class_)
        if rec is None:
            c.err("unknown_reference", f"classes.{i}.class",
                  f"There is no class {cl.class_!r} in these rules.",
                  f"Choose a class: {_names(rules.classes)}.")
        if cl.class_ in seen:
            c.err("level_out_of_range", f"classes.{i}.class",
                  f"The class {cl.class_} is listed twice.",
                  "List each class once and add the levels together.")
        seen.add(cl.class_)
        if not 1 <= cl.level <= C.MAX_LEVEL:
            c.err("level_out_of_range", f"classes.{i}.level",
                  f"Class level {cl.level} is outside 1..{C.MAX_LEVEL}.",
                  f"Set the {cl.class_} level between 1 and {C.MAX_LEVEL}.")
        if cl.subclass is None or rec is None:
            continue
        sub = rules.subclasses.get(cl.subclass)
        if sub is None or sub["class"] != cl.class_:
            why = ("is unknown" if sub is None else f"belongs to {sub['class']}")
            c.err("unknown_reference", f"classes.{i}.subclass",
                  f"The subclass {cl.subclass} {why}, not to {cl.class_}.",
                  f"Choose a {cl.class_} subclass ({_names(rec['subclasses'])}) or none.")
        elif cl.level < sub["level"]:
            c.err("subclass_level_too_low", f"classes.{i}.subclass",
                  f"A {cl.class_} chooses a subclass at level {sub['level']}; this one is "
                  f"level {cl.level}.",
                  f"Remove the subclass until {cl.class_} level {sub['level']}.")
    total = sum(cl.level for cl in doc.classes)
    if not 1 <= total <= C.MAX_LEVEL:
        c.err("level_out_of_range", "classes",
              f"Total character level {total} is outside 1..{C.MAX_LEVEL}.",
              f"Make the class levels add up to between 1 and {C.MAX_LEVEL}.")
        return
    xp_level = sum(1 for t in C.XP_THRESHOLDS if doc.xp >= t)
    if total > xp_level:
        need = C.XP_THRESHOLDS[total - 1]
        c.err("xp_level_mismatch", "xp",
              f"Level {total} needs {need} XP; {doc.xp} XP is enough for level {xp_level}.",
              f"Raise XP to at least {need} or lower the total level to {xp_level}.")
    elif total < xp_level:
        c.warn("xp_level_mismatch", "xp",
               f"{doc.xp} XP reaches level {xp_level}; the character is level {total}.",
               f"Level up to {xp_level} (a level-up is pending).")


# --- ability scores ------------------------------------------------------------------------

def _check_scores(c: _Ctx) -> None:
    doc = c.doc
    base = doc.base_abilities.as_dict()
    lo, hi = C.BASE_SCORE_RANGE[doc.ability_method]
    method = doc.ability_method.replace("_", " ")
    in_range = True
    for a in ABILITIES:
        if not lo <= base[a] <= hi:
            in_range = False
            c.err("ability_score_out_of_range", f"base_abilities.{a}",
                  f"Base {a} {base[a]} is outside {lo}..{hi} for {method}.",
                  f"Set base {a} between {lo} and {hi}.")
    flo, fhi = C.FINAL_SCORE_RANGE
    for a in ABILITIES:
        s = c.scores[a]
        if not flo <= s <= fhi:
            c.err("ability_score_out_of_range", f"base_abilities.{a}",
                  f"Final {a} {s} (base plus bonuses) is outside {flo}..{fhi}.",
                  f"Lower the {a} bonuses or base score so the total is at most {fhi}."
                  if s > fhi else f"Raise base {a} so the total is at least {flo}.")
    if doc.ability_method == "point_buy" and in_range:
        spent = sum(C.POINT_BUY_COST[base[a]] for a in ABILITIES)
        if spent > C.POINT_BUY_BUDGET:
            c.err("point_buy_invalid", "base_abilities",
                  f"The scores cost {spent} points; point buy allows {C.POINT_BUY_BUDGET}.",
                  f"Lower scores by {spent - C.POINT_BUY_BUDGET} points "
                  "(costs 8..15: 0,1,2,3,4,5,7,9).")
        elif spent < C.POINT_BUY_BUDGET:
            c.warn("point_buy_invalid", "base_abilities",
                   f"The scores cost {spent} of {C.POINT_BUY_BUDGET} points; "
                   f"{C.POINT_BUY_BUDGET - spent} are unspent.",
                   "Spend the remaining points.")
    if doc.ability_method == "standard_array" and sorted(base.values()) != sorted(
            C.STANDARD_ARRAY):
        c.err("standard_array_invalid", "base_abilities",
              f"Base scores {sorted(base.values(), reverse=True)} are not the standard array.",
              "Assign 15, 14, 13, 12, 10 and 8, one to each ability.")


def _asi_slots(c: _Ctx) -> int:
    slots = 0
    for _, slug, level, _ in c.classes:
        levels = C.ASI_LEVELS + C.EXTRA_ASI_LEVELS.get(slug, ())
        slots += sum(1 for lv in levels if lv <= level)
    return slots


def _check_bonuses(c: _Ctx) -> None:
    doc, rules = c.doc, c.rules
    by_source: dict[str, dict[str, int]] = {}
    first: dict[str, int] = {}
    for i, b in enumerate(doc.ability_bonuses):
        per = by_source.setdefault(b.source, {})
        per[b.ability] = per.get(b.ability, 0) + b.value
        first.setdefault(b.source, i)

    def bad(source: str, message: str, fix: str) -> None:
        c.err("ability_bonus_invalid", f"ability_bonuses.{first.get(source, 0)}", message, fix)

    if rules.ruleset == "2014":
        for source in ("species", "background"):
            if source in by_source:
                bad(source, f"2014 rules have no {source} ability bonuses.",
                    "Remove them; 2014 characters get bonuses from race and subrace.")
        if c.race is not None:
            _check_origin_bonuses(c, by_source, first, bad)
    else:
        for source in ("race", "subrace", "species"):
            if source in by_source:
                bad(source, f"2024 rules give no {source} ability bonuses.",
                    "Remove them; in 2024 the background gives the ability bonuses.")
        if c.bg is not None and "abilities" in c.bg:
            _check_background_bonuses(c, by_source.get("background", {}), bad)
    # ASIs and feats that take an ASI slot.
    slots = _asi_slots(c)
    feat_slots = 0
    seen_feats: set[str] = set()
    for b in doc.ability_bonuses:
        if b.source != "feat":
            continue
        key = b.note or ""
        if key in seen_feats:
            continue
        seen_feats.add(key)
        feat = rules.feats.get(key)
        # 2024 origin feats (from a background) and fighting styles take no ASI slot.
        if feat is None or feat.get("type", "general") in ("general", "epic-boon"):
            feat_slots += 1
    asi = by_source.get("asi", {})
    points = sum(asi.values())
    if any(v < 0 for v in asi.values()):
        bad("asi", "An ability score improvement cannot lower a score.",
            "Use only positive ASI bonuses.")
    allowed = 2 * max(0, slots - feat_slots)
    if feat_slots > slots:
        bad("feat", f"{feat_slots} feats take ability score improvements; the class levels "
            f"give {slots}.", "Remove feats or gain the class levels that grant them.")
    elif points > allowed:
        bad("asi", f"{points} points of ability score improvements; the class levels give "
            f"{allowed} ({slots} improvements, {feat_slots} taken by feats).",
            f"Lower the ASI bonuses to {allowed} points in total.")
    # Theme bonuses must be exactly the theme's adjustments.
    expected = {a: v for a, v in themes.adjustments_of(doc.theme).items() if v}
    given = {a: v for a, v in by_source.get("theme", {}).items() if v}
    if expected != given:
        bad("theme", f"Theme bonuses {given or 'none'} differ from what the "
            f"{doc.theme or 'no'} theme grants ({expected or 'nothing'}).",
            "Apply the theme through a theme transition instead of editing its bonuses.")


def _check_origin_bonuses(c: _Ctx, by_source: dict[str, dict[str, int]], first: dict[str, int],
                          bad: Bad) -> None:
    assert c.race is not None
    fixed: Counter[str] = Counter(c.race["bonuses"])
    choice = c.race.get("bonus_choice")
    if c.subrace is not None:
        fixed.update(c.subrace["bonuses"])
        choice = choice or c.subrace.get("bonus_choice")
    given: Counter[str] = Counter()
    for source in ("race", "subrace"):
        given.update(by_source.get(source, {}))
    extra = {a: given[a] - fixed[a] for a in ABILITIES if given[a] != fixed[a]}
    ok = not extra
    if choice and extra:
        ok = (len(extra) == choice["choose"]
              and all(v == choice["amount"] and a in choice["from"] for a, v in extra.items()))
    elif choice:
        ok = False
    if not ok:
        want = ", ".join(f"{a} {v:+d}" for a, v in sorted(fixed.items())) or "none"
        if choice:
            want += (f", plus {choice['amount']:+d} to {choice['choose']} of "
                     f"{_names(choice['from'])}")
        source = "race" if "race" in first else "subrace"
        bad(source, "Race and subrace bonuses do not match the tables "
            f"(given {dict(sorted(given.items())) or 'none'}).",
            f"Use exactly: {want}.")


def _check_background_bonuses(c: _Ctx, given: dict[str, int], bad: Bad) -> None:
    assert c.bg is not None
    allowed = c.bg["abilities"]
    values = sorted((v for v in given.values() if v), reverse=True)
    ok = all(a in allowed for a, v in given.items() if v) and values in ([2, 1], [1, 1, 1])
    if not ok:
        bad("background", f"Background bonuses {dict(given) or 'none'} are not +2/+1 or "
            f"+1/+1/+1 among {_names(allowed)}.",
            f"Give +2 and +1 to two, or +1 to all three, of {', '.join(allowed)}.")


def _check_multiclass(c: _Ctx) -> None:
    if len(c.doc.classes) < 2:
        return
    for i, slug, _, rec in c.classes:
        prereq = rec.get("mc_prereq") or {}
        if "all" in prereq:
            unmet = {a: m for a, m in prereq["all"].items() if c.scores[a] < m}
            if unmet:
                need = " and ".join(f"{a} {m}" for a, m in unmet.items())
                c.err("multiclass_prerequisite_unmet", f"classes.{i}.class",
                      f"Multiclassing with {slug} needs {need}.",
                      f"Raise {need} or remove the {slug} levels.")
        elif prereq.get("any") and not any(c.scores[a] >= m for a, m in prereq["any"].items()):
            need = " or ".join(f"{a} {m}" for a, m in prereq["any"].items())
            c.err("multiclass_prerequisite_unmet", f"classes.{i}.class",
                  f"Multiclassing with {slug} needs {need}.",
                  f"Raise {need} or remove the {slug} levels.")


# --- spells --------------------------------------------------------------------------------

def _max_slot_level(rec: Record, level: int) -> int:
    row = class_row(rec, "slots", level) or []
    return max((n + 1 for n, v in enumerate(row) if v), default=0)


def _check_spells(c: _Ctx) -> None:
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


def _limit(c: _Ctx, indexes: list[int], limit: int, what: str) -> None:
    if len(indexes) > limit:
        c.err("too_many_spells", f"spells.{indexes[limit]}",
              f"{len(indexes)} {what}; the class allows {limit} at its level.",
              f"Remove {len(indexes) - limit} of them (or mark them not prepared).")


# --- inventory -----------------------------------------------------------------------------

def _armor_profs(c: _Ctx) -> set[str]:
    profs: set[str] = set()
    for n, (i, _, _, rec) in enumerate(c.classes):
        first = n == 0 and i == 0
        profs.update(rec["armor"] if first else rec.get("mc_armor", ()))
    return profs


def _check_inventory(c: _Ctx) -> None:
    doc, rules = c.doc, c.rules
    if not doc.inventory:
        _check_load(c)
        return
    holders = {}
    for i, inv in enumerate(doc.inventory):
        holders.setdefault(inv.item, i)
    profs: set[str] | None = None
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
        armor = item.get("armor")
        if armor is not None and inv.equipped:
            if armor["str_min"] > c.scores["str"]:
                c.warn("armor_strength_requirement", f"inventory.{i}.item",
                       f"{inv.item} needs Str {armor['str_min']}; Str is "
                       f"{c.scores['str']} (speed drops by 10 feet).",
                       f"Raise Str to {armor['str_min']} or wear lighter armor.")
            if profs is None:
                profs = _armor_profs(c)
            if armor["category"] not in profs:
                c.err("armor_not_proficient", f"inventory.{i}.equipped",
                      f"The character's classes give no {armor['category']} armor "
                      f"proficiency for {inv.item}.",
                      "Unequip it, or take a class that grants the proficiency first.")
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


def _check_load(c: _Ctx) -> None:
    cap = carrying_capacity(c.doc, c.rules, c.scores["str"])
    carried = load(c.doc, c.rules)
    if carried > cap:
        c.err("over_carrying_capacity", "inventory",
              f"The character carries {carried:g} lb; Str {c.scores['str']} allows {cap:g} lb.",
              f"Drop {carried - cap:g} lb of items or coins, or store them elsewhere.")


# --- languages and skills ------------------------------------------------------------------

def _match(extras: list[str], pools: list[Pool]) -> bool:
    """Whether each extra can be assigned to a distinct choice slot that allows it."""
    slots = [allowed for n, allowed in pools for _ in range(n)]
    owner: list[int] = [-1] * len(slots)

    def place(e: int, seen: set[int]) -> bool:
        for s, allowed in enumerate(slots):
            if s in seen or (allowed is not None and extras[e] not in allowed):
                continue
            seen.add(s)
            if owner[s] == -1 or place(owner[s], seen):
                owner[s] = e
                return True
        return False

    return all(place(e, set()) for e in range(len(extras)))


def _pools(choices: Iterable[dict | None]) -> list[Pool]:
    out: list[Pool] = []
    for ch in choices:
        if ch:
            src = ch["from"]
            out.append((ch["choose"], None if src == "any" else frozenset(src)))
    return out


def _origin_records(c: _Ctx) -> list[Record]:
    return [r for r in (c.race, c.subrace, c.bg) if r is not None]


def _check_languages(c: _Ctx) -> None:
    doc, rules = c.doc, c.rules
    fixed: set[str] = set()
    pools: list[Pool] = []
    for rec in _origin_records(c):
        fixed.update(rec.get("languages", ()))
        pools += _pools(rec.get("language_choices", ()))
    for _, _, _, rec in c.classes:
        fixed.update(rec.get("languages", ()))
    if rules.ruleset == "2024":
        fixed.add("common")  # 2024: Common plus two standard languages
        pools.append((2, rules.standard_languages))
    known: list[str] = []
    for i, lang in enumerate(doc.languages):
        if lang not in rules.languages:
            c.err("unknown_reference", f"languages.{i}", f"There is no language {lang!r}.",
                  f"Choose from: {_names(rules.languages)}.")
        elif lang in known:
            c.err("language_count_invalid", f"languages.{i}", f"{lang} is listed twice.",
                  "List each language once.")
        else:
            known.append(lang)
    missing = fixed - set(known)
    if missing:
        c.err("language_count_invalid", "languages",
              f"Missing languages the character's origin and classes grant: {_names(missing)}.",
              f"Add {_names(missing)}.")
    extras = [lang for lang in known if lang not in fixed]
    need = sum(n for n, _ in pools)
    if len(extras) != need:
        c.err("language_count_invalid", "languages",
              f"{len(extras)} chosen languages beyond the fixed ones; the origin allows {need}.",
              f"Choose exactly {need} languages besides {_names(fixed)}.")
    elif not _match(extras, pools):
        c.err("language_count_invalid", "languages",
              f"The chosen languages {_names(extras)} are not all ones the origin lets you "
              "choose.", "Pick the extra languages from the origin's options "
              "(2024: standard languages).")


def _check_skills(c: _Ctx) -> None:
    doc, rules = c.doc, c.rules
    fixed: list[str] = []
    pools: list[Pool] = []
    for rec in _origin_records(c):
        fixed.extend(rec.get("skills", ()))
        pools += _pools(rec.get("skill_choices", ()))
    for n, (i, _, _, rec) in enumerate(c.classes):
        ch = rec.get("skill_choice") if (n == 0 and i == 0) else rec.get("mc_skill_choice")
        pools += _pools([ch])
    # The same skill granted twice by fixed sources: the SRD lets you pick any other one.
    overlap = len(fixed) - len(set(fixed))
    if overlap:
        pools.append((overlap, None))
    fixed_set = set(fixed)
    known: list[str] = []
    for i, s in enumerate(doc.skills):
        if s not in rules.skills:
            c.err("unknown_reference", f"skills.{i}", f"There is no skill {s!r}.",
                  f"Choose from: {_names(rules.skills)}.")
        elif s in known:
            c.err("skill_choice_invalid", f"skills.{i}", f"{s} is listed twice.",
                  "List each skill once.")
        else:
            known.append(s)
    missing = fixed_set - set(known)
    if missing:
        c.err("skill_choice_invalid", "skills",
              f"Missing skills the background and origin grant: {_names(missing)}.",
              f"Add {_names(missing)}.")
    extras = [s for s in known if s not in fixed_set]
    need = sum(n for n, _ in pools)
    if len(extras) != need:
        c.err("skill_choice_invalid", "skills",
              f"{len(extras)} chosen skills beyond the granted ones; the class and origin "
              f"allow {need}.", f"Choose exactly {need} skills besides {_names(fixed_set)}.")
    elif not _match(extras, pools):
        c.err("skill_choice_invalid", "skills",
              f"The chosen skills {_names(extras)} are not all on the class's (or origin's) "
              "skill lists.", "Pick class skills from the first class's list.")


# --- hit points ----------------------------------------------------------------------------

def hit_point_range(c: _Ctx) -> tuple[int, int] | None:
    if not c.classes or len(c.classes) != len(c.doc.classes):
        return None
    con = c.mods["con"]
    per_level = sum(r.get("hp_per_level", 0) for r in (c.race, c.subrace) if r)
    lo = hi = 0
    first = True
    for _, _, level, rec in c.classes:
        die = rec["hit_die"]
        for _ in range(max(0, min(level, C.MAX_LEVEL))):
            if first:  # the first character level: hit die maximum
                lo += max(1, die + con)
                hi += max(1, die + con)
                first = False
            else:
                lo += max(1, 1 + con)
                hi += max(1, die + con)
            lo += per_level
            hi += per_level
    return lo, hi


def _check_hit_points(c: _Ctx) -> None:
    if c.doc.hit_points is None:
        return
    rng = hit_point_range(c)
    if rng is None:
        return
    lo, hi = rng
    hp = c.doc.hit_points
    if not lo <= hp <= hi:
        c.err("hit_points_invalid", "hit_points",
              f"Maximum HP {hp} is outside what the hit dice and Con allow ({lo}..{hi}).",
              f"Set maximum HP between {lo} and {hi}.")


def _check_theme(c: _Ctx) -> None:
    if c.doc.theme is None:
        return
    theme = themes.get_theme(c.doc.theme)
    if theme is None:
        c.err("unknown_reference", "theme", f"There is no theme {c.doc.theme!r}.",
              "Choose one of: " + _names(t.slug for t in themes.themes_for(c.rules.ruleset)))
        return
    c.errors.extend(themes.content_issues(c.doc, theme, c.rules))


_CHECKS = (_check_origin, _check_classes, _check_scores, _check_bonuses, _check_multiclass,
           _check_spells, _check_inventory, _check_languages, _check_skills, _check_hit_points,
           _check_theme)


def validate(doc: CharacterDoc, rules: Rules) -> ValidationReport:
    """Check a document against one ruleset's tables (SRD plus any homebrew)."""
    if doc.ruleset != rules.ruleset:
        raise ValueError(f"document is {doc.ruleset} but the rules are {rules.ruleset}")
    c = _Ctx(doc, rules)
    for check in _CHECKS:
        check(c)
    return ValidationReport(valid=not c.errors, errors=c.errors, warnings=c.warnings)
