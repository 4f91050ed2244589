"""Helpers for API tests."""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

from starlette.testclient import TestClient


class Api:
    """A logged-in user of the HTTP API."""

    def __init__(self, client: TestClient, token: str, user_id: int, role: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}
        self.user_id = user_id
        self.role = role

    def request(self, method: str, url: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kw):
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw):
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw):
        return self.request("PUT", url, **kw)

    def delete(self, url: str, **kw):
        return self.request("DELETE", url, **kw)


def signup(client: TestClient, username: str, granted_by: Api | None = None, role: str = "") -> Api:
    """Register and log in; with `granted_by` (an admin), take `role` from them first."""
    password = "correct horse battery"
    r = client.post("/api/v2/auth/register", json={"username": username, "password": password})
    assert r.status_code == 201, r.text
    user = r.json()
    if granted_by is not None and role:
        r = granted_by.put(f"/api/v2/auth/users/{user['id']}/role", json={"role": role})
        assert r.status_code == 200, r.text
        user = r.json()
    r = client.post("/api/v2/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return Api(client, r.json()["access_token"], user["id"], user["role"])


def free_port() -> int:
    """A port free now, from 20000-29999: outside the kernel's ephemeral range (where Ray's
    own processes take theirs, so one could grab it before our process binds it), Ray's
    worker ports (10002-19999) and Serve's direct-ingress ports (30000-31000)."""
    for _ in range(1000):
        port = random.randint(20000, 29999)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20000-29999")


# Models built or converted once per machine (Gemma's conversion takes a while), shared by
# every test cluster; the builders rename into place, so concurrent builds are safe.
MODELS_DIR = Path(
    os.environ.get("LOREKEEPER_TEST_MODELS_DIR", Path.home() / ".cache" / "lorekeeper" / "models")
)


def cluster_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a test cluster of its own: data under `data_dir`, and free ports where
    Serve's fixed defaults (HAProxy stats 8404 and metrics 9101, fallback proxy 8500) would
    clash with any other cluster on this machine. `LOREKEEPER_PORT` is the HTTP port."""
    return {
        "LOREKEEPER_DATA_DIR": str(data_dir),
        "LOREKEEPER_MODELS_DIR": str(MODELS_DIR),
        "LOREKEEPER_PORT": str(free_port()),
        "LOREKEEPER_METRICS_PORT": str(free_port()),
        "RAY_SERVE_HAPROXY_STATS_PORT": str(free_port()),
        "RAY_SERVE_HAPROXY_METRICS_PORT": str(free_port()),
        "RAY_SERVE_FALLBACK_PROXY_HTTP_PORT": str(free_port()),
        **extra,
    }
