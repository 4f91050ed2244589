"""Schema fuzzing: schemathesis generates requests for every operation of the merged
/openapi.json (every application of serve_config.yaml, composed in process) and checks each
answer with its default checks: no 5xx, a documented status code, content type and headers,
a body that matches its schema, invalid data rejected and valid data accepted. Sent as a
logged-in admin (operations that need no token ignore the header)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from cluster.database import Database
from cluster.settings import Settings
from deployments.apps import compose_local
from domain.models_registry import metadata
from tests.support import signup

MAX_EXAMPLES = 10  # per operation and phase; derandomized, so CI sees the same cases


def _document_app() -> ASGIApp:
    """The composed cluster, only to read its merged /openapi.json at collection time (the
    document does not depend on the data); requests go to `target` below."""
    tmp = Path(tempfile.mkdtemp(prefix="lorekeeper-openapi-"))
    settings = Settings(data_dir=tmp, database_url="sqlite://", jwt_secret="x" * 40)
    app, _ = compose_local(settings, Database(settings.database_url))
    return app


schema = schemathesis.openapi.from_asgi("/openapi.json", _document_app())


@dataclass
class Target:
    app: ASGIApp
    headers: dict[str, str]


@pytest.fixture(scope="module")
def target(database: Database, tmp_path_factory) -> Iterator[Target]:
    """One composed cluster and one admin for every operation: data made by one operation
    (characters, homebrew, accounts) is there for the next."""
    if database.url.startswith("postgresql"):
        pytest.skip("schema fuzzing runs on SQLite; the API tests cover both databases")
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("fuzz"),
        database_url=database.url,
        jwt_secret="test-secret-" + "x" * 32,
    )
    app, _ = compose_local(settings, database)
    with TestClient(app, raise_server_exceptions=False) as client:
        admin = signup(client, "admin-user")  # the first account becomes admin
        yield Target(app, admin.headers)
    with database.engine.begin() as conn:  # leave the database empty, as `db` does
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_operation_conforms(case, target: Target):
    case.call_and_validate(app=target.app, headers=target.headers)
