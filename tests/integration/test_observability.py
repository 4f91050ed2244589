from __future__ import annotations

import json

from starlette.testclient import TestClient

from cluster.logs import configure_logging
from deployments.accounts import AccountsConfig, AccountsIngress


class _BrokenRunner:
    async def run(self, *args, **kwargs):
        raise RuntimeError("secret internals: /srv/db password=hunter2")


def test_unexpected_errors_are_500_problems_without_internals(settings, db):
    ingress = AccountsIngress(AccountsConfig(), settings, db)
    ingress.http.state.accounts = _BrokenRunner()
    with TestClient(ingress.http, raise_server_exceptions=False) as client:
        r = client.post("/api/v2/auth/login", json={"username": "someone", "password": "pw"})
    assert r.status_code == 500
    body = r.json()
    assert body["code"] == "internal_error"
    assert "hunter2" not in r.text and "Traceback" not in r.text
    assert r.headers["x-request-id"] == body["request_id"]


def test_log_lines_are_json_with_the_request_id(client, capsys):
    configure_logging("INFO")
    r = client.get("/healthz", headers={"X-Request-ID": "log-check-1"})
    assert r.status_code == 200
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    access = [e for e in lines if e.get("message") == "request"]
    assert access and access[-1]["request_id"] == "log-check-1"
    assert access[-1]["path"] == "/healthz" and access[-1]["status"] == 200


def test_openapi_page_has_ready_to_send_examples(client):
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/v2/characters"]["post"]["requestBody"]["content"]
    examples = body["application/json"]["examples"]
    assert {e["value"]["ruleset"] for e in examples.values()} == {"2014", "2024"}
    assert client.get("/docs").status_code == 200
