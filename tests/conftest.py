"""Fixtures: the same suite runs on SQLite and on the real PostgreSQL (`db_url` param)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text
from starlette.testclient import TestClient

from cluster import migrate
from cluster.database import Database
from cluster.settings import Settings
from deployments.apps import compose_local
from domain.models_registry import metadata
from domain.users import passwords
from tests.support import Api, signup

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

POSTGRES_URL = os.environ.get(
    "LOREKEEPER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session", autouse=True)
def production_hasher() -> Iterator[PasswordHasher]:
    """Argon2id at its least cost in this process; yields production's hasher. The suite signs
    up users in most tests, and production's cost (64 MiB, 3 passes: tenths of a second a hash
    or check here) was most of its time. Checks read the cost from the hash, so the code path
    is the same; tests/unit/test_passwords.py checks production's cost, and the e2e clusters
    run with it."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        production = passwords._hasher
        patch.setattr(passwords, "_hasher", cheap)
        patch.setattr(passwords, "_DUMMY_HASH", cheap.hash("lorekeeper-timing-guard"))
        yield production


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory) -> Iterator[Database]:
    """A migrated database of each kind, made once per session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = POSTGRES_URL
        db = Database(url)
        if not db.ping():
            pytest.fail(f"PostgreSQL is not answering at {url}: start it (.ci/run does).")
        with db.engine.begin() as conn:  # a clean schema, whatever an earlier run left
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.dispose()
    migrate.upgrade(url)
    db = Database(url)
    yield db
    db.dispose()


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    yield database
    with database.engine.begin() as conn:  # empty every table between tests
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=db.url, jwt_secret="test-secret-" + "x" * 32)


@pytest.fixture
def client(db: Database, settings: Settings) -> Iterator[TestClient]:
    """Every application of serve_config.yaml in process (Serve itself: tests/e2e)."""
    app, _ = compose_local(settings, db)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def admin(client: TestClient) -> Api:
    return signup(client, "admin-user")  # the first account becomes admin


@pytest.fixture
def player(client: TestClient, admin: Api) -> Api:
    return signup(client, "player-one")


@pytest.fixture
def other_player(client: TestClient, admin: Api) -> Api:
    return signup(client, "player-two")


@pytest.fixture
def dm(client: TestClient, admin: Api) -> Api:
    return signup(client, "dungeon-master", granted_by=admin, role="dm")
