"""Checks on every output before it is returned: its schema, the campaign theme's forbidden
content, the content policy, and canon (names that contradict the campaign's facts, a dead
NPC speaking). What fails is generated again within a bounded number of attempts, then
refused with `content_rejected` and the last attempt's violations."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from domain.campaigns.content import NPC, Content, Location
from domain.campaigns.context import CampaignContext, ContextItem
from domain.errors import DomainError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
SPEECH = r"(?::|,?\s+(?:says|said|asks|asked|replies|replied|whispers|whispered|shouts|shouted))"


@dataclass(frozen=True)
class Violation:
    code: str  # schema_invalid, theme_forbidden, policy_violation, canon_conflict
    message: str

    def as_error(self) -> dict[str, str]:
        return {"path": "output", "code": self.code, "message": self.message}


class ContentRejected(DomainError):
    code, status, title = "content_rejected", 422, "Generated content rejected"


class CanonConflict(DomainError):
    """The request itself contradicts the campaign (a dead NPC asked to speak)."""

    code, status, title = "canon_conflict", 422, "Contradicts the campaign"


def find_terms(text: str, terms: Sequence[str]) -> list[str]:
    """The terms that occur in `text` as whole words, case-insensitively. A theme's terms
    are slugs with their kind (`school:necromancy`, `spell:cure-wounds`): the name is
    looked for, its hyphens as spaces or hyphens."""
    return [t for t in terms if t.strip() and re.search(_whole(t), text, re.IGNORECASE)]


def check_text(text: str, ctx: CampaignContext, policy: Sequence[str]) -> list[Violation]:
    out = _terms(text, ctx, policy)
    for npc in dead_npcs(ctx):
        if re.search(_whole(npc.name) + SPEECH, text, re.IGNORECASE):
            out.append(Violation("canon_conflict", f"{npc.name} is dead but speaks."))
    return out


def parse_content(text: str, schema: type[M]) -> tuple[M | None, list[Violation]]:
    try:
        # strict=False: raw control characters inside strings, which the grammar lets
        # through; the stored output is re-serialised from the validated object.
        parsed = json.loads(
            text.replace("\\u0000", ""), strict=False
        )  # no PostgreSQL text holds NUL
        return schema.model_validate(parsed), []
    except (ValueError, ValidationError) as exc:  # JSONDecodeError is a ValueError
        return None, [Violation("schema_invalid", f"Not a valid {schema.__name__}: {exc}"[:500])]


def check_content(content: Content, ctx: CampaignContext, policy: Sequence[str]) -> list[Violation]:
    out = _terms(content.model_dump_json(), ctx, policy)
    name = getattr(content, "name", "")
    if name and name.lower() == ctx.name.lower():  # small models echo the prompt's title
        out.append(Violation("canon_conflict", f"{name!r} is the campaign's own name."))
    known = [i for i in (*ctx.items, *ctx.characters) if i.name.lower() == name.lower()]
    for item in known:
        kind = (
            "npc"
            if isinstance(content, NPC)
            else "location"
            if isinstance(content, Location)
            else ""
        )
        if item.kind != kind:
            out.append(
                Violation("canon_conflict", f"{name!r} is already a {item.kind} in the campaign.")
            )
        elif isinstance(content, NPC) and item.facts.get("alive") is False and content.alive:
            out.append(Violation("canon_conflict", f"{name} died in this campaign."))
        else:
            out.append(Violation("canon_conflict", f"The campaign already has a {kind} {name!r}."))
    return out


def dead_npcs(ctx: CampaignContext) -> list[ContextItem]:
    return [i for i in ctx.items if i.kind == "npc" and i.name and i.facts.get("alive") is False]


async def until_valid(
    attempt: Callable[[int], Awaitable[T]],
    check: Callable[[T], list[Violation]],
    budget: int,
) -> tuple[T, int]:
    """`attempt(n)` for n = 0, 1, ... until `check` finds nothing, at most `budget` times;
    returns the output and the number of attempts."""
    violations: list[Violation] = []
    for n in range(budget):
        output = await attempt(n)
        violations = check(output)
        if not violations:
            return output, n + 1
    raise ContentRejected(
        f"Every one of {budget} attempts broke the campaign's rules (see errors); change the "
        "instructions, or the theme's forbidden terms, and try again.",
        errors=[v.as_error() for v in violations],
        attempts=budget,
    )


def _terms(text: str, ctx: CampaignContext, policy: Sequence[str]) -> list[Violation]:
    out = [
        Violation("theme_forbidden", f"The theme forbids {term!r}.")
        for term in find_terms(text, ctx.theme.forbids)
    ]
    out += [
        Violation("policy_violation", f"{term!r} breaks the content policy.")
        for term in find_terms(text, policy)
    ]
    return out


def _whole(term: str) -> str:
    name = term.strip().partition(":")[2] or term.strip()
    words = (re.escape(w) for w in re.split(r"[-\s]+", name))
    return r"(?<!\w)" + r"[-\s]+".join(words) + r"(?!\w)"
