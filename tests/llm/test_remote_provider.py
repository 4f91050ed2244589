"""The remote provider: LLMCalls over the `openai` SDK, against an OpenAI-compatible server
in another process's place. Fast: the suite's own /v1 server (the project's vLLM behind
its bearer tokens). e2e: vLLM's bare OpenAI server started as a separate process on the
tiny model. The generation application runs on it unchanged (`provider: remote`)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

pytest.importorskip("vllm", reason="vLLM is not installed: install the llm-cpu or llm-gpu extra")

from starlette.testclient import TestClient

from cluster.settings import Settings
from deployments.apps import compose_local
from deployments.calls.llm import GenerationParams, GenerationRejected, ModelNotServed
from deployments.generation.remote_llm import OpenAILLM, RemoteLLMConfig
from domain.campaigns.content import NPC
from domain.users.schemas import Principal
from models import registry
from models.llm_config import LLMConfig
from tests.llm.conftest import MAX_MODEL_LEN, MODEL
from tests.support import free_port, signup

ME = Principal(1, "player")
KEY_ENV = "LOREKEEPER_TEST_LLM_API_KEY"


@pytest.fixture(scope="module")
def bare_vllm(tmp_path_factory) -> Iterator[str]:
    """vLLM's own OpenAI server on the tiny model, a separate process; its base URL."""
    config = LLMConfig(
        model=MODEL, max_model_len=MAX_MODEL_LEN, kv_cache_gib=0.25, max_num_seqs=8, dtype="float32"
    )
    folder = registry.resolve(MODEL, tmp_path_factory.mktemp("models"))
    port = free_port()
    log = tmp_path_factory.mktemp("vllm") / "server.log"
    env = {**os.environ, **config.env(), "VLLM_CPU_KVCACHE_SPACE": "1"}
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vllm.entrypoints.openai.api_server",
                *config.server_args(folder, "127.0.0.1", port),
            ],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 300
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "vLLM's server did not start in 300 s"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/models").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.terminate()
        server.wait(30)


@pytest.fixture(params=["project", pytest.param("bare", marks=pytest.mark.e2e)], scope="module")
def server(request, llm_server) -> Iterator[tuple[str, str]]:
    """(base URL, API key) of an OpenAI-compatible server on the tiny model."""
    if request.param == "project":
        yield f"{llm_server.base_url}/v1", llm_server.token
    else:
        yield request.getfixturevalue("bare_vllm"), "unused"


def test_calls_over_the_sdk(server, monkeypatch):
    base_url, key = server
    monkeypatch.setenv(KEY_ENV, key)
    llm = OpenAILLM(
        RemoteLLMConfig(
            base_url=base_url, model=MODEL, api_key_env=KEY_ENV, max_model_len=MAX_MODEL_LEN
        )
    )
    params = GenerationParams(max_tokens=6, temperature=1.0, seed=4)
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 12}, "alive": {"type": "boolean"}},
        "required": ["name", "alive"],
    }

    async def scenario():
        whole = await llm.complete(ME, "The wizard", params)
        chunks = [c async for c in llm.stream_complete(ME, "The wizard", params)]
        structured = await llm.complete(
            ME,
            "An NPC:",
            GenerationParams(max_tokens=120, temperature=0, json_schema=schema),
        )
        with pytest.raises(GenerationRejected):
            await llm.complete(ME, "x", GenerationParams(max_tokens=MAX_MODEL_LEN + 1))
        missing = OpenAILLM(RemoteLLMConfig(base_url=base_url, model="gpt-9", api_key_env=KEY_ENV))
        with pytest.raises(ModelNotServed):
            await missing.complete(ME, "x", params)
        return whole, chunks, structured, await llm.ready(), await llm.count_tokens(["abcdef"])

    whole, chunks, structured, ready, counts = asyncio.run(scenario())
    assert whole.usage.completion_tokens == 6 and whole.model == MODEL
    assert "".join(c.text for c in chunks) == whole.text  # same seed, same text
    assert chunks[-1].usage.completion_tokens == 6
    assert isinstance(json.loads(structured.text, strict=False)["alive"], bool)
    assert ready.ready and counts == [3]


def test_generation_app_on_the_remote_provider(server, db, tmp_path, monkeypatch):
    base_url, key = server
    monkeypatch.setenv(KEY_ENV, key)
    config = yaml.safe_load(Path(__file__).with_name("generation_serve_config.yaml").read_text())
    (generation,) = [a for a in config["applications"] if a["name"] == "generation"]
    generation["args"] |= {
        "provider": "remote",
        "remote": {
            "base_url": base_url,
            "model": MODEL,
            "api_key_env": KEY_ENV,
            "max_model_len": MAX_MODEL_LEN,
        },
    }
    path = tmp_path / "serve_config.yaml"
    path.write_text(yaml.safe_dump(config))
    settings = Settings(data_dir=tmp_path, database_url=db.url, jwt_secret="r-" + "x" * 40)
    app, _ = compose_local(settings, db, path)
    with TestClient(app, raise_server_exceptions=False) as client:
        admin = signup(client, "admin-user")
        dm = signup(client, "dungeon-master", granted_by=admin, role="dm")
        r = dm.post("/api/v2/campaigns", json={"name": "Remote", "ruleset": "2024"})
        campaign = r.json()["id"]
        r = dm.post(
            "/api/v2/llm/generate/story",
            json={"campaign_id": campaign, "instructions": "Dawn.", "max_tokens": 8},
        )
        assert r.status_code == 200, r.text
        assert r.json()["usage"]["completion_tokens"] > 0 and r.json()["model"] == MODEL
        r = dm.post(
            "/api/v2/llm/generate/npc",
            json={"campaign_id": campaign, "max_tokens": 160, "seed": 1, "save": True},
        )
        assert r.status_code == 200, r.text
        NPC.model_validate(r.json()["content"])
        assert r.json()["saved_id"]
