"""The OpenAI-compatible routes on the tiny model, through the official SDK and plain HTTP."""

from __future__ import annotations

import json
import time

import httpx
import pytest

pytest.importorskip("vllm", reason="vLLM is not installed: install the llm-cpu or llm-gpu extra")
import jsonschema  # vLLM depends on it
import openai

from tests.llm.conftest import MAX_MODEL_LEN, MODEL

MESSAGES = [{"role": "user", "content": "Describe the tavern."}]
NPC_SCHEMA = {
    "type": "object",
    "properties": {
        "class": {"enum": ["wizard", "fighter", "rogue"]},
        "level": {"type": "integer", "minimum": 1, "maximum": 20},
        "alive": {"type": "boolean"},
    },
    "required": ["class", "level", "alive"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def sdk(llm_server) -> openai.OpenAI:
    # An OpenAI client passes the platform's access token as its API key.
    return openai.OpenAI(base_url=f"{llm_server.base_url}/v1", api_key=llm_server.token)


@pytest.fixture(scope="module")
def http(llm_server):
    with httpx.Client(base_url=llm_server.base_url, headers=llm_server.headers) as client:
        yield client


def test_models(sdk):
    (model,) = sdk.models.list().data
    assert model.id == MODEL and model.max_model_len == MAX_MODEL_LEN


def test_chat_completion(sdk):
    out = sdk.chat.completions.create(
        model=MODEL, messages=MESSAGES, max_tokens=8, n=2, seed=7, temperature=1.0
    )
    assert len(out.choices) == 2 and all(c.message.role == "assistant" for c in out.choices)
    assert 0 < out.usage.completion_tokens <= 16
    assert out.usage.total_tokens == out.usage.prompt_tokens + out.usage.completion_tokens


def test_seed_and_stop(sdk):
    def complete(**kw):
        return sdk.completions.create(model=MODEL, prompt="The wizard", max_tokens=12, **kw)

    first, again = (complete(seed=3, temperature=1.0) for _ in range(2))
    assert first.choices[0].text == again.choices[0].text  # same seed, same text
    word = first.choices[0].text.split()[1]
    stopped = complete(seed=3, temperature=1.0, stop=[word])
    assert stopped.choices[0].finish_reason == "stop" and word not in stopped.choices[0].text


def test_streaming_with_usage(sdk):
    chunks = list(
        sdk.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            max_tokens=10,
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"ignore_eos": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and chunks[-1].usage.completion_tokens == 10


def test_json_schema_output(sdk):
    out = sdk.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "An NPC as JSON."}],
        max_tokens=60,
        temperature=0,
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "npc", "schema": NPC_SCHEMA},
        },
    )
    jsonschema.validate(json.loads(out.choices[0].message.content), NPC_SCHEMA)


def test_refused_without_a_token(llm_server):
    for method, path in (("GET", "/v1/models"), ("POST", "/v1/chat/completions")):
        r = httpx.request(method, llm_server.base_url + path, json={})
        assert r.status_code == 401 and r.json()["code"] == "unauthorized", r.text
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{llm_server.base_url}/v1", api_key="not-a-token").models.list()


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/v1/completions", {"prompt": ""}, 400, "generation_rejected"),
        ("/v1/chat/completions", {"messages": []}, 400, "generation_rejected"),
        # A prompt longer than the window; max_tokens beyond it (vLLM shortens a max_tokens
        # that fits the window but not after the prompt, to what is left).
        ("/v1/completions", {"prompt": "dragon " * MAX_MODEL_LEN}, 400, None),
        (
            "/v1/chat/completions",
            {"messages": MESSAGES, "max_tokens": MAX_MODEL_LEN + 1},
            400,
            None,
        ),
        ("/v1/completions", {"prompt": "Hi", "max_tokens": -1}, 400, None),
        ("/v1/completions", {"prompt": "Hi", "temperature": "hot"}, 422, "validation_error"),
        ("/v1/completions", {"prompt": "Hi", "model": "gpt-4"}, 404, "model_not_found"),
        (
            "/v1/chat/completions",
            {
                "messages": MESSAGES,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "bad", "schema": {"type": "no-such-type"}},
                },
            },
            400,
            "generation_rejected",
        ),
    ],
)
def test_bad_input_is_a_problem(http, path, body, status, code):
    r = http.post(path, json={"model": MODEL, **body})
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == (code or "generation_rejected")


def test_disconnect_mid_stream_aborts(llm_server):
    engine = llm_server.ingress.engine.llm
    body = {"model": MODEL, "prompt": "Once", "max_tokens": 400, "stream": True, "ignore_eos": True}
    with (
        httpx.Client(base_url=llm_server.base_url, headers=llm_server.headers) as client,
        client.stream("POST", "/v1/completions", json=body) as r,
    ):
        assert r.status_code == 200
        lines = r.iter_lines()
        next(line for line in lines if line.startswith("data: "))
        assert engine.get_num_unfinished_requests() == 1
    # The connection is closed: the engine drops the sequence well before its 400 tokens.
    deadline = time.monotonic() + 5
    while engine.get_num_unfinished_requests() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.get_num_unfinished_requests() == 0


def test_openapi_lists_the_routes(llm_server):
    doc = httpx.get(f"{llm_server.base_url}/v1/openapi.json").json()  # the portal merges it
    assert {"/v1/models", "/v1/completions", "/v1/chat/completions"} <= set(doc["paths"])
    answers = doc["paths"]["/v1/chat/completions"]["post"]["responses"]
    assert {"400", "401", "404", "422"} <= set(answers)
