"""Checks of languages and skills against the fixed grants and choice pools."""

from __future__ import annotations

from collections.abc import Iterable

from domain.rules.checks.context import Context, names, origin_records

Pool = tuple[int, frozenset[str] | None]  # (how many to choose, from which; None: any)


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


def check_languages(c: Context) -> None:
    doc, rules = c.doc, c.rules
    fixed: set[str] = set()
    pools: list[Pool] = []
    for rec in origin_records(c):
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
                  f"Choose from: {names(rules.languages)}.")
        elif lang in known:
            c.err("language_count_invalid", f"languages.{i}", f"{lang} is listed twice.",
                  "List each language once.")
        else:
            known.append(lang)
    missing = fixed - set(known)
    if missing:
        c.err("language_count_invalid", "languages",
              f"Missing languages the character's origin and classes grant: {names(missing)}.",
              f"Add {names(missing)}.")
    extras = [lang for lang in known if lang not in fixed]
    need = sum(n for n, _ in pools)
    if len(extras) != need:
        c.err("language_count_invalid", "languages",
              f"{len(extras)} chosen languages beyond the fixed ones; the origin allows {need}.",
              f"Choose exactly {need} languages besides {names(fixed)}.")
    elif not _match(extras, pools):
        c.err("language_count_invalid", "languages",
              f"The chosen languages {names(extras)} are not all ones the origin lets you "
              "choose.", "Pick the extra languages from the origin's options "
              "(2024: standard languages).")


def check_skills(c: Context) -> None:
    doc, rules = c.doc, c.rules
    fixed: list[str] = []
    pools: list[Pool] = []
    for rec in origin_records(c):
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
                  f"Choose from: {names(rules.skills)}.")
        elif s in known:
            c.err("skill_choice_invalid", f"skills.{i}", f"{s} is listed twice.",
                  "List each skill once.")
        else:
            known.append(s)
    missing = fixed_set - set(known)
    if missing:
        c.err("skill_choice_invalid", "skills",
              f"Missing skills the background and origin grant: {names(missing)}.",
              f"Add {names(missing)}.")
    extras = [s for s in known if s not in fixed_set]
    need = sum(n for n, _ in pools)
    if len(extras) != need:
        c.err("skill_choice_invalid", "skills",
              f"{len(extras)} chosen skills beyond the granted ones; the class and origin "
              f"allow {need}.", f"Choose exactly {need} skills besides {names(fixed_set)}.")
    elif not _match(extras, pools):
        c.err("skill_choice_invalid", "skills",
              f"The chosen skills {names(extras)} are not all on the class's (or origin's) "
              "skill lists.", "Pick class skills from the first class's list.")
