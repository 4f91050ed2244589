"""XP and milestone awards, and the level-ups they cause."""

from __future__ import annotations

from dataclasses import dataclass

from domain.characters.messages import XpAwardRequest
from domain.errors import InvalidRequest
from domain.rules import Rules, derive
from domain.rules.constants import XP_THRESHOLDS
from domain.rules.grants import grants_for
from domain.sheet import CharacterDoc

MAX_LEVEL = 20


@dataclass
class Change:
    doc: CharacterDoc
    xp_added: int
    level_before: int
    level_after: int
    pending_levels: int


def level_for_xp(xp: int) -> int:
    return sum(1 for threshold in XP_THRESHOLDS if xp >= threshold)


def apply_award(doc: CharacterDoc, req: XpAwardRequest, rules: Rules) -> Change:
    """Add XP (or one milestone level) and take the levels it crosses.

    A milestone sets XP to the new level's threshold so that XP and level stay consistent.
    New levels go to the only class, or to `level_up_class`; a multiclass character with
    no class named keeps the XP and the levels stay pending.
    """
    before = sum(c.level for c in doc.classes)
    if req.kind == "milestone":
        if before >= MAX_LEVEL:
            raise InvalidRequest("The character is already level 20.", code="max_level")
        xp = max(doc.xp, XP_THRESHOLDS[before])  # threshold of level before+1
    else:
        if req.amount <= 0:
            raise InvalidRequest("An XP award needs a positive amount.", code="xp_amount_invalid")
        xp = doc.xp + req.amount
    gained = max(0, min(level_for_xp(xp), MAX_LEVEL) - before)

    target = _target_class(doc, req.level_up_class) if gained else None
    data = doc.dump()
    data["xp"] = xp
    if target is not None:
        entry = data["classes"][target]
        entry["level"] += gained
        if data.get("hit_points") is not None:
            leveled = CharacterDoc.model_validate(data)
            data["hit_points"] += gained * _average_hp_gain(doc, entry["class"], rules) + (
                grants_for(leveled, rules).hp - grants_for(doc, rules).hp)
    new_doc = CharacterDoc.model_validate(data)
    after = before + (gained if target is not None else 0)
    return Change(
        doc=new_doc,
        xp_added=xp - doc.xp,
        level_before=before,
        level_after=after,
        pending_levels=gained if target is None else 0,
    )


def _target_class(doc: CharacterDoc, slug: str | None) -> int | None:
    if slug is None:
        return 0 if len(doc.classes) == 1 else None
    for i, c in enumerate(doc.classes):
        if c.class_ == slug:
            return i
    raise InvalidRequest(
        f"level_up_class {slug!r} is not one of the character's classes "
        f"({', '.join(c.class_ for c in doc.classes)}).",
        code="level_up_class_invalid",
    )


def _average_hp_gain(doc: CharacterDoc, class_slug: str, rules: Rules) -> int:
    """The fixed HP per level of the SRD: half the hit die plus one, plus the Con modifier.
    What features add (a hill dwarf's toughness, Draconic Resilience) comes from the grants
    (the caller adds the difference of `grants_for(...).hp`)."""
    con_mod = derive(doc, rules).modifiers["con"]
    return max(1, rules.classes[class_slug]["hit_die"] // 2 + 1 + con_mod)
