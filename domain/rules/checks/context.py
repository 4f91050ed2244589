"""The validation context shared by all checks, and small formatting helpers."""

from __future__ import annotations

from collections.abc import Iterable

from domain.rules.derived import final_abilities, modifier
from domain.rules.grants import Grants, grants_for
from domain.rules.tables import Record, Rules
from domain.sheet import CharacterDoc, Issue


class Context:
    __slots__ = ("bg", "classes", "doc", "errors", "grants", "mods", "race", "rules", "scores",
                 "subrace", "warnings")

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
        # Everything the character's sources grant: every check reads grants from here.
        self.grants: Grants = grants_for(doc, rules)
        # (index, class slug, level, record) of the classes the rules know.
        self.classes: list[tuple[int, str, int, Record]] = [
            (i, cl.class_, cl.level, rules.classes[cl.class_])
            for i, cl in enumerate(doc.classes) if cl.class_ in rules.classes]

    def err(self, code: str, path: str, message: str, fix: str) -> None:
        self.errors.append(Issue(code=code, path=path, message=message, fix=fix))

    def warn(self, code: str, path: str, message: str, fix: str) -> None:
        self.warnings.append(Issue(code=code, path=path, message=message, fix=fix))


def names(slugs: Iterable[str]) -> str:
    return ", ".join(sorted(slugs)) or "none"

