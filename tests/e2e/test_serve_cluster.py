"""The README walk-through against the real thing: `lorekeeper run` (Ray + Serve) on a
free port, driven over HTTP. One cluster start for the whole module (about a minute)."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from benchmarks.harness import Server
from deployments.apps import load_specs
from domain.characters.examples import EXAMPLE_2024
from tests.conftest import POSTGRES_URL
from tests.support import cluster_env

pytestmark = pytest.mark.e2e



def _fresh_postgres_database(name: str) -> str:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


TINY_MODELS = Path(__file__).with_name("tiny_models.yaml")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def cluster(request, tmp_path_factory):
    """`make run` as it is (Gemma 3 270M included) on SQLite; on PostgreSQL the same with the
    tiny seeded LLM, so the real model loads in one end-to-end run only."""
    data = tmp_path_factory.mktemp("cluster")
    env = cluster_env(data)
    args = ["run"]
    if request.param == "postgresql":
        env["LOREKEEPER_DATABASE_URL"] = _fresh_postgres_database("lorekeeper_e2e")
        args += ["--overlay", str(TINY_MODELS)]
    server = Server(args, env, data / "run.log")
    base = f"http://127.0.0.1:{env['LOREKEEPER_PORT']}"
    try:
        server.wait_ready(base, timeout=600)
        with httpx.Client(base_url=base, timeout=60) as client:
            client.env = env  # type: ignore[attr-defined]
            client.real_model = request.param == "sqlite"  # type: ignore[attr-defined]
            yield client
    finally:
        server.stop()
    assert server.proc.returncode == 0, (data / "run.log").read_text()[-3000:]


@pytest.fixture(scope="module")
def admin_auth(cluster) -> dict[str, str]:
    """The first account of the install, which becomes admin (as in the README)."""
    creds = {"username": "dungeonmaster", "password": "a long password"}
    r = cluster.post("/api/v2/auth/register", json=creds)
    assert r.status_code == 201 and r.json()["role"] == "admin", r.text
    tokens = cluster.post("/api/v2/auth/login", json=creds).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_walkthrough(cluster, admin_auth):
    auth = admin_auth

    r = cluster.post("/api/v2/characters", json=EXAMPLE_2024, headers=auth)
    assert r.status_code == 201, r.text
    char = r.json()
    assert char["derived"]["total_level"] == 3
    url = f"/api/v2/characters/{char['id']}"

    r = cluster.get("/api/v2/rules/2024/classes", params={"q": "wizard"}, headers=auth)
    assert [c["slug"] for c in r.json()["items"]] == ["wizard"]

    r = cluster.get(f"{url}/validation", headers=auth)
    assert r.json()["validation"]["valid"] is True

    r = cluster.put(
        f"{url}/theme/transition",
        json={"to": "grimdark", "reason": "the war changed her"},
        headers={**auth, "If-Match": r'"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["character"]["version"] == 2

    versions = cluster.get(f"{url}/versions", headers=auth).json()
    assert [v["number"] for v in versions] == [1, 2]
    r = cluster.post(f"{url}/versions/1/restore", headers={**auth, "If-Match": '"2"'})
    assert r.json()["version"] == 3 and r.json()["document"]["theme"] is None


def test_more_endpoints_through_serve(cluster, admin_auth):
    auth = admin_auth

    r = cluster.post(
        "/api/v2/characters/bulk/create",
        json={"characters": [EXAMPLE_2024] * 20},
        headers=auth,
    )
    assert r.status_code == 201 and r.json()["created"] == 20
    first = r.json()["items"][0]["id"]
    r = cluster.patch(
        f"/api/v2/characters/{first}",
        json={"name": "Patched"},
        headers={**auth, "If-Match": '"1"'},
    )
    assert r.status_code == 200 and r.json()["document"]["name"] == "Patched"
    r = cluster.post(
        f"/api/v2/characters/{first}/xp", json={"amount": 1800, "reason": "e2e"}, headers=auth
    )
    assert r.status_code == 201 and r.json()["award"]["level_after"] == 4
    r = cluster.post(
        "/api/v2/rules/2024/homebrew",
        json={"kind": "item", "slug": "e2e-charm", "name": "Charm", "weight": 0},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    r = cluster.get("/api/v2/rules/2024/items", params={"q": "e2e-charm"}, headers=auth)
    assert r.json()["items"][0]["homebrew"] is True


def test_errors_cross_replicas_as_problems(cluster):
    r = cluster.get("/api/v2/characters/1")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    creds = {"username": "player-x", "password": "a long password"}
    cluster.post("/api/v2/auth/register", json=creds)
    auth = {
        "Authorization": "Bearer "
        + cluster.post("/api/v2/auth/login", json=creds).json()["access_token"]
    }
    # A domain error raised in the Characters replica arrives as its own problem.
    r = cluster.get("/api/v2/characters/424242", headers=auth)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    bad = copy.deepcopy(EXAMPLE_2024)
    bad["xp"] = 0
    r = cluster.post("/api/v2/characters", json=bad, headers=auth)
    assert r.status_code == 422 and r.json()["code"] == "character_invalid"
    r = cluster.get("/healthz", headers={"X-Request-ID": "e2e-trace-1"})
    assert r.headers.get_list("x-request-id") == ["e2e-trace-1"]
    assert r.headers["x-content-type-options"] == "nosniff"
    # An unsafe id is replaced, and the header matches the body's request_id.
    r = cluster.get("/api/v2/characters/1", headers={"X-Request-ID": "<script>x</script>"})
    assert r.headers.get_list("x-request-id") == [r.json()["request_id"]]
    assert "<" not in r.headers["x-request-id"]
    # Headers over 16 KiB are refused by HAProxy (its own 400) before any replica reads them.
    r = cluster.get("/api/v2/auth/me", headers={"Authorization": "Bearer " + "a" * 100_000})
    assert r.status_code == 400
    ready = cluster.get("/readyz").json()
    assert ready["ready"] is True
    assert set(ready["applications"]) == {s.name for s in load_specs()} - {"portal"}


def test_metrics_are_scraped_from_ray_and_haproxy(cluster):
    for _ in range(5):
        cluster.get("/healthz")
    text = ""
    for _ in range(30):  # Ray exports every few seconds
        text = httpx.get(metrics(cluster, "LOREKEEPER_METRICS_PORT"), timeout=10).text
        if "ray_serve_deployment_request_counter" in text:
            break
        time.sleep(1)
    assert 'application="portal"' in text and "ray_serve_deployment_request_counter" in text
    text = httpx.get(metrics(cluster, "RAY_SERVE_HAPROXY_METRICS_PORT"), timeout=10).text
    assert "haproxy_frontend_http_requests_total" in text


def metrics(cluster, port_variable: str) -> str:
    return f"http://127.0.0.1:{cluster.env[port_variable]}/metrics"
