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
    fixed: set[str] = set()
    pools: list[Pool] = []
    for rec in origin_records(c):
        fixed.update(rec.get("languages", ()))
        pools += _pools(rec.get("language_choices", ()))
    for _, _, _, rec in c.classes:
        fixed.update(rec.get("languages", ()))
    if c.rules.ruleset == "2024":
        fixed.add("common")  # 2024: Common plus two standard languages
        pools.append((2, c.rules.standard_languages))
    _check_picks(
        c, "languages", "language", "language_count_invalid", c.rules.languages, fixed, pools,
        granted_by="the character's origin and classes",
        hint="Pick the extra languages from the origin's options (2024: standard languages).",
    )


def check_skills(c: Context) -> None:
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
    _check_picks(
        c, "skills", "skill", "skill_choice_invalid", c.rules.skills, set(fixed), pools,
        granted_by="the background and origin",
        hint="Pick class skills from the first class's list.",
    )


def _check_picks(
    c: Context,
    field: str,
    noun: str,
    code: str,
    table: Iterable[str],
    fixed: set[str],
    pools: list[Pool],
    *,
    granted_by: str,
    hint: str,
) -> None:
    """The document's `field` must hold every fixed grant plus exactly the choices the pools
    allow, each known to the rules and listed once."""
    known: list[str] = []
    for i, slug in enumerate(getattr(c.doc, field)):
        if slug not in table:
            c.err("unknown_reference", f"{field}.{i}", f"There is no {noun} {slug!r}.",
                  f"Choose from: {names(table)}.")
        elif slug in known:
            c.err(code, f"{field}.{i}", f"{slug} is listed twice.", f"List each {noun} once.")
        else:
            known.append(slug)
    missing = fixed - set(known)
    if missing:
        c.err(code, field, f"Missing {field} {granted_by} grant: {names(missing)}.",
              f"Add {names(missing)}.")
    extras = [slug for slug in known if slug not in fixed]
    need = sum(n for n, _ in pools)
    if len(extras) != need:
        c.err(code, field,
              f"{len(extras)} chosen {field} beyond the granted ones; {need} may be chosen.",
              f"Choose exactly {need} {field} besides {names(fixed)}.")
    elif not _match(extras, pools):
        c.err(code, field,
              f"The chosen {field} {names(extras)} are not all on the lists they may be chosen "
              "from.", hint)
