"""Checks of class levels, subclasses, XP and multiclass prerequisites."""

from __future__ import annotations

from domain.rules import constants as C
from domain.rules.checks.context import Context, names


def check_classes(c: Context) -> None:
    doc, rules = c.doc, c.rules
    seen: set[str] = set()
    for i, cl in enumerate(doc.classes):
        rec = rules.classes.get(cl.class_)
        if rec is None:
            c.err("unknown_reference", f"classes.{i}.class",
                  f"There is no class {cl.class_!r} in these rules.",
                  f"Choose a class: {names(rules.classes)}.")
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
                  f"Choose a {cl.class_} subclass ({names(rec['subclasses'])}) or none.")
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


def check_multiclass(c: Context) -> None:
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
