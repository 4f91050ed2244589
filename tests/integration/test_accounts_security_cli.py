"""`lorekeeper users create-admin`: creates an admin, or promotes an existing account."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select

from cluster.database import Database
from domain.users.models import Installation, User
from domain.users.schemas import LoginRequest, RegisterRequest
from domain.users.service import AccountService


def lorekeeper(*args: str, data_dir, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lorekeeper.cli", *args],
        env={**os.environ, "LOREKEEPER_DATA_DIR": str(data_dir)},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def accounts(session) -> AccountService:
    ttl = timedelta(minutes=5)
    return AccountService(session, secret="s" * 40, access_ttl=ttl, refresh_ttl=ttl)


def test_create_admin_then_promote(tmp_path):
    assert lorekeeper("db", "upgrade", data_dir=tmp_path).returncode == 0
    create = ["users", "create-admin", "--password-stdin"]
    run = lorekeeper(*create, "--username", "Boss", data_dir=tmp_path, stdin="a long password\n")
    assert run.returncode == 0, run.stderr
    assert "created admin boss" in run.stdout
    run = lorekeeper(*create, "--username", "tiny", data_dir=tmp_path, stdin="short\n")
    assert run.returncode == 1 and "at least 8 characters" in run.stderr

    db = Database(f"sqlite:///{tmp_path / 'lorekeeper.db'}")
    try:
        with db.session() as session:  # the install has its admin: sign-ups are players
            service = accounts(session)
            assert service.login(LoginRequest(username="boss", password="a long password"))
            pat = RegisterRequest(username="pat", password="another password")
            assert service.register(pat).role == "player"
        run = lorekeeper("users", "create-admin", "--username", "pat", data_dir=tmp_path)
        assert run.returncode == 0, run.stderr  # no password asked: pat keeps theirs
        assert "promoted admin pat" in run.stdout
        with db.session() as session:
            roles = {u.username: u.role for u in session.scalars(select(User))}
            assert roles == {"boss": "admin", "pat": "admin"}
            assert session.scalar(select(Installation.first_admin_id)) is not None
    finally:
        db.dispose()
