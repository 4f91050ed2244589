from __future__ import annotations

from datetime import timedelta

from domain.users.schemas import Principal
from domain.users.tokens import issue_access_token
from tests.support import signup


def test_register_login_me(client):
    api = signup(client, "alice")
    assert api.role == "admin"  # the first account of a fresh install
    r = api.get("/api/v2/auth/me")
    assert r.status_code == 200
    assert r.json() == {"user_id": api.user_id, "role": "admin"}
    assert signup(client, "bob").role == "player"
    assert signup(client, "carol", granted_by=api, role="dm").role == "dm"


def test_register_rejects_taken_username_and_admin_role(client, admin):
    body = {"username": "Admin-User", "password": "another password"}
    r = client.post("/api/v2/auth/register", json=body)
    assert r.status_code == 409
    assert r.json()["code"] == "username_taken"
    r = client.post(
        "/api/v2/auth/register", json={"username": "eve", "password": "x" * 12, "role": "admin"}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "role"


def test_wrong_password_is_401_problem(client, admin):
    r = client.post("/api/v2/auth/login", json={"username": "admin-user", "password": "nope"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "bad_credentials"
    r = client.post("/api/v2/auth/login", json={"username": "nobody", "password": "nope"})
    assert r.json()["code"] == "bad_credentials"


def test_routes_need_a_valid_token(client, settings, admin):
    assert client.get("/api/v2/characters").status_code == 401
    r = client.get("/api/v2/characters", headers={"Authorization": "Bearer not-a-jwt"})
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"
    expired = issue_access_token(
        Principal(admin.user_id, "admin"), settings.resolved_jwt_secret, timedelta(seconds=-5)
    )
    r = client.get("/api/v2/characters", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]
    forged = issue_access_token(
        Principal(admin.user_id, "admin"), "a-different-secret-of-the-same-length-000", timedelta(1)
    )
    r = client.get("/api/v2/characters", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401


def test_refresh_rotates_tokens(client, admin):
    r = client.post(
        "/api/v2/auth/login", json={"username": "admin-user", "password": "correct horse battery"}
    )
    refresh = r.json()["refresh_token"]
    r = client.post("/api/v2/auth/refresh", json={"refresh_token": refresh})
    assert r.status_code == 200
    new = r.json()
    assert (
        client.get(
            "/api/v2/auth/me", headers={"Authorization": f"Bearer {new['access_token']}"}
        ).status_code
        == 200
    )
    # A refresh token works once.
    r = client.post("/api/v2/auth/refresh", json={"refresh_token": refresh})
    assert r.status_code == 401
    assert r.json()["code"] == "bad_refresh"
