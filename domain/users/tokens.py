"""Access tokens (JWT, HS256) and opaque secrets (refresh tokens, invitation codes: random,
stored only as their SHA-256)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import jwt

from domain.db import utcnow
from domain.errors import Unauthorized
from domain.users.schemas import Principal

ALGORITHM = "HS256"


def issue_access_token(principal: Principal, secret: str, ttl: timedelta) -> str:
    now = utcnow()
    claims = {"sub": str(principal.user_id), "role": principal.role, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_access_token(token: str, secret: str) -> Principal:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp"]})
        return Principal(user_id=int(claims["sub"]), role=claims["role"])
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired: refresh it or log in again.") from None
    except (jwt.InvalidTokenError, KeyError, ValueError):
        raise Unauthorized("The access token is not valid: log in to get a new one.") from None


def new_opaque_token() -> tuple[str, str]:
    """Return (token for the client, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, hash_opaque_token(token)


def hash_opaque_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
