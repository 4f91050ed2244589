from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

Role = Literal["admin", "dm", "player"]


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and no legitimate secret needs one: refuse it up front.
    if "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    return value


NoNul = AfterValidator(_no_nul)
Username = Annotated[  # the pattern already leaves NUL out
    str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{3,40}$", strip_whitespace=True)
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=200), NoNul]
Secret = Annotated[str, StringConstraints(max_length=200), NoNul]  # a token or code we hash


@dataclass(frozen=True)
class Principal:
    """Who is calling: taken from a verified access token, passed to every service."""

    user_id: int
    role: Role


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Username
    password: Password
    # Kept so clients that send "player" still work; any other role is a 422. A role above
    # player comes only from an admin (set_role), an invitation, or being the first account.
    role: Literal["player"] = Field(
        "player", description='Always "player"; an admin grants "dm" or sends an invitation.'
    )
    invitation: Secret | None = None  # a one-time code: the account gets the code's role


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Username
    password: Secret


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: Secret


class UserOut(BaseModel):
    id: int
    username: str
    role: Role
    created_at: datetime


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int  # seconds the access token lives


class InvitationOut(BaseModel):
    code: str  # shown once: only its hash is stored
    role: Role
    expires_at: datetime


class UserPage(BaseModel):
    items: list[UserOut]
    total: int
    limit: int
    offset: int
