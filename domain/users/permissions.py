"""Named permissions and the roles that hold them: every access check asks for a permission,
never for a role, so campaign-scoped roles can later join through the same check."""

from __future__ import annotations

from enum import StrEnum

from domain.errors import Forbidden
from domain.users.schemas import Principal, Role


class Permission(StrEnum):
    CHARACTERS_READ_ANY = "characters:read:any"  # see every user's characters
    CHARACTERS_WRITE_ANY = "characters:write:any"  # edit every user's characters
    HOMEBREW_WRITE_GLOBAL = "homebrew:write:global"  # homebrew every character may use
    HOMEBREW_WRITE_CAMPAIGN = "homebrew:write:campaign"  # homebrew for one's own campaigns
    HOMEBREW_DELETE_ANY = "homebrew:delete:any"  # remove anyone's homebrew
    USERS_MANAGE = "users:manage"  # grant roles, invite DMs, list accounts
    CAMPAIGNS_CREATE = "campaigns:create"  # run campaigns (roles in one are per campaign)
    EVENTS_MANAGE = "events:manage"  # the event hub: status, dead letters, replay


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    "admin": frozenset(Permission),
    "dm": frozenset({Permission.HOMEBREW_WRITE_CAMPAIGN, Permission.CAMPAIGNS_CREATE}),
    "player": frozenset(),
}


def has(principal: Principal, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS.get(principal.role, frozenset())


def require(principal: Principal, permission: Permission) -> None:
    """Raise 403 `forbidden` unless the principal's role grants `permission`."""
    if not has(principal, permission):
        raise Forbidden(
            f"Your role ({principal.role}) lacks the permission {permission.value!r}; ask an admin."
        )
