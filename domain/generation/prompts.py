"""Prompts, written for completion (a base model continues a document better than it answers
a chat): a chronicle page with the campaign's voice, its notes and a lead-in to continue.
Every prompt for a campaign carries its style guide and example passages."""

from __future__ import annotations

from domain.campaigns.context import CampaignContext

STORY_TASKS = {
    "beat": ("Next story beat (what happens next, in a few sentences)", "What happens next:\n"),
    "scene": ("Scene description (what the party sees, hears and smells)", "The scene:\n"),
    "dialogue": ("A line of dialogue", ""),
    "recap": ("Recap of the chapter so far", "Recap:\n"),
}
CONTENT_TASKS = {
    "npc": "a non-player character",
    "location": "a location",
    "plot_hook": "a plot hook",
    "encounter": "an encounter",
    "magic_item": "a magic item",
}


def header(ctx: CampaignContext) -> str:
    """The campaign's identity and voice: the part of every prompt that never changes."""
    lines = [f'From the chronicle of "{ctx.name}", a {ctx.ruleset} tabletop campaign.']
    theme = ctx.theme
    if theme.slug or theme.tone:
        about = ", ".join(p for p in (theme.slug, theme.tone and f"tone: {theme.tone}") if p)
        lines.append(f"Theme: {about}.")
    if theme.allows:
        lines.append("It features " + ", ".join(theme.allows) + ".")
    if theme.forbids:
        lines.append("It never features " + ", ".join(theme.forbids) + ".")
    if ctx.style.guide:
        lines.append(f"Style: {ctx.style.guide.strip()}")
    for example in ctx.style.examples:
        lines.append(f"\nA passage in the chronicle's voice:\n{example.strip()}")
    return "\n".join(lines)


def story(
    ctx: CampaignContext, notes: str, kind: str, instructions: str, speaker: str | None
) -> str:
    task, lead = STORY_TASKS[kind]
    if kind == "dialogue":
        lead = f'{speaker or "The stranger"} says: "'
    return _page(ctx, notes, f"{task}. {instructions}", lead)


def content(ctx: CampaignContext, notes: str, kind: str, instructions: str) -> str:
    task = f"Create {CONTENT_TASKS[kind]} for this campaign. {instructions}".strip()
    return _page(ctx, notes, task, f"{kind.replace('_', ' ').title()} as JSON:\n")


def theme_check(ctx: CampaignContext, text: str) -> str:
    task = (
        "Rate how well the passage below fits the campaign's theme and tone, from 0 (not at "
        "all) to 1 (fully), with short reasons."
    )
    return _page(ctx, "", f"{task}\n\nPassage:\n{text}", "Rating as JSON:\n")


def modify(
    ctx: CampaignContext,
    text: str,
    *,
    theme: str | None,
    tone: str | None,
    reading_level: str | None,
    length: str | None,
) -> str:
    wants = [f"fit the theme {theme}" if theme else "fit the campaign's theme"]
    if tone:
        wants.append(f"take a {tone} tone")
    if reading_level:
        wants.append(f"read well for a {reading_level} reader")
    if length and length != "same":
        wants.append(f"be {length}")
    task = f"Rewrite the passage to {', '.join(wants)}, keeping its events.\n\nPassage:\n{text}"
    return _page(ctx, "", task, "Rewritten passage:\n")


def _page(ctx: CampaignContext, notes: str, task: str, lead: str) -> str:
    parts = [header(ctx)]
    if notes:
        parts.append(f"Campaign notes:\n{notes}")
    parts.append(f"Task: {task.strip()}")
    return "\n\n".join(parts) + "\n\n" + lead
