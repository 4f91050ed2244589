"""Checks of the document's feature choices (`choices`) against what its features offer."""

from __future__ import annotations

from domain.rules.checks.context import Context, names

# Tools a proficiency-based choice (Expertise) may name besides skills.
_TOOL_EXPERTISE = frozenset({"thieves-tools"})


def check_choices(c: Context) -> None:
    g = c.grants
    chosen = c.doc.choices
    for key, value in chosen.items():
        spec = g.choices.get(key)
        path = f"choices.{key}"
        if spec is None:
            # A leftover (the class changed, a level was lost): ignored, so only a warning.
            offered = names(g.choices) if g.choices else "none at this level"
            c.warn("choice_invalid", path,
                   f"No feature of the character offers the choice {key!r}; it is ignored.",
                   f"Remove it; the character's features offer: {offered}.")
            continue
        values = [value] if isinstance(value, str) else list(value)
        seen: set[str] = set()
        for n, v in enumerate(values):
            vpath = path if isinstance(value, str) else f"{path}.{n}"
            if v in seen:
                c.err("choice_invalid", vpath, f"{v} is chosen twice for {key}.",
                      "Choose each option once.")
                continue
            seen.add(v)
            if spec.options is not None and v not in spec.options:
                c.err("choice_invalid", vpath, f"{v} is not an option of {key}.",
                      f"Choose from: {names(spec.options)}.")
            elif (spec.proficient and v not in c.doc.skills
                  and not (v in _TOOL_EXPERTISE and v in g.tools)):
                c.err("choice_invalid", vpath,
                      f"{key} needs a proficiency the character has; it is not proficient "
                      f"in {v}.",
                      f"Choose one of its skills: {names(c.doc.skills)}.")
        if len(values) > spec.n:
            c.err("choice_invalid", path,
                  f"{len(values)} options chosen for {key}; its features "
                  f"({'; '.join(spec.labels)}) give {spec.n}.",
                  f"Keep {spec.n} of them.")
    for key, spec in g.choices.items():
        value = chosen.get(key)
        have = 0 if value is None else (1 if isinstance(value, str) else len(value))
        if have < spec.n:
            what = (f"one of: {names(spec.options)}" if spec.options is not None
                    else "skills the character is proficient in")
            more = spec.n - have
            c.warn("choice_missing", f"choices.{key}",
                   f"{'; '.join(spec.labels)}: {more} {key} choice"
                   f"{'s' if more > 1 else ''} not recorded.",
                   f"Choose {more} {key.replace('-', ' ')} ({what}) in choices.{key}"
                   + (" as a list." if spec.n > 1 else "."))
