"""Rules validation of a character document: every finding is an Issue with a code, a dotted
path into the document, what is wrong and how to fix it. See docs/rules.md for the codes."""

from __future__ import annotations

from domain.rules.checks.abilities import check_bonuses, check_scores
from domain.rules.checks.choices import check_choices
from domain.rules.checks.classes import check_classes, check_multiclass
from domain.rules.checks.context import Context
from domain.rules.checks.hit_points import check_hit_points, hit_point_range
from domain.rules.checks.inventory import check_inventory
from domain.rules.checks.origin import check_origin
from domain.rules.checks.proficiencies import check_languages, check_skills
from domain.rules.checks.spells import check_spells
from domain.rules.checks.theme import check_theme
from domain.rules.tables import Rules
from domain.sheet import CharacterDoc, ValidationReport

__all__ = ["hit_point_range", "validate"]

# The order of the checks is the order of the issues in a report.
_CHECKS = (check_origin, check_classes, check_scores, check_bonuses, check_multiclass,
           check_spells, check_inventory, check_languages, check_skills, check_hit_points,
           check_theme, check_choices)


def validate(doc: CharacterDoc, rules: Rules) -> ValidationReport:
    """Check a document against one ruleset's tables (SRD plus any homebrew)."""
    if doc.ruleset != rules.ruleset:
        raise ValueError(f"document is {doc.ruleset} but the rules are {rules.ruleset}")
    c = Context(doc, rules)
    for check in _CHECKS:
        check(c)
    return ValidationReport(valid=not c.errors, errors=c.errors, warnings=c.warnings)
