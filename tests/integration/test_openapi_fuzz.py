"""Schema fuzzing: schemathesis generates requests for every operation of the merged
/openapi.json (every application of serve_config.yaml, composed in process) and checks each
answer with its default checks: no 5xx, a documented status code, content type and headers,
a body that matches its schema, invalid data rejected and valid data accepted. Sent as a
logged-in admin (operations that need no token ignore the header)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.testclient import TestClient
from starlette.types import ASGIApp

from cluster.database import Database
from cluster.settings import Settings
from deployments.apps import compose_local
from domain.models_registry import metadata
from tests.support import signup

# Per operation and phase. Derandomized, so CI sends the same cases every run; raise it
# (LOREKEEPER_FUZZ_EXAMPLES=200) to search further by hand.
MAX_EXAMPLES = int(os.environ.get("LOREKEEPER_FUZZ_EXAMPLES", "10"))


def _document_app() -> ASGIApp:
    """The composed cluster, only to read its merged /openapi.json at collection time (the
    document does not depend on the data; nothing is written). Requests go to `target`."""
    settings = Settings(
        data_dir=Path(tempfile.gettempdir()), database_url="sqlite://", jwt_secret="x" * 40
    )
    app, _ = compose_local(settings, Database(settings.database_url))
    return app


# schemathesis's defaults, and no schemathesis.toml from the environment, but one addition:
# a write without If-Match answers 428 precondition_required, the status RFC 6585 made for
# exactly that missing header, rather than a generic 400 or 422.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "missing_required_header": {"expected-statuses": [400, 401, 403, 406, 415, 422, 428]}
        }
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", _document_app(), config=CONFIG)


@dataclass
class Target:
    app: ASGIApp
    token: str = ""


TARGET = Target(app=None)  # type: ignore[arg-type]  # set by the `target` fixture


@schema.auth()
class AdminToken:
    """Every case carries the admin's token, except those that schemathesis made without
    it on purpose (those must get 401)."""

    def get(self, case, context) -> str:
        return TARGET.token

    def set(self, case, data: str, context) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


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
        TARGET.app, TARGET.token = app, admin.headers["Authorization"].removeprefix("Bearer ")
        yield TARGET
    with database.engine.begin() as conn:  # leave the database empty, as `db` does
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())


def positive_data_accepted(ctx, response, case):
    """schemathesis's positive_data_acceptance, but for one kind of answer: a 422 whose code
    names a rule of the API (`character_invalid`, `homebrew_slug_mismatch`, ...). The rules
    engine (docs/rules.md) rejects schema-valid documents that break their edition's rules,
    which no JSON Schema can state. Schema-valid data must still never get the shape check's
    `validation_error`, nor any other status that positive_data_acceptance refuses."""
    if response.status_code == 422:
        code = response.json().get("code")
        if code != "validation_error":
            return None
    return positive_data_acceptance(ctx, response, case)


# Composed in process, the generation application has no LLM engine (model engines run under
# Serve or in tests/llm): what needs one answers 503 `dependency_unavailable`, as it would
# with the engine down. Every other 5xx still fails.
ENGINELESS = "/api/v2/llm/"


def no_server_error(ctx, response, case):
    if response.status_code == 503 and case.path.startswith(ENGINELESS):
        assert response.json().get("code") == "dependency_unavailable", response.text
        return None
    return not_a_server_error(ctx, response, case)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_operation_conforms(case, target: Target):
    case.call_and_validate(
        app=target.app,
        excluded_checks=[positive_data_acceptance, not_a_server_error],
        additional_checks=[positive_data_accepted, no_server_error],
    )
