"""LLMCalls in process: the ingress's own methods, as the generation services will call them
(over Serve, through `remote(LLMCalls, handle)`)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("vllm", reason="vLLM is not installed: install the llm-cpu or llm-gpu extra")

from deployments.calls.llm import GenerationParams, GenerationRejected, LLMCalls, Message
from domain.users.schemas import Principal
from tests.llm.conftest import MAX_MODEL_LEN

ME = Principal(1, "player")
ASK = [Message(role="system", content="You are a bard."), Message(role="user", content="Sing.")]


@pytest.fixture(scope="module")
def calls(llm_server) -> LLMCalls:
    return llm_server.ingress


def test_generate_counts_tokens(llm_server, calls):
    params = GenerationParams(max_tokens=6, temperature=1.0, seed=5)
    out = llm_server.call(calls.generate(ME, ASK, params))
    again = llm_server.call(calls.generate(ME, ASK, params))
    assert out.text == again.text and 0 < out.usage.completion_tokens <= 6
    assert out.usage.total_tokens == out.usage.prompt_tokens + out.usage.completion_tokens


def test_stream_gives_the_same_text(llm_server, calls):
    params = GenerationParams(max_tokens=8, temperature=0)

    async def collect() -> list[str]:
        return [chunk async for chunk in calls.stream(ME, ASK, params)]

    chunks = llm_server.call(collect())
    assert len(chunks) > 1
    assert "".join(chunks) == llm_server.call(calls.generate(ME, ASK, params)).text


def test_json_schema(llm_server, calls):
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    params = GenerationParams(max_tokens=20, temperature=0, json_schema=schema)
    out = llm_server.call(calls.generate(ME, ASK, params))
    assert isinstance(json.loads(out.text)["ok"], bool)


def test_rejections_are_domain_errors(llm_server, calls):
    with pytest.raises(GenerationRejected):
        llm_server.call(calls.generate(ME, ASK, GenerationParams(max_tokens=MAX_MODEL_LEN + 1)))

    async def first_chunk() -> str:
        params = GenerationParams(json_schema={"type": "no-such-type"})
        async for chunk in calls.stream(ME, ASK, params):
            return chunk
        return ""

    with pytest.raises(GenerationRejected):
        llm_server.call(first_chunk())


def test_ready(llm_server, calls):
    ready = llm_server.call(calls.ready())
    assert ready.ready and ready.dependencies["engine"] == "ok"
