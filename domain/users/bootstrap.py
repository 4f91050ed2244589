"""The first admin: claimed once per install by inserting the one `installation` row."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from domain.db import utcnow
from domain.users.models import Installation, User
from domain.users.passwords import hash_password
from domain.users.schemas import Password, Username, UserOut


def claim_installation(session: Session, user_id: int) -> bool:
    """True if `user_id` is the install's first admin. The primary key decides: of racing
    claims one inserts, the others (PostgreSQL: once it commits) insert nothing."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.scalar(
        dialect.insert(Installation)
        .values(id=1, first_admin_id=user_id, created_at=utcnow())
        .on_conflict_do_nothing()
        .returning(Installation.id)
    )
    return inserted is not None


def create_or_promote_admin(
    session: Session, username: str, ask_password: Callable[[], str]
) -> tuple[UserOut, bool]:
    """Make `username` an admin; return (the user, whether it was created). An existing
    account is promoted, its password unchanged; a new one gets `ask_password()` (called only
    then). Raises pydantic's ValidationError for a bad username or password. Also claims the
    installation, so that a later first sign-up does not become a second admin."""
    username = TypeAdapter(Username).validate_python(username).lower()
    user = session.scalar(select(User).where(User.username == username))
    created = user is None
    if user is None:
        password = TypeAdapter(Password).validate_python(ask_password())
        user = User(username=username, password_hash=hash_password(password), role="admin")
        session.add(user)
    user.role = "admin"
    session.flush()
    claim_installation(session, user.id)
    return UserOut.model_validate(user, from_attributes=True), created
