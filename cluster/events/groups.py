"""The consumer groups this installation runs (add a group here to subscribe it)."""

from __future__ import annotations

from domain.character_sync.handlers import CHARACTERS
from domain.errors import NotFound
from domain.events.handlers import ConsumerGroup

GROUPS: tuple[ConsumerGroup, ...] = (CHARACTERS,)


def find(name: str, groups: tuple[ConsumerGroup, ...] = GROUPS) -> ConsumerGroup:
    for group in groups:
        if group.name == name:
            return group
    known = ", ".join(g.name for g in groups)
    raise NotFound(f"There is no consumer group {name!r}; the groups are: {known}.")
