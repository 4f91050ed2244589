"""Who may see what in a campaign: campaign-scoped roles and record visibility.

Every campaign record carries a visibility: `dm` (secret: the owner and co-DMs only),
`party` (every member), `player:<user id>` (that player and the DMs) or `public`.
Roles are per campaign: a DM of one campaign is a player in another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, StringConstraints

CampaignRole = Literal["owner", "codm", "player"]

_VISIBILITY = re.compile(r"^(dm|party|public|player:[1-9][0-9]{0,9})$")


def _check_visibility(value: str) -> str:
    if not _VISIBILITY.match(value):
        raise ValueError('must be "dm", "party", "public" or "player:<user id>"')
    return value


# The pattern tells the JSON Schema (and clients); the validator gives the plain message.
Visibility = Annotated[
    str, StringConstraints(pattern=_VISIBILITY.pattern), AfterValidator(_check_visibility)
]


@dataclass(frozen=True)
class CampaignAccess:
    """A user's standing in one campaign (no access at all is a NotFound, never this)."""

    campaign_id: int
    user_id: int
    role: CampaignRole

    @property
    def is_dm(self) -> bool:
        return self.role in ("owner", "codm")

    def can_see(self, visibility: str) -> bool:
        return self.is_dm or visibility in self.visible()

    def visible(self) -> tuple[str, ...]:
        """The visibilities a non-DM member sees (for SQL `IN`); a DM sees everything."""
        return ("public", "party", f"player:{self.user_id}")
