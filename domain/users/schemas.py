from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

Role = Literal["admin", "dm", "player"]
Username = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{3,40}$", strip_whitespace=True)
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=200)]


@dataclass(frozen=True)
class Principal:
    """Who is calling: taken from a verified access token, passed to every service."""

    user_id: int
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Username
    password: Password
    # Admin cannot be chosen: the first account of a fresh install becomes admin.
    role: Literal["dm", "player"] = "player"


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Username
    password: Annotated[str, StringConstraints(max_length=200)]


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: Annotated[str, StringConstraints(max_length=200)]


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
