"""The D&D 5e rules engine: SRD 5.1 (2014) and SRD 5.2 (2024) tables, themes, validation
and derived values. Pure domain code: no Ray, HTTP or database imports. Homebrew content is
merged into a `Rules` by `domain.homebrew`."""

from domain.rules.derived import derive
from domain.rules.tables import Rules, load_rules
from domain.rules.themes import (
    THEMES,
    Theme,
    apply_transition,
    check_transition,
    get_theme,
    themes_for,
)
from domain.rules.validation import validate

__all__ = [
    "THEMES",
    "Rules",
    "Theme",
    "apply_transition",
    "check_transition",
    "derive",
    "get_theme",
    "load_rules",
    "themes_for",
    "validate",
]
