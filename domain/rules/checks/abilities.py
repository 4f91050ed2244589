"""Checks of ability scores, point buy, standard array, ability bonuses and ASI slots."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from domain.rules import constants as C
from domain.rules import themes
from domain.rules.checks.context import Context, names
from domain.rules.grants import ability_max
from domain.sheet import ABILITIES

Bad = Callable[[str, str, str], None]  # (bonus source, message, fix) -> records an error


def check_scores(c: Context) -> None:
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
    flo = C.FINAL_SCORE_RANGE[0]
    maxima = ability_max(c.grants, doc)  # 20, or more with Primal Champion / Epic Boons
    for a in ABILITIES:
        s, fhi = c.scores[a], maxima[a]
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


def _asi_slots(c: Context) -> int:
    slots = 0
    for _, slug, level, _ in c.classes:
        levels = C.ASI_LEVELS + C.EXTRA_ASI_LEVELS.get(slug, ())
        slots += sum(1 for lv in levels if lv <= level)
    return slots


def check_bonuses(c: Context) -> None:
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
    # Feature increases (Primal Champion, Body and Mind) up to what the features grant.
    feature = by_source.get("feature", {})
    over = {a: v for a, v in feature.items() if v > c.grants.bonus.get(a, 0)}
    if over:
        granted = ", ".join(f"{a} +{v}" for a, v in sorted(c.grants.bonus.items())) or "none"
        bad("feature", f"Feature ability increases {over} exceed what the features grant "
            f"({granted}).", f"Lower the feature bonuses to: {granted}.")
    # Theme bonuses must be exactly the theme's adjustments.
    expected = {a: v for a, v in themes.adjustments_of(doc.theme).items() if v}
    given = {a: v for a, v in by_source.get("theme", {}).items() if v}
    if expected != given:
        bad("theme", f"Theme bonuses {given or 'none'} differ from what the "
            f"{doc.theme or 'no'} theme grants ({expected or 'nothing'}).",
            "Apply the theme through a theme transition instead of editing its bonuses.")


def _check_origin_bonuses(c: Context, by_source: dict[str, dict[str, int]], first: dict[str, int],
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
                     f"{names(choice['from'])}")
        source = "race" if "race" in first else "subrace"
        bad(source, "Race and subrace bonuses do not match the tables "
            f"(given {dict(sorted(given.items())) or 'none'}).",
            f"Use exactly: {want}.")


def _check_background_bonuses(c: Context, given: dict[str, int], bad: Bad) -> None:
    assert c.bg is not None
    allowed = c.bg["abilities"]
    values = sorted((v for v in given.values() if v), reverse=True)
    ok = all(a in allowed for a, v in given.items() if v) and values in ([2, 1], [1, 1, 1])
    if not ok:
        bad("background", f"Background bonuses {dict(given) or 'none'} are not +2/+1 or "
            f"+1/+1/+1 among {names(allowed)}.",
            f"Give +2 and +1 to two, or +1 to all three, of {', '.join(allowed)}.")
