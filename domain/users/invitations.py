"""One-time invitation codes: an admin hands one out, the account registered with it gets
its role. Stored hashed; redeemed by compare-and-set, so a code works exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.db import utcnow
from domain.errors import InvalidRequest
from domain.users.models import Invitation
from domain.users.schemas import InvitationOut, Role
from domain.users.tokens import hash_opaque_token, new_opaque_token

DEFAULT_TTL = timedelta(days=7)
MAX_TTL = timedelta(days=30)


def create(session: Session, role: Role, ttl: timedelta, created_by: int) -> InvitationOut:
    if not timedelta(minutes=1) <= ttl <= MAX_TTL:
        raise InvalidRequest(
            "An invitation lives from 1 minute to 30 days: choose a ttl in that range.",
            code="invitation_ttl_invalid",
        )
    code, code_hash = new_opaque_token()
    invitation = Invitation(
        code_hash=code_hash, role=role, created_by=created_by, expires_at=utcnow() + ttl
    )
    session.add(invitation)
    session.flush()
    return InvitationOut(code=code, role=role, expires_at=invitation.expires_at)


def redeem(session: Session, code: str, user_id: int) -> Role:
    """Use up `code` for `user_id`; return the role it grants, or raise 422."""
    code_hash = hash_opaque_token(code)
    now = utcnow()
    role = session.scalar(
        update(Invitation)
        .where(
            Invitation.code_hash == code_hash,
            Invitation.used_at.is_(None),
            Invitation.expires_at > now,
        )
        .values(used_at=now, used_by=user_id)
        .returning(Invitation.role)
        .execution_options(synchronize_session=False)
    )
    if role is not None:
        return role
    used_at = session.execute(
        select(Invitation.used_at).where(Invitation.code_hash == code_hash)
    ).first()
    if used_at is None:
        raise InvalidRequest(
            "This invitation code is unknown: check it, or ask an admin for a new one.",
            code="invitation_invalid",
        )
    if used_at[0] is not None:
        raise InvalidRequest(
            "This invitation code was already used: ask an admin for a new one.",
            code="invitation_used",
        )
    raise InvalidRequest(
        "This invitation code has expired: ask an admin for a new one.",
        code="invitation_expired",
    )
