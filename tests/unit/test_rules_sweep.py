"""No false errors: a character of every SRD class and subclass, on every species/subspecies
and background, at levels 1, 3, 5, 11 and 20, with its skill, language and feature choices
filled from what its grants offer, validates without errors (and without choice_missing)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from domain.rules import load_rules, validate
from domain.rules.constants import XP_THRESHOLDS
from domain.rules.grants import grants_for
from domain.sheet import CharacterDoc

LEVELS = (1, 3, 5, 11, 20)


def _fill(rules: Any, d: dict[str, Any]) -> dict[str, Any]:
    """Fill skills, languages and choices from the grants (twice: choices add grants)."""
    for _ in range(2):
        doc = CharacterDoc.model_validate(d)
        g = grants_for(doc, rules)
        skills = list(dict.fromkeys(g.skill_list))
        extra = len(g.skill_list) - len(skills)
        for n, allowed, _ in [*g.pools.get("skill", []), *([(extra, None, "")] if extra else [])]:
            pool = sorted(allowed) if allowed is not None else sorted(rules.skills)
            skills += [s for s in pool if s not in skills][:n]
        langs = list(g.languages)
        for n, allowed, _ in g.pools.get("language", []):
            pool = sorted(allowed) if allowed is not None else sorted(
                s for s, r in rules.languages.items() if not r.get("secret"))
            langs += [s for s in pool if s not in langs][:n]
        choices: dict[str, Any] = {}
        for key, spec in g.choices.items():
            opts = sorted(spec.options) if spec.options is not None else skills
            if spec.proficient:
                opts = [o for o in opts if o in skills]
            picked = opts[:spec.n]
            choices[key] = picked[0] if spec.n == 1 else picked
        d.update(skills=skills, languages=langs, choices=choices)
    return d


def _cases(rs: str) -> list[tuple[str, str | None, str, str | None, str, int]]:
    rules = load_rules(rs)
    subs = [(c, s) for c in sorted(rules.classes) for s in [None, *rules.classes[c]["subclasses"]]]
    origins = [(r, s) for r in sorted(rules.races)
               for s in [None, *sorted(k for k, v in rules.subraces.items()
                                       if v["parent"] == r)]]
    out = []
    # Every class/subclass at every level; origins and backgrounds rotate through them.
    cycle = itertools.cycle(itertools.product(origins, sorted(rules.backgrounds)))
    for (cls, sub), level in itertools.product(subs, LEVELS):
        (race, subrace), bg = next(cycle)
        out.append((cls, sub, race, subrace, bg, level))
    return out


@pytest.mark.parametrize("rs", ["2014", "2024"])
def test_every_class_subclass_origin_and_level_is_legal(rs: str) -> None:
    rules = load_rules(rs)
    failures = []
    for cls, sub, race, subrace, bg, level in _cases(rs):
        rec = rules.classes[cls]
        if sub is not None and level < rules.subclasses[sub]["level"]:
            sub = None
        d: dict[str, Any] = {
            "name": "Sweep", "ruleset": rs, "background": bg,
            "classes": [{"class": cls, "level": level, "subclass": sub}],
            "ability_method": "standard_array",
            "base_abilities": {"str": 15, "dex": 14, "con": 13, "int": 12, "wis": 10, "cha": 8},
            "xp": XP_THRESHOLDS[level - 1],
        }
        if rs == "2014":
            d.update(race=race, subrace=subrace)
            r = rules.races[race]
            bonuses = [{"ability": a, "value": v, "source": "race"}
                       for a, v in r["bonuses"].items()]
            if subrace:
                bonuses += [{"ability": a, "value": v, "source": "subrace"}
                            for a, v in rules.subraces[subrace]["bonuses"].items()]
            choice = r.get("bonus_choice")
            if choice:
                bonuses += [{"ability": a, "value": choice["amount"], "source": "race"}
                            for a in choice["from"][:choice["choose"]]]
        else:
            d.update(species=race, subspecies=subrace)
            a, b = rules.backgrounds[bg]["abilities"][:2]
            bonuses = [{"ability": a, "value": 2, "source": "background"},
                       {"ability": b, "value": 1, "source": "background"}]
        d["ability_bonuses"] = bonuses
        report = validate(CharacterDoc.model_validate(_fill(rules, d)), rules)
        bad = [(i.code, i.path, i.message) for i in report.errors] + [
            (i.code, i.path, i.message) for i in report.warnings if i.code == "choice_missing"]
        if bad:
            failures.append((cls, sub, race, subrace, bg, level, bad))
        assert rec  # the class exists
    assert not failures, failures[:5]
