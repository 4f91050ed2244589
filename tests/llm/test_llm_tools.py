"""Tools on /v1/chat/completions with the tiny model: a named function and `required` are
decoded against the tools' JSON schemas (no parser configured), "auto" is refused until the
config names a parser, and with `hermes` configured a call the model writes in
`chatml-tools`'s format comes back as a tool call."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

pytest.importorskip("vllm", reason="vLLM is not installed: install the llm-cpu or llm-gpu extra")
import jsonschema  # vLLM depends on it
import openai

from deployments.llm.engine import FORCED_TOOL_PARSER, Engine
from models.llm_config import LLMConfig
from tests.llm.conftest import MODEL

MESSAGES = [{"role": "user", "content": "Roll for initiative."}]
ROLL_DICE = {
    "type": "function",
    "function": {
        "name": "roll_dice",
        "description": "Roll dice and add a modifier.",
        "parameters": {
            "type": "object",
            "properties": {
                "count": {"type": "integer", "minimum": 1, "maximum": 10},
                "sides": {"enum": [4, 6, 8, 10, 12, 20]},
                "modifier": {"type": "integer", "minimum": -5, "maximum": 5},
            },
            "required": ["count", "sides", "modifier"],
            "additionalProperties": False,
        },
    },
}
CAST_SPELL = {
    "type": "function",
    "function": {
        "name": "cast_spell",
        "parameters": {
            "type": "object",
            "properties": {"spell": {"enum": ["fireball", "shield"]}, "level": {"type": "integer"}},
            "required": ["spell", "level"],
            "additionalProperties": False,
        },
    },
}
SCHEMAS = {t["function"]["name"]: t["function"]["parameters"] for t in (ROLL_DICE, CAST_SPELL)}
NAMED = {"type": "function", "function": {"name": "roll_dice"}}


@pytest.fixture(scope="module")
def sdk(llm_server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{llm_server.base_url}/v1", api_key=llm_server.token)


@pytest.fixture(scope="module")
def http(llm_server):
    with httpx.Client(base_url=llm_server.base_url, headers=llm_server.headers) as client:
        yield client


def _valid_call(call) -> dict:
    """A tool call's arguments: JSON valid against its function's schema."""
    arguments = json.loads(call.function.arguments)
    jsonschema.validate(arguments, SCHEMAS[call.function.name])
    return arguments


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_named_function_is_called_with_schema_valid_arguments(sdk, seed):
    # Sampled at temperature 1 from a random model: only the decoding makes this valid.
    out = sdk.chat.completions.create(
        model=MODEL,
        messages=MESSAGES,
        tools=[ROLL_DICE, CAST_SPELL],
        tool_choice=NAMED,
        max_tokens=60,
        temperature=1.0,
        seed=seed,
    )
    (choice,) = out.choices
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.function.name == "roll_dice" and call.id
    _valid_call(call)
    assert not choice.message.content
    assert out.usage.completion_tokens > 0


def test_required_calls_one_of_the_tools(sdk):
    out = sdk.chat.completions.create(
        model=MODEL,
        messages=MESSAGES,
        tools=[ROLL_DICE, CAST_SPELL],
        tool_choice="required",
        max_tokens=120,
        temperature=1.0,
        seed=5,
        parallel_tool_calls=False,
    )
    (choice,) = out.choices
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.function.name in SCHEMAS
    _valid_call(call)


def test_named_function_streams(sdk):
    chunks = list(
        sdk.chat.completions.create(
            model=MODEL,
            messages=MESSAGES,
            tools=[ROLL_DICE],
            tool_choice=NAMED,
            max_tokens=60,
            temperature=1.0,
            seed=4,
            stream=True,
        )
    )
    deltas = [d for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or []]
    assert {d.function.name for d in deltas if d.function.name} == {"roll_dice"}
    arguments = "".join(d.function.arguments or "" for d in deltas)
    jsonschema.validate(json.loads(arguments), SCHEMAS["roll_dice"])


def test_tool_choice_none_answers_text(sdk):
    out = sdk.chat.completions.create(
        model=MODEL, messages=MESSAGES, tools=[ROLL_DICE], tool_choice="none", max_tokens=5
    )
    assert not out.choices[0].message.tool_calls and out.choices[0].message.content


def test_the_chat_template_shows_the_model_its_tools(sdk):
    """The suite's engine renders chats with `chatml-tools`: the tools' schemas are in the
    prompt, so a request with tools costs as many more prompt tokens."""
    plain = sdk.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=1)
    one, two = (
        sdk.chat.completions.create(
            model=MODEL, messages=MESSAGES, tools=tools, tool_choice="none", max_tokens=1
        )
        for tools in ([ROLL_DICE], [ROLL_DICE, CAST_SPELL])
    )
    assert plain.usage.prompt_tokens < one.usage.prompt_tokens < two.usage.prompt_tokens


def test_tool_result_round_trip(sdk):
    """A client sends the call and its result back, as the SDK's tool loop does."""
    first = sdk.chat.completions.create(
        model=MODEL, messages=MESSAGES, tools=[ROLL_DICE], tool_choice=NAMED, max_tokens=60
    )
    call = first.choices[0].message.tool_calls[0]
    messages = [
        *MESSAGES,
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"total": 17})},
    ]
    out = sdk.chat.completions.create(
        model=MODEL, messages=messages, tools=[ROLL_DICE], tool_choice="none", max_tokens=5
    )
    assert out.choices[0].message.content and out.usage.prompt_tokens > first.usage.prompt_tokens


