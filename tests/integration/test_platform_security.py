"""Regression tests for the holes an attacker found in the first gateway (issue: Platform).
Each failed on that code; all run on SQLite and PostgreSQL through the composed apps."""

from __future__ import annotations

import copy
import json
import uuid

import pytest
from redis import Redis
from starlette.testclient import TestClient

from cluster.rate_limit import PREFIX
from deployments.apps import compose_local
from domain.characters.examples import EXAMPLE_2024
from tests.support import Api, signup

URL = "/api/v2/characters"
PASSWORD = "correct horse battery"


def _problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code
    return r.json()


@pytest.fixture
def limited(db, settings):
    """Login limits of 3 per username and 5 per address, on the real Redis."""
    tight = settings.model_copy(
        update={
            "redis_url": "redis://127.0.0.1:6379/0",
            "login_attempts_per_minute": 3,
            "login_attempts_per_address_per_minute": 5,
        }
    )
    # Redis outlives tests: start with this test client's address window empty.
    Redis.from_url(tight.redis_url).delete(f"{PREFIX}login:addr:testclient")
    app, _ = compose_local(tight, db)
    with TestClient(app) as client:
        yield client


def test_forwarded_for_from_an_untrusted_peer_does_not_reset_the_limit(limited):
    name = f"victim-{uuid.uuid4().hex[:8]}"
    limited.post("/api/v2/auth/register", json={"username": name, "password": PASSWORD})
    statuses = [
        limited.post(
            "/api/v2/auth/login",
            json={"username": name, "password": "wrong password"},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},  # a new "client" per attempt
        ).status_code
        for i in range(5)
    ]
    assert statuses == [401, 401, 401, 429, 429]


def test_spraying_many_usernames_from_one_address_is_capped(limited):
    tag = uuid.uuid4().hex[:8]
    statuses = [
        limited.post(
            "/api/v2/auth/login", json={"username": f"u{i}-{tag}", "password": "Winter2026!"}
        ).status_code
        for i in range(7)
    ]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]


def test_self_registration_gives_player_and_dm_is_granted(client, admin):
    r = client.post(
        "/api/v2/auth/register", json={"username": "wannabe", "password": PASSWORD, "role": "dm"}
    )
    _problem(r, 422, "validation_error")
    player = signup(client, "plain-player")
    assert player.role == "player"
    # User management is for admins only: each route asks for users:manage.
    _problem(player.get("/api/v2/auth/users"), 403, "forbidden")
    _problem(player.post("/api/v2/auth/invitations", json={"role": "dm"}), 403, "forbidden")
    _problem(
        player.put(f"/api/v2/auth/users/{player.user_id}/role", json={"role": "dm"}),
        403,
        "forbidden",
    )
    r = admin.put(f"/api/v2/auth/users/{player.user_id}/role", json={"role": "dm"})
    assert r.status_code == 200 and r.json()["role"] == "dm"
    _problem(
        admin.put(f"/api/v2/auth/users/{admin.user_id}/role", json={"role": "player"}),
        409,
        "last_admin",
    )


def test_an_invitation_makes_a_dm_once(client, admin):
    r = admin.post("/api/v2/auth/invitations", json={"role": "dm"})
    assert r.status_code == 201 and r.headers["cache-control"] == "no-store"
    code = r.json()["code"]
    body = {"username": "invited-dm", "password": PASSWORD, "invitation": code}
    r = client.post("/api/v2/auth/register", json=body)
    assert r.status_code == 201 and r.json()["role"] == "dm"
    r = client.post("/api/v2/auth/register", json={**body, "username": "second-dm"})
    _problem(r, 422, "invitation_used")


def test_replaying_a_rotated_refresh_token_revokes_its_family(client, admin):
    login = client.post("/api/v2/auth/login", json={"username": "admin-user", "password": PASSWORD})
    assert login.headers["cache-control"] == "no-store"
    first = login.json()["refresh_token"]
    second = client.post("/api/v2/auth/refresh", json={"refresh_token": first})
    assert second.status_code == 200 and second.headers["cache-control"] == "no-store"
    _problem(client.post("/api/v2/auth/refresh", json={"refresh_token": first}), 401, "bad_refresh")
    # The replay revoked the whole family: the token that replaced `first` is dead too.
    r = client.post("/api/v2/auth/refresh", json={"refresh_token": second.json()["refresh_token"]})
    _problem(r, 401, "bad_refresh")


def _nested(depth: int) -> str:
    return '{"name": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [65, 600, 10_000])
def test_deep_json_is_a_clear_400(player: Api, depth: int):
    r = player.post(URL, content=_nested(depth), headers={"content-type": "application/json"})
    _problem(r, 400, "json_too_deep")
    r = player.request(
        "PATCH",
        f"{URL}/1",
        content=_nested(depth),
        headers={"content-type": "application/json", "If-Match": '"1"'},
    )
    _problem(r, 400, "json_too_deep")


def test_huge_headers_are_refused(client):
    r = client.get("/api/v2/auth/me", headers={"Authorization": "Bearer " + "a" * 9_000_000})
    _problem(r, 431, "headers_too_large")


def test_another_users_character_is_a_404_like_a_missing_one(player, other_player):
    cid = player.post(URL, json=EXAMPLE_2024).json()["id"]
    theirs = other_player.get(f"{URL}/{cid}")
    missing = other_player.get(f"{URL}/{cid + 1000}")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"].replace(str(cid), "N") == missing.json()["detail"].replace(
        str(cid + 1000), "N"
    )


def test_security_headers(client, player):
    for r in (client.get("/healthz"), player.get(URL), client.get("/nonesuch")):
        assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("given", ["<script>alert(1)</script>", "a" * 200, "ok id"])
def test_unsafe_request_ids_are_replaced_and_match_the_body(client, given):
    r = client.get(f"{URL}/1", headers={"X-Request-ID": given})
    assert r.headers.get_list("x-request-id") == [r.json()["request_id"]]
    assert r.headers["x-request-id"] != given


def test_nul_bytes_are_refused_everywhere(player):
    doc = copy.deepcopy(EXAMPLE_2024)
    doc["name"] = "Mira\u0000"
    _problem(player.post(URL, json=doc), 422, "nul_byte")
    cid = player.post(URL, json=EXAMPLE_2024).json()["id"]
    r = player.put(f"{URL}/{cid}?reason=why%00not", json=EXAMPLE_2024, headers={"If-Match": '"1"'})
    _problem(r, 422, "nul_byte")
    assert player.get(f"{URL}/{cid}").json()["version"] == 1  # nothing written


@pytest.mark.parametrize("content_type", ["application/json", "text/plain; charset=utf-8", ""])
def test_nul_in_a_textual_body_is_refused_whatever_it_claims(player, content_type):
    body = json.dumps({**EXAMPLE_2024, "name": "Mira\u0000"}).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    r = player.post(URL, content=body, headers=headers)
    _problem(r, 422, "nul_byte")


def test_a_binary_body_with_nul_bytes_reaches_no_json_parser(player):
    """Binary bodies (image uploads) may hold NULs; a JSON route still refuses them, as a
    body of the wrong type, and stores nothing."""
    body = json.dumps(EXAMPLE_2024).encode() + b"\x00"
    r = player.post(URL, content=body, headers={"Content-Type": "image/png"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert player.get(URL).json()["total"] == 0


def test_first_sign_up_is_admin_and_only_once(client):
    assert signup(client, "first").role == "admin"
    assert signup(client, "second").role == "player"
