"""Checks of the theme reference and the theme's content rules."""

from __future__ import annotations

from domain.rules import themes
from domain.rules.checks.context import Context, names


def check_theme(c: Context) -> None:
    if c.doc.theme is None:
        return
    theme = themes.get_theme(c.doc.theme)
    if theme is None:
        c.err("unknown_reference", "theme", f"There is no theme {c.doc.theme!r}.",
              "Choose one of: " + names(t.slug for t in themes.themes_for(c.rules.ruleset)))
        return
    c.errors.extend(themes.content_issues(c.doc, theme, c.rules))
