"""Campaign themes: ability adjustments, forbidden content, and which transitions are allowed.

A theme's ability adjustments live in the document as `source="theme"` ability bonuses, written
only by `apply_transition`, so `validate` can check that they match the theme.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.rules.tables import Rules
from domain.sheet import ABILITIES, AbilityBonus, CharacterDoc, Issue

ANY = "*"  # in allowed_from: any theme (or none)


@dataclass(frozen=True)
class Theme:
    slug: str
    name: str
    rulesets: frozenset[str]
    adjustments: dict[str, int] = field(default_factory=dict)
    forbidden_schools: frozenset[str] = frozenset()
    forbidden_spells: frozenset[str] = frozenset()
    forbidden_items: frozenset[str] = frozenset()
    forbidden_classes: frozenset[str] = frozenset()
    requires_counterpart: bool = False
    # Themes (None = no theme) a character may move here from; ANY: from anywhere.
    allowed_from: frozenset[str | None] = frozenset({ANY})


_HEALING = frozenset({
    "cure-wounds", "healing-word", "mass-cure-wounds", "mass-healing-word", "heal",
    "mass-heal", "prayer-of-healing", "power-word-heal", "revivify",
})

THEMES: dict[str, Theme] = {
    t.slug: t
    for t in (
        # Shining heroes: +1 Cha -1 Con; no necromancy, no fiend-bound armor.
        Theme("heroic", "Heroic", frozenset({"2014", "2024"}), {"cha": 1, "con": -1},
              forbidden_schools=frozenset({"necromancy"}),
              forbidden_items=frozenset({"demon-armor"}),
              allowed_from=frozenset({None, "heroic", "grimdark"})),
        # Hard world: +1 Con -1 Cha (the mirror of heroic); forbids nothing.
        Theme("grimdark", "Grimdark", frozenset({"2014", "2024"}), {"con": 1, "cha": -1}),
        # The Antitheticon's mirrored counterpart of a character: needs a linked counterpart;
        # +1 Dex -1 Wis; no restorative magic, no paladin oath, no holy avenger.
        Theme("shadow-self", "Shadow Self (Antitheticon)", frozenset({"2014", "2024"}),
              {"dex": 1, "wis": -1},
              forbidden_spells=_HEALING,
              forbidden_items=frozenset({"holy-avenger"}),
              forbidden_classes=frozenset({"paladin"}),
              requires_counterpart=True),
        # 2014-only: plays by the book, no adjustments.
        Theme("old-school", "Old School", frozenset({"2014"}),
              allowed_from=frozenset({None, "heroic", "grimdark", "old-school"})),
    )
}


def get_theme(slug: str | None) -> Theme | None:
    return THEMES.get(slug) if slug else None


def themes_for(ruleset: str) -> list[Theme]:
    return [t for t in THEMES.values() if ruleset in t.rulesets]


def content_issues(doc: CharacterDoc, theme: Theme, rules: Rules) -> list[Issue]:
    """`theme_incompatible` for each part of the document that the theme forbids."""
    out: list[Issue] = []
    if rules.ruleset not in theme.rulesets:
        offered = ", ".join(t.slug for t in themes_for(rules.ruleset))
        out.append(Issue(
            code="theme_incompatible", path="theme",
            message=f"The {theme.name} theme is not offered in the {rules.ruleset} rules.",
            fix=f"Choose a theme offered in {rules.ruleset} ({offered}) or none."))
    if theme.forbidden_classes:
        for i, cl in enumerate(doc.classes):
            if cl.class_ in theme.forbidden_classes:
                out.append(Issue(
                    code="theme_incompatible", path=f"classes.{i}.class",
                    message=f"The {theme.name} theme forbids the {cl.class_} class.",
                    fix=f"Remove the {cl.class_} levels or choose another theme."))
    if theme.forbidden_schools or theme.forbidden_spells:
        for i, ks in enumerate(doc.spells):
            sp = rules.spells.get(ks.name)
            school = sp["school"] if sp else None
            if ks.name in theme.forbidden_spells or school in theme.forbidden_schools:
                why = f"{school} spells" if school in theme.forbidden_schools else ks.name
                out.append(Issue(
                    code="theme_incompatible", path=f"spells.{i}.name",
                    message=f"The {theme.name} theme forbids {why}.",
                    fix=f"Remove {ks.name} or choose another theme."))
    if theme.forbidden_items:
        for i, inv in enumerate(doc.inventory):
            if inv.item in theme.forbidden_items:
                out.append(Issue(
                    code="theme_incompatible", path=f"inventory.{i}.item",
                    message=f"The {theme.name} theme forbids the item {inv.item}.",
                    fix=f"Remove {inv.item} or choose another theme."))
    return out


def check_transition(doc: CharacterDoc, to_theme: str | None, rules: Rules,
                     has_counterpart: bool) -> list[Issue]:
    """Why the character cannot move from its theme to `to_theme` (empty: it can)."""
    if to_theme is None:
        return []  # dropping a theme is always allowed
    theme = get_theme(to_theme)
    if theme is None:
        return [Issue(code="unknown_reference", path="theme",
                      message=f"There is no theme called {to_theme!r}.",
                      fix="Choose one of: " + ", ".join(sorted(THEMES)) + ".")]
    out: list[Issue] = []
    if ANY not in theme.allowed_from and doc.theme not in theme.allowed_from:
        allowed = ", ".join(sorted(str(t) if t else "no theme" for t in theme.allowed_from))
        out.append(Issue(
            code="theme_incompatible", path="theme",
            message=f"A character cannot move directly from {doc.theme or 'no theme'} to "
                    f"{theme.name}.",
            fix=f"Move to {theme.name} only from: {allowed}."))
    if theme.requires_counterpart and not has_counterpart:
        out.append(Issue(
            code="theme_incompatible", path="theme",
            message=f"The {theme.name} theme needs a linked counterpart character.",
            fix="Link a counterpart character first, then apply the theme."))
    out.extend(content_issues(doc, theme, rules))
    return out


def adjustments_of(slug: str | None) -> dict[str, int]:
    theme = get_theme(slug)
    return dict(theme.adjustments) if theme else {}


def apply_transition(doc: CharacterDoc, to_theme: str | None
                     ) -> tuple[CharacterDoc, dict[str, int]]:
    """Swap the old theme's ability bonuses for the new one's; returns (doc, net change).

    Does not check the transition: call `check_transition` first.
    """
    old: dict[str, int] = {}
    for b in doc.ability_bonuses:
        if b.source == "theme":
            old[b.ability] = old.get(b.ability, 0) + b.value
    new = adjustments_of(to_theme)
    kept = [b for b in doc.ability_bonuses if b.source != "theme"]
    added = [AbilityBonus(ability=a, value=v, source="theme", note=to_theme)
             for a, v in new.items() if v]
    net = {a: new.get(a, 0) - old.get(a, 0) for a in ABILITIES}
    net = {a: v for a, v in net.items() if v}
    return doc.model_copy(update={"theme": to_theme, "ability_bonuses": kept + added}), net
