"""The context manager: what a campaign's prompt holds. It ranks the campaign's facts by
relevance to the request, fits as many as the token budget takes, and reports what it left
out. The CampaignContext is already filtered for the requesting user; a fact that still
says it is for eyes the user lacks (`facts["visibility"]`) is dropped without a word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from domain.campaigns.context import CampaignContext, ContextItem

# Sections in the order the prompt shows them; the ranking decides what is in each.
SECTIONS = (
    ("chapter", "Current chapter"),
    ("character", "Characters in the scene"),
    ("item", "People, places and factions"),
    ("event", "Recent events"),
)
_BASE = {"npc": 30, "location": 25, "plot": 25, "faction": 20, "relationship": 20}


@dataclass(frozen=True)
class Focus:
    """What the request is about: raises the rank of what it names."""

    text: str = ""
    character_ids: Sequence[int] = ()
    speaker: str | None = None


@dataclass
class Assembled:
    text: str
    included: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)
    tokens: int = 0
    budget: int = 0


@dataclass(frozen=True)
class _Candidate:
    section: str
    item: ContextItem
    score: float
    line: str

    @property
    def label(self) -> str:
        return f"{self.item.kind}:{self.item.name or self.item.id}"


def line(item: ContextItem) -> str:
    state = " (dead)" if item.facts.get("alive") is False else ""
    name = f"{item.name}{state}: " if item.name else ""
    return f"- {name}{item.text}".rstrip(": ").strip()


def assemble(
    ctx: CampaignContext,
    count: Callable[[str], int],
    budget: int,
    *,
    focus: Focus = Focus(),
    may_see: Callable[[str], bool] = lambda _: True,
) -> Assembled:
    """The campaign notes for a prompt, within `budget` tokens as `count` measures them."""
    ranked = sorted(_candidates(ctx, focus, may_see), key=lambda c: (-c.score, c.label))
    chosen: list[_Candidate] = []
    left_out: list[_Candidate] = []
    used = 0
    header_cost = {key: count(f"{title}:\n") for key, title in SECTIONS}
    open_sections: set[str] = set()
    for candidate in ranked:
        cost = count(candidate.line + "\n")
        if candidate.section not in open_sections:
            cost += header_cost[candidate.section]
        if used + cost <= budget:
            chosen.append(candidate)
            open_sections.add(candidate.section)
            used += cost
        else:
            left_out.append(candidate)  # smaller, lower-ranked facts may still fit
    parts: list[str] = []
    for key, title in SECTIONS:
        lines = [c.line for c in chosen if c.section == key]
        if lines:
            parts.append(f"{title}:\n" + "\n".join(lines))
    return Assembled(
        text="\n\n".join(parts),
        included=[c.label for c in chosen],
        left_out=[c.label for c in reversed(left_out)],  # least relevant first
        tokens=used,
        budget=budget,
    )


def _candidates(
    ctx: CampaignContext, focus: Focus, may_see: Callable[[str], bool]
) -> list[_Candidate]:
    mentioned = _words(focus.text)
    speaker = (focus.speaker or "").strip().lower()
    out: list[_Candidate] = []

    def add(section: str, item: ContextItem, score: float) -> None:
        visibility = item.facts.get("visibility")
        if isinstance(visibility, str) and not may_see(visibility):
            return
        if item.name and _words(item.name) <= mentioned:
            score += 50
        if speaker and item.name.lower() == speaker:
            score += 80
        out.append(_Candidate(section, item, score, line(item)))

    if ctx.chapter is not None:
        add("chapter", ctx.chapter, 100)
    involved = set(focus.character_ids)
    for character in ctx.characters:
        add("character", character, 90 if character.id in involved else 15)
    newest = sorted((i for i in ctx.items if i.at is not None), key=_stamp, reverse=True)
    recency = {id(item): max(0, 10 - rank) for rank, item in enumerate(newest)}
    for item in ctx.items:
        add("item", item, _BASE.get(item.kind, 10) + recency.get(id(item), 0))
    for rank, event in enumerate(sorted(ctx.recent_events, key=_stamp, reverse=True)):
        add("event", event, max(5, 40 - 3 * rank))
    return out


def _stamp(item: ContextItem) -> float:
    return item.at.timestamp() if item.at else 0.0


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower()))
