"""Accounts: registration, login, token refresh, roles and invitations."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.errors import Conflict, InvalidRequest, NotFound, Unauthorized
from domain.users import invitations, refresh
from domain.users.bootstrap import claim_installation
from domain.users.models import User
from domain.users.passwords import hash_password, verify_password
from domain.users.permissions import Permission, require
from domain.users.schemas import (
    InvitationOut,
    LoginRequest,
    Principal,
    RefreshRequest,
    RegisterRequest,
    Role,
    TokenPair,
    UserOut,
    UserPage,
)
from domain.users.tokens import issue_access_token

MAX_PAGE = 200


class AccountService:
    """`principal` is the caller, when there is one: register, login and refresh need none;
    the user-management methods need one whose role grants Permission.USERS_MANAGE."""

    def __init__(
        self,
        session: Session,
        *,
        secret: str,
        access_ttl: timedelta,
        refresh_ttl: timedelta,
        principal: Principal | None = None,
    ):
        self.session = session
        self.secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.principal = principal

    def register(self, req: RegisterRequest) -> UserOut:
        """A player; the invitation's role with a valid `invitation`; admin for the first
        account of the install. The user is inserted first: on SQLite the transaction then
        holds the write lock before it reads anything."""
        user = User(
            username=req.username.lower(), password_hash=hash_password(req.password), role=req.role
        )
        self.session.add(user)
        try:
            self.session.flush()
        except IntegrityError:
            raise Conflict(
                f"The username {req.username!r} is taken: choose another.", code="username_taken"
            ) from None
        if req.invitation is not None:
            user.role = invitations.redeem(self.session, req.invitation, user.id)
        if claim_installation(self.session, user.id):
            user.role = "admin"
        self.session.flush()
        return UserOut.model_validate(user, from_attributes=True)

    def login(self, req: LoginRequest) -> TokenPair:
        user = self.session.scalar(select(User).where(User.username == req.username.lower()))
        verified = verify_password(user.password_hash if user else None, req.password)
        if user is None or not verified:
            raise Unauthorized("Wrong username or password.", code="bad_credentials")
        return self._issue(user, refresh.new_family())

    def refresh(self, req: RefreshRequest) -> TokenPair:
        """A new pair for a refresh token, which works once (401 `bad_refresh` after; a
        replay also revokes every token of its login)."""
        user_id, family_id = refresh.redeem(self.session, req.refresh_token)
        return self._issue(self.session.get_one(User, user_id), family_id)

    def set_role(self, user_id: int, role: Role) -> UserOut:
        """Needs USERS_MANAGE. 404 `not_found`; 409 `last_admin` when it would leave no admin."""
        require(self._caller(), Permission.USERS_MANAGE)
        stmt = update(User).where(User.id == user_id).values(role=role)
        if role != "admin":
            # PostgreSQL: lock the admin rows, so that two admins demoting each other at once
            # take turns and the second counts one admin left. SQLite has one writer, and the
            # count below runs inside the UPDATE that holds it.
            self.session.scalars(
                select(User.id).where(User.role == "admin").with_for_update()
            ).all()
            admins = select(func.count()).select_from(User).where(User.role == "admin")
            stmt = stmt.where(or_(User.role != "admin", admins.scalar_subquery() > 1))
        changed = self.session.scalar(
            stmt.returning(User.id).execution_options(synchronize_session=False)
        )
        user = self.session.get(User, user_id, populate_existing=True)
        if user is None:
            raise NotFound(f"No user with id {user_id}.")
        if changed is None:
            raise Conflict(
                "This is the last admin: make another account admin before changing this one.",
                code="last_admin",
            )
        return UserOut.model_validate(user, from_attributes=True)

    def list_users(self, limit: int = 50, offset: int = 0) -> UserPage:
        """Needs USERS_MANAGE. Accounts by id; 422 `invalid_request` for a bad page."""
        require(self._caller(), Permission.USERS_MANAGE)
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise InvalidRequest(f"limit must be 1 to {MAX_PAGE} and offset at least 0.")
        total = self.session.scalar(select(func.count()).select_from(User))
        rows = self.session.scalars(select(User).order_by(User.id).limit(limit).offset(offset))
        items = [UserOut.model_validate(u, from_attributes=True) for u in rows]
        return UserPage(items=items, total=total or 0, limit=limit, offset=offset)

    def create_invitation(
        self, role: Role = "dm", ttl: timedelta = invitations.DEFAULT_TTL
    ) -> InvitationOut:
        """Needs USERS_MANAGE. A one-time code granting `role` at registration before it
        expires; 422 `invitation_ttl_invalid` outside 1 minute to 30 days."""
        caller = self._caller()
        require(caller, Permission.USERS_MANAGE)
        return invitations.create(self.session, role, ttl, created_by=caller.user_id)

    def _caller(self) -> Principal:
        if self.principal is None:
            raise Unauthorized("Log in first: this needs a bearer token.")
        return self.principal

    def _issue(self, user: User, family_id: str) -> TokenPair:
        token = refresh.issue(self.session, user.id, family_id, self.refresh_ttl)
        principal = Principal(user_id=user.id, role=user.role)  # type: ignore[arg-type]
        return TokenPair(
            access_token=issue_access_token(principal, self.secret, self.access_ttl),
            refresh_token=token,
            expires_in=int(self.access_ttl.total_seconds()),
        )
