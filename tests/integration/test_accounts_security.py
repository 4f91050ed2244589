"""Account holes closed at the service level, on SQLite and PostgreSQL: one-time refresh
tokens with family revocation, the race-free first admin, roles and invitations."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from cluster.database import Database
from domain.db import utcnow
from domain.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthorized
from domain.users.models import Invitation, RefreshToken
from domain.users.schemas import (
    LoginRequest,
    Principal,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UserOut,
)
from domain.users.service import AccountService

PASSWORD = "correct horse battery"


def call(db: Database, method: str, *args: Any, principal: Principal | None = None, **kw: Any):
    """One service call in its own transaction, as deployments' `invoke` makes it."""
    with db.session() as session:
        extra = {"principal": principal} if principal else {}
        service = AccountService(
            session,
            secret="test-secret-" + "x" * 32,
            access_ttl=timedelta(minutes=15),
            refresh_ttl=timedelta(days=14),
            **extra,
        )
        return getattr(service, method)(*args, **kw)


def race(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run fn(0..n-1) on n threads released together; each result or the exception raised."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        barrier.wait()
        try:
            return fn(i)
        except Exception as exc:  # collected: the test asserts on them
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


def register(db: Database, username: str, **kw: Any) -> UserOut:
    return call(db, "register", RegisterRequest(username=username, password=PASSWORD, **kw))


def login(db: Database, username: str) -> TokenPair:
    return call(db, "login", LoginRequest(username=username, password=PASSWORD))


def refresh(db: Database, token: str) -> TokenPair:
    return call(db, "refresh", RefreshRequest(refresh_token=token))


def as_principal(user: UserOut) -> Principal:
    return Principal(user_id=user.id, role=user.role)


def codes(results: list[Any]) -> list[str]:
    return sorted(getattr(r, "code", type(r).__name__) for r in results)


# Refresh tokens


def test_of_8_concurrent_refreshes_exactly_one_wins(db):
    register(db, "alice")
    token = login(db, "alice").refresh_token
    results = race(8, lambda _: refresh(db, token))
    wins = [r for r in results if isinstance(r, TokenPair)]
    assert len(wins) == 1, results
    assert codes([r for r in results if r not in wins]) == ["bad_refresh"] * 7, results
    # The 7 losers presented a used token: a replay, so the winner's family is revoked too.
    with pytest.raises(Unauthorized):
        refresh(db, wins[0].refresh_token)


def test_a_replayed_refresh_token_revokes_its_family(db):
    register(db, "alice")
    stolen = login(db, "alice").refresh_token
    elsewhere = login(db, "alice").refresh_token  # another login: another family
    rotated = refresh(db, stolen).refresh_token
    with pytest.raises(Unauthorized) as replay:
        refresh(db, stolen)
    assert replay.value.code == "bad_refresh"
    assert "already used" in replay.value.detail
    with pytest.raises(Unauthorized) as revoked:
        refresh(db, rotated)  # the token that replaced it stops working too
    assert revoked.value.code == "bad_refresh"
    assert refresh(db, elsewhere).refresh_token  # other logins are untouched
    with db.session() as session:
        stored = set(session.scalars(select(RefreshToken.token_hash)))
    assert stored.isdisjoint({stolen, elsewhere, rotated}) and all(len(h) == 64 for h in stored)


def test_unknown_and_expired_refresh_tokens_are_bad_refresh(db):
    register(db, "alice")
    pair = login(db, "alice")
    with pytest.raises(Unauthorized) as unknown:
        refresh(db, "not-a-token")
    assert unknown.value.code == "bad_refresh"
    with db.session() as session:
        session.execute(update(RefreshToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(Unauthorized) as expired:
        refresh(db, pair.refresh_token)
    assert expired.value.code == "bad_refresh" and "already used" not in expired.value.detail


# Roles: the first admin, self-registration, set_role, list_users


def test_simultaneous_first_signups_make_exactly_one_admin(db):
    results = race(6, lambda i: register(db, f"first-{i}"))
    assert sorted(r.role for r in results) == ["admin"] + ["player"] * 5, results
    assert register(db, "later").role == "player"


def test_admin_grants_roles_and_cannot_remove_the_last_admin(db):
    boss, pat = register(db, "boss"), register(db, "pat")
    admin = as_principal(boss)
    assert call(db, "set_role", pat.id, "dm", principal=admin).role == "dm"
    with pytest.raises(Forbidden):
        call(db, "set_role", boss.id, "dm", principal=Principal(pat.id, "dm"))
    with pytest.raises(Unauthorized):
        call(db, "set_role", pat.id, "player")
    with pytest.raises(NotFound):
        call(db, "set_role", 10**6, "dm", principal=admin)
    with pytest.raises(Conflict) as last:
        call(db, "set_role", boss.id, "player", principal=admin)
    assert last.value.code == "last_admin"
    call(db, "set_role", pat.id, "admin", principal=admin)
    assert call(db, "set_role", boss.id, "player", principal=admin).role == "player"


def test_two_admins_demoting_each_other_at_once_leave_one(db):
    a, b = register(db, "admin-a"), register(db, "admin-b")
    call(db, "set_role", b.id, "admin", principal=as_principal(a))
    pairs = [(a.id, b.id), (b.id, a.id)]
    results = race(
        2,
        lambda i: call(
            db, "set_role", pairs[i][1], "player", principal=Principal(pairs[i][0], "admin")
        ),
    )
    assert codes(results) == ["UserOut", "last_admin"], results
    page = call(db, "list_users", principal=Principal(a.id, "admin"))
    assert [u.role for u in page.items].count("admin") == 1


def test_list_users_needs_users_manage(db):
    boss = register(db, "boss")
    for i in range(3):
        register(db, f"player-{i}")
    page = call(db, "list_users", 2, 1, principal=as_principal(boss))
    assert (page.total, page.limit, page.offset) == (4, 2, 1)
    assert [u.username for u in page.items] == ["player-0", "player-1"]
    with pytest.raises(Forbidden):
        call(db, "list_users", principal=Principal(page.items[0].id, "player"))
    with pytest.raises(InvalidRequest):
        call(db, "list_users", 0, principal=as_principal(boss))


# Invitations


def test_an_invitation_grants_its_role_exactly_once(db):
    boss = register(db, "boss")
    invitation = call(db, "create_invitation", principal=as_principal(boss))
    assert invitation.role == "dm"
    results = race(4, lambda i: register(db, f"dm-{i}", invitation=invitation.code))
    assert codes(results) == ["UserOut"] + ["invitation_used"] * 3, results
    assert [r.role for r in results if isinstance(r, UserOut)] == ["dm"]
    usernames = [u.username for u in call(db, "list_users", principal=as_principal(boss)).items]
    assert len(usernames) == 2  # a refused invitation creates no account
    with db.session() as session:
        assert session.scalar(select(Invitation.code_hash)) != invitation.code


def test_unknown_and_expired_invitations_are_refused(db):
    boss = register(db, "boss")
    with pytest.raises(InvalidRequest) as unknown:
        register(db, "ghost", invitation="made-up-code")
    assert unknown.value.code == "invitation_invalid"
    code = call(db, "create_invitation", "dm", timedelta(hours=1), principal=as_principal(boss))
    with db.session() as session:
        session.execute(update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(InvalidRequest) as expired:
        register(db, "late", invitation=code.code)
    assert expired.value.code == "invitation_expired"


def test_only_users_manage_creates_invitations_with_a_sane_ttl(db):
    boss, pat = register(db, "boss"), register(db, "pat")
    with pytest.raises(Forbidden):
        call(db, "create_invitation", principal=as_principal(pat))
    with pytest.raises(InvalidRequest) as ttl:
        call(db, "create_invitation", "dm", timedelta(days=31), principal=as_principal(boss))
    assert ttl.value.code == "invitation_ttl_invalid"
