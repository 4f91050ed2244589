"""Campaign themes: the rules' character themes (domain.rules.themes) seen from a campaign:
tone, what the theme allows and forbids, its world effects on locations and factions, and
which transitions a campaign may make."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from domain.campaigns.context import ThemeSummary
from domain.errors import InvalidRequest
from domain.rules.themes import ANY, THEMES, Theme, get_theme


@dataclass(frozen=True)
class Flavour:
    tone: str
    allows: tuple[str, ...]
    world_effects: dict[str, str]  # "location" / "faction": how the theme colours them


FLAVOURS: dict[str, Flavour] = {
    "heroic": Flavour(
        "Bright and hopeful: good can win, sacrifice matters.",
        ("heroic sacrifice", "redemption", "divine aid"),
        {"location": "Settlements are safe havens; ruins hold lost glory.",
         "faction": "Factions can be swayed by deeds; villains are clear."},
    ),
    "grimdark": Flavour(
        "Bleak and morally grey: every victory costs.",
        ("moral ambiguity", "body horror", "betrayal"),
        {"location": "Every place is decaying or contested; shelter is scarce.",
         "faction": "No faction is clean; allies extract a price."},
    ),
    "shadow-self": Flavour(
        "Mirrored and uncanny: the heroes meet their own reflections (the Antitheticon).",
        ("doppelgangers", "mirror worlds", "identity theft"),
        {"location": "Places have a reflected twin where things are reversed.",
         "faction": "Each faction has a mirrored counterpart working against it."},
    ),
    "old-school": Flavour(
        "By the book: exploration, traps and resource attrition.",
        ("dungeon crawling", "hirelings", "random encounters"),
        {"location": "Dungeons are deadly and mapped room by room.",
         "faction": "Factions are simple: hostile, neutral or friendly."},
    ),
}


class CampaignThemeOut(BaseModel):
    slug: str
    name: str
    rulesets: list[str]
    tone: str
    allows: list[str]
    forbids: list[str]
    world_effects: dict[str, str]
    ability_adjustments: dict[str, int]
    allowed_from: list[str | None]


def forbids(theme: Theme) -> list[str]:
    out = [f"school:{s}" for s in sorted(theme.forbidden_schools)]
    out += [f"spell:{s}" for s in sorted(theme.forbidden_spells)]
    out += [f"item:{s}" for s in sorted(theme.forbidden_items)]
    out += [f"class:{s}" for s in sorted(theme.forbidden_classes)]
    return out


def describe(theme: Theme) -> CampaignThemeOut:
    flavour = FLAVOURS.get(theme.slug, Flavour("", (), {}))
    return CampaignThemeOut(
        slug=theme.slug,
        name=theme.name,
        rulesets=sorted(theme.rulesets),
        tone=flavour.tone,
        allows=list(flavour.allows),
        forbids=forbids(theme),
        world_effects=flavour.world_effects,
        ability_adjustments=dict(theme.adjustments),
        allowed_from=sorted(theme.allowed_from, key=lambda t: t or ""),
    )


def catalog(ruleset: str | None = None) -> list[CampaignThemeOut]:
    return [describe(t) for t in THEMES.values() if ruleset is None or ruleset in t.rulesets]


def summary(slug: str | None) -> ThemeSummary:
    theme = get_theme(slug)
    if theme is None:
        return ThemeSummary()
    out = describe(theme)
    return ThemeSummary(slug=slug, tone=out.tone, allows=out.allows, forbids=out.forbids)


def world_effect(slug: str | None, kind: str) -> str | None:
    flavour = FLAVOURS.get(slug or "")
    return flavour.world_effects.get(kind) if flavour else None


def check_campaign_transition(current: str | None, to: str | None, ruleset: str) -> None:
    """422 with a clear code unless a campaign may move from `current` to `to`."""
    if to is None or to == current:
        return  # dropping the theme, or staying, is always allowed
    theme = get_theme(to)
    if theme is None:
        raise InvalidRequest(
            f"There is no theme called {to!r}; choose one of: {', '.join(sorted(THEMES))}.",
            code="theme_unknown",
        )
    if ruleset not in theme.rulesets:
        offered = ", ".join(t.slug for t in THEMES.values() if ruleset in t.rulesets)
        raise InvalidRequest(
            f"The {theme.name} theme is not offered in the {ruleset} rules; choose one of: "
            f"{offered}.",
            code="theme_not_offered",
        )
    if ANY not in theme.allowed_from and current not in theme.allowed_from:
        allowed = ", ".join(sorted(t or "no theme" for t in theme.allowed_from))
        raise InvalidRequest(
            f"A campaign cannot move directly from {current or 'no theme'} to {theme.name}: "
            f"move to it only from {allowed}.",
            code="theme_transition_disallowed",
        )
