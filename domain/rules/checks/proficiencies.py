"""Checks of languages and skills against the fixed grants and choice pools."""

from __future__ import annotations

from collections.abc import Iterable

from domain.rules.checks.context import Context, names

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


def _pools(c: Context, what: str) -> list[Pool]:
    return [(n, allowed) for n, allowed, _ in c.grants.pools.get(what, ())]


def check_languages(c: Context) -> None:
    g = c.grants
    _check_picks(
        c, "languages", "language", "language_count_invalid", c.rules.languages,
        set(g.languages), _pools(c, "language"),
        granted_by="the character's origin, classes and features",
        hint="Pick the extra languages from the origin's and features' options "
             "(2024: standard languages).",
    )


def check_skills(c: Context) -> None:
    fixed = c.grants.skill_list
    pools = _pools(c, "skill")
    # The same skill granted twice by fixed sources: the SRD lets you pick any other one.
    overlap = len(fixed) - len(set(fixed))
    if overlap:
        pools.append((overlap, None))
    _check_picks(
        c, "skills", "skill", "skill_choice_invalid", c.rules.skills, set(fixed), pools,
        granted_by="the background, origin and features",
        hint="Pick class skills from the first class's list (features such as Lore's Bonus "
             "Proficiencies add skills of any kind).",
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
