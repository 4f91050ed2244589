"""Homebrew scopes: `global` (every character) or `campaign:<id>` (one campaign's members and
characters). The homebrew service learns a user's campaigns through a callable the
deployment layer passes in (domain.campaigns imports domain.homebrew, so this package
cannot import it back)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from sqlalchemy.orm import Session

from domain.errors import InvalidRequest

GLOBAL = "global"
_CAMPAIGN = re.compile(r"^campaign:([1-9][0-9]{0,17})$")

# (session, user id) -> {campaign id: the user's role there ("owner", "codm", "player")}.
CampaignRoles = Callable[[Session, int], Mapping[int, str]]
DM_ROLES = frozenset({"owner", "codm"})


def campaign_of(scope: str) -> int | None:
    """The campaign id of a `campaign:<id>` scope, None for `global`; 422 otherwise."""
    if scope == GLOBAL:
        return None
    match = _CAMPAIGN.match(scope)
    if match is None:
        raise InvalidRequest(
            f"Homebrew scope {scope!r} is not valid: use 'global' or 'campaign:<campaign id>'.",
            code="homebrew_scope_invalid",
        )
    return int(match.group(1))
