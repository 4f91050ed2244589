"""Checks of the origin references: race/species, subrace/subspecies, background."""

from __future__ import annotations

from domain.rules.checks.context import Context, names


def check_origin(c: Context) -> None:
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
              f"Choose a {main}: {names(rules.races)}.")
    elif main_slug not in rules.races:
        c.err("unknown_reference", main, f"There is no {main} {main_slug!r} in these rules.",
              f"Choose a {main}: {names(rules.races)}.")
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
                  f"Choose a {sub} of {main_slug} ({names(options)}) or none.")
        else:
            c.subrace = rec
    if c.bg is None:
        c.err("unknown_reference", "background",
              f"There is no background {doc.background!r} in these rules.",
              f"Choose a background: {names(rules.backgrounds)}.")
