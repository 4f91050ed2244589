"""Refresh tokens: one-time use, rotated within a family made at login.

Redeeming is a compare-and-set in the database, so of concurrent redemptions exactly one
wins. Presenting a token that was already redeemed is a replay (OAuth 2.0 Security BCP,
RFC 9700 §4.14.2): one of the two holders is not the user, so the whole family is revoked
and the token that replaced it stops working too.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.db import utcnow
from domain.errors import Unauthorized
from domain.users.models import RefreshToken
from domain.users.tokens import hash_opaque_token, new_opaque_token


def new_family() -> str:
    return uuid.uuid4().hex


def issue(session: Session, user_id: int, family_id: str, ttl: timedelta) -> str:
    token, token_hash = new_opaque_token()
    session.add(
        RefreshToken(
            user_id=user_id,
            token_hash=token_hash,
            family_id=family_id,
            expires_at=utcnow() + ttl,
        )
    )
    return token


def redeem(session: Session, token: str) -> tuple[int, str]:
    """Use up `token`; return its (user_id, family_id), or raise 401 `bad_refresh`.

    The compare-and-set is the transaction's first statement: on SQLite it then waits for
    the write lock (busy_timeout) instead of failing on a stale read snapshot.
    """
    token_hash = hash_opaque_token(token)
    now = utcnow()
    won = session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.token_hash == token_hash,
            RefreshToken.used_at.is_(None),
            RefreshToken.revoked.is_(False),
            RefreshToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(RefreshToken.user_id, RefreshToken.family_id)
        .execution_options(synchronize_session=False)
    ).first()
    if won is not None:
        return won.user_id, won.family_id
    row = session.execute(
        select(RefreshToken.used_at, RefreshToken.family_id).where(
            RefreshToken.token_hash == token_hash
        )
    ).first()
    if row is not None and row.used_at is not None:
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == row.family_id, RefreshToken.revoked.is_(False))
            .values(revoked=True)
            .execution_options(synchronize_session=False)
        )
        # The request fails, but the revocation must stand: commit it before raising.
        session.commit()
        raise Unauthorized(
            "This refresh token was already used, so every token of that login is revoked: "
            "log in again.",
            code="bad_refresh",
        )
    raise Unauthorized("The refresh token is not valid: log in again.", code="bad_refresh")
