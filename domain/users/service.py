"""Accounts: registration, login, token refresh."""

from __future__ import annotations

from datetime import UTC, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.db import utcnow
from domain.errors import Conflict, Unauthorized
from domain.users.models import RefreshToken, User
from domain.users.schemas import (
    LoginRequest,
    Principal,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UserOut,
)
from domain.users.tokens import hash_refresh_token, issue_access_token, new_refresh_token

_hasher = PasswordHasher()
# Verifying against this keeps an unknown username as slow as a wrong password.
_DUMMY_HASH = _hasher.hash("lorekeeper-timing-guard")


class AccountService:
    def __init__(
        self, session: Session, *, secret: str, access_ttl: timedelta, refresh_ttl: timedelta
    ):
        self.session = session
        self.secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def register(self, req: RegisterRequest) -> UserOut:
        first = self.session.scalar(select(func.count()).select_from(User)) == 0
        user = User(
            username=req.username.lower(),
            password_hash=_hasher.hash(req.password),
            role="admin" if first else req.role,
        )
        self.session.add(user)
        try:
            self.session.flush()
        except IntegrityError:
            raise Conflict(
                f"The username {req.username!r} is taken: choose another.", code="username_taken"
            ) from None
        return UserOut.model_validate(user, from_attributes=True)

    def login(self, req: LoginRequest) -> TokenPair:
        user = self.session.scalar(select(User).where(User.username == req.username.lower()))
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, req.password)
        except VerificationError:
            user = None
        if user is None:
            raise Unauthorized("Wrong username or password.", code="bad_credentials")
        return self._issue(user)

    def refresh(self, req: RefreshRequest) -> TokenPair:
        row = self.session.scalar(
            select(RefreshToken).where(
                RefreshToken.token_hash == hash_refresh_token(req.refresh_token)
            )
        )
        expires = row.expires_at.replace(tzinfo=row.expires_at.tzinfo or UTC) if row else None
        if row is None or row.revoked or expires <= utcnow():
            raise Unauthorized("The refresh token is not valid: log in again.", code="bad_refresh")
        row.revoked = True
        return self._issue(self.session.get(User, row.user_id))

    def _issue(self, user: User) -> TokenPair:
        token, token_hash = new_refresh_token()
        self.session.add(
            RefreshToken(
                user_id=user.id, token_hash=token_hash, expires_at=utcnow() + self.refresh_ttl
            )
        )
        principal = Principal(user_id=user.id, role=user.role)  # type: ignore[arg-type]
        return TokenPair(
            access_token=issue_access_token(principal, self.secret, self.access_ttl),
            refresh_token=token,
            expires_in=int(self.access_ttl.total_seconds()),
        )
