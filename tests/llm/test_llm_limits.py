"""/v1's per-user accounting and limits on the tiny model: tokens counted from answers and
streams, the daily quota and request rate (429), an overloaded engine (503, not a hang)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

pytest.importorskip("vllm", reason="vLLM is not installed: install the llm-cpu or llm-gpu extra")

from cluster.token_usage import MemoryLedger, TokenQuota
from tests.llm.conftest import MODEL


@pytest.fixture
def v1(llm_server):
    state = llm_server.ingress.http.state
    saved = state.ledger, state.quota, state.limiter
    state.ledger = MemoryLedger()  # a fresh count for each test
    with httpx.Client(base_url=llm_server.base_url, headers=llm_server.headers) as client:
        yield client, state
    state.ledger, state.quota, state.limiter = saved


def test_tokens_are_counted_for_answers_and_streams(v1):
    client, state = v1
    body = {"model": MODEL, "prompt": "The wizard", "max_tokens": 5, "ignore_eos": True}
    assert client.post("/v1/completions", json=body).status_code == 200
    # A stream that did not ask for usage: counted all the same, and no usage event sent.
    with client.stream("POST", "/v1/completions", json={**body, "stream": True}) as r:
        events = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]" and not any('"usage"' in e for e in events)
    assert "".join(json.loads(e[6:])["choices"][0]["text"] for e in events[:-1])
    chat = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 4,
        "stream": True,
        "stream_options": {"include_usage": True},
        "ignore_eos": True,
    }
    with client.stream("POST", "/v1/chat/completions", json=chat) as r:
        events = [line for line in r.iter_lines() if line.startswith("data: ")]
    assert '"usage"' in events[-2]  # asked for: passed on

    rows = state.ledger._totals  # one row: user 1, no campaign, the model
    ((key, (prompt, completion)),) = rows.items()
    assert key == (1, f"|{MODEL}") and completion == 5 + 5 + 4 and prompt > 0


def test_a_stream_cut_short_counts_what_it_used(v1):
    """Usage comes on every chunk (kept from a client that did not ask for it), so leaving
    early is no way around the quota: the tokens streamed by then are counted."""
    client, state = v1
    body = {"model": MODEL, "prompt": "The wizard", "max_tokens": 300, "ignore_eos": True}
    with client.stream("POST", "/v1/completions", json={**body, "stream": True}) as r:
        lines = r.iter_lines()
        firsts = [next(line for line in lines if line.startswith("data: ")) for _ in range(3)]
    assert not any('"usage"' in line for line in firsts)
    deadline = time.monotonic() + 5
    while state.ledger._today[1] >= 300 and time.monotonic() < deadline:
        time.sleep(0.05)  # the server sees the disconnect at its next chunk
    ((_, (prompt, completion)),) = state.ledger._totals.items()
    assert 3 <= completion < 300 and prompt > 0
    assert state.ledger._today[1] == prompt + completion  # the hold of 300 gone
    # A client that asks for continuous usage gets it on its chunks.
    asked = {"include_usage": True, "continuous_usage_stats": True}
    with client.stream(
        "POST",
        "/v1/completions",
        json={**body, "max_tokens": 3, "stream": True, "stream_options": asked},
    ) as r:
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: {")]
    assert all(e["usage"]["prompt_tokens"] == prompt for e in events)
    assert events[-1]["choices"] == [] and events[-1]["usage"]["completion_tokens"] == 3


def test_quota_and_rate_limit(v1):
    client, state = v1
    body = {"model": MODEL, "prompt": "The wizard", "max_tokens": 5, "ignore_eos": True}
    state.quota = TokenQuota(tokens_per_day=8)
    assert client.post("/v1/completions", json=body).status_code == 200  # 5 + prompt > 8
    r = client.post("/v1/completions", json=body)
    assert r.status_code == 429 and r.json()["code"] == "token_quota_exceeded"
    assert int(r.headers["Retry-After"]) > 0
    state.quota = TokenQuota(tokens_per_day=None, requests_per_minute=1)
    state.limiter = type(state.limiter)()  # a fresh window
    assert client.post("/v1/completions", json=body).status_code == 200
    r = client.post("/v1/completions", json=body)
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"


def test_concurrent_requests_cannot_all_slip_under_the_quota(v1):
    """Each request holds its max_tokens from its admission: with 100 tokens a day, two
    requests of 64 run (0 and 64 are under 100) and the others are refused, however many
    arrive together. Without the hold, every one saw nothing spent and ran."""
    client, state = v1
    state.quota = TokenQuota(tokens_per_day=100)
    body = {"model": MODEL, "prompt": "The wizard", "max_tokens": 64, "ignore_eos": True}
    start = threading.Barrier(6)

    def one(_: int) -> int:
        start.wait()
        return client.post("/v1/completions", json=body).status_code

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(one, range(6)))
    assert codes.count(200) in (1, 2) and codes.count(429) == 6 - codes.count(200), codes
    # The holds gave way to what the answers used.
    ((_, (prompt, completion)),) = state.ledger._totals.items()
    assert completion == 64 * codes.count(200)
    assert state.ledger._today[1] == prompt + completion


@pytest.mark.parametrize(
    "hostile", [{"max_tokens": 10**30}, {"max_tokens": -5}, {"n": 10**12}, {"n": 0}]
)
def test_a_hostile_size_is_refused_and_holds_nothing(v1, hostile):
    """The hold is bounded (the window, at most 1,024 choices, at least 1 token), so such a
    body neither overflows the ledger nor moves the count; vLLM refuses it."""
    client, state = v1
    body = {"model": MODEL, "prompt": "The wizard", **hostile}
    r = client.post("/v1/completions", json=body)
    assert r.status_code in (400, 422), r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert state.ledger._today[1] == 0 and not state.ledger._totals


def test_overload_is_a_503_with_retry_after(v1, llm_server):
    client, _ = v1
    engine = llm_server.ingress.engine
    engine.max_pending = 0  # as if the engine held as many requests as it may
    try:
        r = client.post("/v1/completions", json={"model": MODEL, "prompt": "Hi"})
    finally:
        engine.max_pending = 256
    assert r.status_code == 503 and r.json()["code"] == "engine_unavailable"
    assert r.headers["Retry-After"] == "1"
