"""Whether a character may play in a campaign: its house rules (ruleset, allowed sources,
banned content, campaign-scoped homebrew) and its theme (the rules' `theme_incompatible`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.campaigns.schemas import HouseRules
from domain.characters.models import Character
from domain.homebrew.models import HomebrewContent
from domain.homebrew.service import HomebrewService
from domain.rules.themes import content_issues, get_theme
from domain.sheet import CharacterDoc
from domain.users.schemas import Principal


def used_content(doc: CharacterDoc) -> list[tuple[str, str]]:
    """(path, slug) of every piece of rules content the document names."""
    out: list[tuple[str, str]] = []
    for field in ("species", "subspecies", "race", "subrace", "background"):
        if value := getattr(doc, field):
            out.append((field, value))
    for i, cl in enumerate(doc.classes):
        out.append((f"classes.{i}.class", cl.class_))
        if cl.subclass:
            out.append((f"classes.{i}.subclass", cl.subclass))
    out += [(f"spells.{i}.name", s.name) for i, s in enumerate(doc.spells)]
    out += [(f"inventory.{i}.item", it.item) for i, it in enumerate(doc.inventory)]
    for key, value in doc.choices.items():
        out.append((f"choices.{key}", key))
        values = value if isinstance(value, list) else [value]
        out += [(f"choices.{key}", v) for v in values if isinstance(v, str)]
    return out


def _issue(character: Character, code: str, path: str, message: str, fix: str) -> dict[str, Any]:
    return {"character_id": character.id, "code": code, "path": path, "message": message,
            "fix": fix}


def house_rule_issues(
    session: Session, campaign_id: int, ruleset: str, rules: HouseRules, character: Character
) -> list[dict[str, Any]]:
    doc = CharacterDoc.model_validate(character.document)
    if doc.ruleset != ruleset:
        return [_issue(character, "ruleset_mismatch", "ruleset",
                       f"{doc.name!r} uses the {doc.ruleset} rules; the campaign plays "
                       f"{ruleset}.", f"Bring a {ruleset} character.")]
    homebrew = {
        slug: scope
        for slug, scope in session.execute(
            select(HomebrewContent.slug, HomebrewContent.scope).where(
                HomebrewContent.ruleset == ruleset, HomebrewContent.deleted_at.is_(None)
            )
        )
    }
    banned = set(rules.banned)
    ours = ("global", f"campaign:{campaign_id}")
    out: list[dict[str, Any]] = []
    for path, slug in used_content(doc):
        if slug in banned:
            out.append(_issue(character, "banned_content", path,
                              f"The campaign bans {slug!r}.", f"Remove {slug} from the character."))
        elif slug in homebrew and "homebrew" not in rules.allowed_sources:
            out.append(_issue(character, "source_not_allowed", path,
                              f"{slug!r} is homebrew, which the campaign does not allow.",
                              f"Replace {slug} with SRD content."))
        elif slug in homebrew and homebrew[slug] not in ours:
            out.append(_issue(character, "homebrew_scope", path,
                              f"{slug!r} is homebrew of another campaign.",
                              f"Replace {slug}, or ask the DM to add it to this campaign."))
        elif slug not in homebrew and "srd" not in rules.allowed_sources:
            out.append(_issue(character, "source_not_allowed", path,
                              f"{slug!r} is SRD content, which the campaign does not allow.",
                              f"Replace {slug} with the campaign's homebrew."))
    return out


def theme_issues(
    session: Session, principal: Principal, character: Character, theme_slug: str | None
) -> list[dict[str, Any]]:
    """The rules' `theme_incompatible` issues of the character under the campaign theme."""
    theme = get_theme(theme_slug)
    if theme is None:
        return []
    doc = CharacterDoc.model_validate(character.document)
    rules = HomebrewService(session, principal).rules(doc.ruleset)
    return [
        {"character_id": character.id, **issue.model_dump()}
        for issue in content_issues(doc, theme, rules)
    ]
