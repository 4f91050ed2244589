"""Bad input gets 4xx problem+json with a stable code, never a crash or a half write."""

from __future__ import annotations

import copy
import json

import pytest

from deployments.apps import load_specs
from domain.characters.examples import EXAMPLE_2024

URL = "/api/v2/characters"
JSON = {"content-type": "application/json"}


def _problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    assert "Traceback" not in r.text
    return body


def test_malformed_json(player):
    r = player.post(URL, content=b'{"name": "x",', headers=JSON)
    _problem(r, 400, "malformed_json")


def test_unknown_field_and_wrong_types_name_their_paths(player):
    bad = copy.deepcopy(EXAMPLE_2024)
    bad["favourite_colour"] = "blue"
    bad["base_abilities"]["str"] = "strong"
    bad["classes"][0]["level"] = 3.5
    body = _problem(player.post(URL, json=bad), 422, "validation_error")
    paths = {e["path"] for e in body["errors"]}
    assert {"favourite_colour", "base_abilities.str", "classes.0.level"} <= paths


@pytest.mark.parametrize(
    "path,value",
    [
        (("xp",), 10**15),
        (("base_abilities", "str"), 10**6),
        (("inventory", 0, "quantity"), -1),
        (("hit_points",), 10**9),
        (("currency", "gp"), -5),
        (("name",), "x" * 500),
        (("classes",), []),
    ],
)
def test_absurd_numbers_are_rejected(player, path, value):
    bad = copy.deepcopy(EXAMPLE_2024)
    target = bad
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    body = _problem(player.post(URL, json=bad), 422, "validation_error")
    assert body["errors"][0]["path"] == ".".join(map(str, path))
    assert player.get(URL).json()["total"] == 0


def test_oversize_body(player):
    huge = json.dumps({"characters": [EXAMPLE_2024] * 10_000}).encode()
    r = player.post(
        f"{URL}/bulk/validate", content=huge, headers={"content-type": "application/json"}
    )
    _problem(r, 413, "payload_too_large")


def test_oversize_chunked_body(player):
    def chunks():
        yield b'{"characters": ['
        for i in range(10_000):
            yield (b"," if i else b"") + json.dumps(EXAMPLE_2024).encode()
        yield b"]}"

    r = player.post(
        f"{URL}/bulk/validate", content=chunks(), headers={"content-type": "application/json"}
    )
    _problem(r, 413, "payload_too_large")


def test_unknown_route_and_method(player):
    _problem(player.get("/api/v2/nothing-here"), 404, "not_found")
    _problem(player.request("PATCH", "/api/v2/auth/login"), 405, "method_not_allowed")
    # Allow names every method of the path (Starlette's names one route's), and
    # /characters/validate is no character id: PUT there is a 405, not an invalid id.
    r = player.request("OPTIONS", f"{URL}/1")
    _problem(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "DELETE, GET, PATCH, PUT"
    r = player.put(f"{URL}/validate", json={})
    _problem(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "POST"


def test_bad_ids(player):
    _problem(player.get(f"{URL}/abc"), 404, "not_found")  # ids are numbers: no such path
    _problem(player.get(f"{URL}/999999"), 404, "not_found")


def test_json_types_are_the_schemas(player):
    """`false` or "3" is not an integer (pydantic alone would take both); 3.0 is."""
    for value in (False, "3"):
        bad = {**copy.deepcopy(EXAMPLE_2024), "xp": value}
        body = _problem(player.post(f"{URL}/validate", json=bad), 422, "validation_error")
        assert body["errors"][0]["path"] == "xp"
    good = {**copy.deepcopy(EXAMPLE_2024), "xp": 900.0}
    assert player.post(f"{URL}/validate", json=good).status_code == 200


def test_no_token_is_401_before_any_header_check(client):
    r = client.put(f"{URL}/1", json=EXAMPLE_2024, headers={"If-Match": "nonsense"})
    _problem(r, 401, "unauthorized")


def test_request_id_is_echoed_or_made(client):
    r = client.get("/healthz", headers={"X-Request-ID": "trace-123"})
    assert r.headers["x-request-id"] == "trace-123"
    r = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert len(r.headers["x-request-id"]) == 32
    r = client.get("/api/v2/characters")
    assert r.json()["request_id"] == r.headers["x-request-id"]


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    apps = r.json()["applications"]
    # Every application composed in process (model engines run under Serve only).
    composed = {s.name for s in load_specs() if s.ingress.composed_locally}
    assert set(apps) == composed - {"portal"} and "campaigns" in apps
    assert apps["characters"]["dependencies"]["database"] == "ok"
    assert apps["characters"]["route_prefix"] == "/api/v2/characters"
    assert client.get("/readyz/rules").json()["ready"] is True
    _problem(client.get("/readyz/nonesuch"), 404, "not_found")


def test_readiness_fails_without_database(settings):
    from starlette.testclient import TestClient

    from cluster.database import Database
    from deployments.apps import compose_local

    app, _ = compose_local(settings, Database("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    with TestClient(app) as c:
        r = c.get("/readyz")
        assert r.status_code == 503
        assert r.json()["applications"]["characters"]["dependencies"]["database"] == "down"
        assert c.get("/readyz/accounts").status_code == 503
        assert c.get("/healthz").status_code == 200
        login = {"username": "someone", "password": "a long password"}
        body = _problem(c.post("/api/v2/auth/login", json=login), 503, "database_unavailable")
        assert "nobody" not in body["detail"]  # no connection details leak


def test_absurd_ids(player):
    _problem(player.get(f"{URL}/{10**20}"), 422, "validation_error")
    _problem(player.get(f"{URL}/0/versions"), 422, "validation_error")
    r = player.post(f"{URL}/1/links", json={"counterpart_id": 10**20})
    _problem(r, 422, "validation_error")
