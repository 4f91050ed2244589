"""The LLM application under Serve (Ray in this process): the OpenAI route through Serve's
ingress, and LLMCalls over a real handle (unary, streaming, errors, readiness)."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

pytest.importorskip("vllm", reason="vLLM is not installed: install the llm-cpu or llm-gpu extra")

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
