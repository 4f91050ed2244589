"""The LLM application under Serve (Ray in this process): the OpenAI route through Serve's
ingress, LLMCalls over a real handle (unary, streaming, errors, readiness), and the
generation application calling it and the campaigns application over handles."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

pytest.importorskip("vllm", reason="vLLM is not installed: install the llm-cpu or llm-gpu extra")

from cluster import migrate
from cluster.settings import Settings
from deployments.calls.llm import GenerationParams, GenerationRejected, LLMCalls, Message
from deployments.calls.remote import remote
from domain.users.schemas import Principal
from domain.users.tokens import issue_access_token
from tests.support import cluster_env

pytestmark = pytest.mark.e2e
CONFIG = Path(__file__).with_name("llm_serve_config.yaml")
ME = Principal(1, "player")


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    import ray
    from ray import serve

    from cluster.ray_runtime import deploy_config, start_ray

    data = tmp_path_factory.mktemp("llm")  # short: Ray's socket paths must fit 107 bytes
    env = cluster_env(data, LOREKEEPER_JWT_SECRET="e2e-secret-" + "x" * 32)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the replicas inherit them through Ray's workers
    settings = Settings()
    try:
        migrate.upgrade(settings.resolved_database_url)  # once, before the replicas start
        start_ray(settings)
        deploy_config(CONFIG, settings)
        yield settings
    finally:
        serve.shutdown()
        ray.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_chat_through_serve(settings):
    token = issue_access_token(ME, settings.resolved_jwt_secret, timedelta(minutes=5))
    r = httpx.post(
        f"http://127.0.0.1:{settings.port}/v1/chat/completions",
        headers={"Authorization": f"Bearer {token}"},
        json={"model": "tiny-llama", "messages": [{"role": "user", "content": "Hi"}],
              "max_tokens": 4},
        timeout=60,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["usage"]["completion_tokens"] == 4


def test_calls_over_a_handle(settings):
    from ray import serve

    llm = remote(LLMCalls, serve.get_app_handle("llm"))
    ask = [Message(role="user", content="Sing.")]
    params = GenerationParams(max_tokens=6, temperature=0)

    async def scenario():
        whole = await llm.generate(ME, ask, params)
        pieces = [piece async for piece in llm.stream(ME, ask, params)]
        with pytest.raises(GenerationRejected):
            await llm.generate(ME, ask, GenerationParams(max_tokens=10_000))
        return whole, pieces, await llm.ready()

    whole, pieces, ready = asyncio.run(scenario())
    assert whole.usage.completion_tokens == 6 and "".join(pieces) == whole.text
    assert ready.ready and ready.dependencies["engine"] == "ok"


def test_generation_over_handles(settings):
    base = f"http://127.0.0.1:{settings.port}"
    with httpx.Client(base_url=base, timeout=120) as client:
        password = "correct horse battery"
        for name in ("admin-user", "dungeon-master"):
            r = client.post("/api/v2/auth/register", json={"username": name, "password": password})
            assert r.status_code == 201, r.text
        admin = _login(client, "admin-user", password)
        r = client.put("/api/v2/auth/users/2/role", json={"role": "dm"}, headers=admin)
        assert r.status_code == 200, r.text
        dm = _login(client, "dungeon-master", password)
        r = client.post("/api/v2/campaigns", json={"name": "Served", "ruleset": "2024"}, headers=dm)
        campaign = r.json()["id"]
        body = {"campaign_id": campaign, "instructions": "Dawn.", "max_tokens": 8, "seed": 1}
        with client.stream("POST", "/api/v2/llm/generate/story/stream", json=body, headers=dm) as r:
            assert r.status_code == 200
            lines = [line for line in r.iter_lines() if line.startswith("event: ")]
        assert "event: token" in lines and lines[-1] == "event: done", lines
        r = client.post(
            "/api/v2/llm/generate/npc",
            headers=dm,
            json={"campaign_id": campaign, "max_tokens": 160, "seed": 1, "save": True},
        )
        assert r.status_code == 200, r.text
        assert r.json()["saved_id"] and r.json()["content"]["name"]
        usage = client.get("/api/v2/llm/usage", headers=dm).json()
        assert usage["used_today"] > 0
    # Ray's /metrics counts the tokens (exported every few seconds).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = httpx.get(f"http://127.0.0.1:{settings.metrics_port}/metrics").text
        lines = [line for line in text.splitlines() if "lorekeeper_llm_tokens" in line]
        if any('source="generation"' in line for line in lines):
            break
        time.sleep(2)
    assert any('type="completion"' in line and 'source="generation"' in line for line in lines), (
        lines or text[-2000:]
    )


def _login(client: httpx.Client, username: str, password: str) -> dict[str, str]:
    r = client.post("/api/v2/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