@pytest.mark.parametrize("choice", ["auto", None])  # None: sent without tool_choice
def test_auto_without_a_parser_is_a_problem(http, choice):
    body = {"model": MODEL, "messages": MESSAGES, "tools": [ROLL_DICE], "max_tokens": 5}
    if choice:
        body["tool_choice"] = choice
    r = http.post("/v1/chat/completions", json=body)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "tool_choice_unsupported"
    assert '"required"' in problem["detail"] and "tool_call_parser" in problem["detail"]


@pytest.mark.parametrize("tool_choice", [NAMED, "required"])
def test_invalid_tool_schema_is_a_problem(http, tool_choice):
    bad = {"type": "function", "function": {"name": "roll_dice", "parameters": {"type": "dice"}}}
    r = http.post(
        "/v1/chat/completions",
        json={"model": MODEL, "messages": MESSAGES, "tools": [bad], "tool_choice": tool_choice},
    )
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "generation_rejected"


def test_unknown_tool_in_tool_choice_is_a_problem(http):
    choice = {"type": "function", "function": {"name": "summon_dragon"}}
    r = http.post(
        "/v1/chat/completions",
        json={"model": MODEL, "messages": MESSAGES, "tools": [ROLL_DICE], "tool_choice": choice},
    )
    assert r.status_code == 400 and r.json()["code"] == "generation_rejected", r.text


@pytest.fixture
def hermes(llm_server):
    """The suite's engine as a config with `tool_call_parser: hermes` and auto tool choice
    builds it (the same engine, its OpenAI layer rebuilt), for one test."""
    engine = llm_server.ingress.engine
    plain = engine.config
    # Strict level `auto`: vLLM adds no grammar of its own to "auto", so the test's
    # constraint alone decides what the model writes.
    auto = {"tool_call_parser": "hermes", "enable_auto_tool_choice": True}
    config = plain.model_copy(update={**auto, "tool_strict_level": "auto"})

    async def serve(config: LLMConfig) -> None:
        engine.config = config
        engine._serve_openai(config, config.tool_call_parser or FORCED_TOOL_PARSER)

    llm_server.call(serve(config))
    try:
        yield
    finally:
        llm_server.call(serve(plain))


# What a Hermes-format model writes for a call (the format chatml-tools shows it); the tiny
# model is made to write it, or a plain answer, by constraining its output to that text.
ROLL = {"count": 2, "sides": 6, "modifier": 1}
CALL = f"<tool_call>\n{json.dumps({'name': 'roll_dice', 'arguments': ROLL})}\n</tool_call>"


def _auto(sdk, text: str, **kw):
    return sdk.chat.completions.create(
        model=MODEL,
        messages=MESSAGES,
        tools=[ROLL_DICE, CAST_SPELL],
        tool_choice="auto",
        max_tokens=300,  # the call is ~100 of the tiny tokenizer's tokens
        extra_body={"structured_outputs": {"choice": [text]}},
        **kw,
    )


def test_auto_reads_the_models_call_back_with_hermes(sdk, hermes):
    out = _auto(sdk, CALL)
    (choice,) = out.choices
    assert choice.finish_reason == "tool_calls", choice
    (call,) = choice.message.tool_calls
    assert call.function.name == "roll_dice" and call.id
    assert _valid_call(call) == ROLL
    # The model chose to answer in words: text, no call.
    words = _auto(sdk, "Roll a d20 and add your Dexterity.").choices[0]
    assert not words.message.tool_calls and words.message.content.startswith("Roll a d20")


def test_auto_streams_the_call_with_hermes(sdk, hermes):
    chunks = list(_auto(sdk, CALL, stream=True))
    deltas = [d for c in chunks if c.choices for d in c.choices[0].delta.tool_calls or []]
    assert {d.function.name for d in deltas if d.function.name} == {"roll_dice"}
    arguments = "".join(d.function.arguments or "" for d in deltas)
    assert json.loads(arguments) == ROLL
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"


def test_auto_tool_choice_needs_a_parser():
    with pytest.raises(ValidationError, match="tool_call_parser"):
        LLMConfig(enable_auto_tool_choice=True)
    config = LLMConfig(tool_call_parser="hermes", enable_auto_tool_choice=True)
    args = config.server_args(Path("/m"), "127.0.0.1", 8000)
    assert args[args.index("--tool-call-parser") + 1] == "hermes"
    assert "--enable-auto-tool-choice" in args
    assert "--enable-auto-tool-choice" not in LLMConfig().server_args(Path("/m"), "h", 1)


def test_unknown_parser_fails_before_the_engine_starts(tmp_path):
    with pytest.raises(ValueError, match=r"Unknown tool_call_parser 'hermes3'.*llama3_json"):
        Engine(LLMConfig(model=MODEL, tool_call_parser="hermes3"), tmp_path)
