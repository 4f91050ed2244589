"""The generation application over HTTP, composed in process with the real accounts and
campaigns applications (deployments.apps.compose_local), on the suite's tiny model."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytest.importorskip("vllm", reason="vLLM is not installed: install the llm-cpu or llm-gpu extra")

from starlette.testclient import TestClient

from cluster.settings import Settings
from cluster.token_usage import TokenQuota
from deployments.apps import compose_local
from domain.campaigns.content import NPC
from domain.generation.validation import find_terms
from models import tiny_llama
from tests.llm.conftest import MAX_MODEL_LEN, OnEngineLoop
from tests.support import Api, signup

CONFIG = Path(__file__).with_name("generation_serve_config.yaml")
LLM = "/api/v2/llm"
SECRET = "Vex is the lich"
# The tiny model's every answer holds some of the words it learnt its tokens from.
CORPUS_WORDS = tuple(sorted(set(re.findall(r"[a-z]{3,}", tiny_llama.CORPUS))))


@dataclasses.dataclass
class World:
    client: TestClient
    generation: object  # the GenerationIngress
    dm: Api
    player: Api
    campaign_id: int
    npcs: dict[str, int]
    admin: Api


@pytest.fixture
def world(db, tmp_path, llm_server) -> Iterator[World]:
    settings = Settings(data_dir=tmp_path, database_url=db.url, jwt_secret="g-" + "x" * 40)
    app, ingresses = compose_local(settings, db, CONFIG)
    generation = ingresses["generation"]
    generation.use_llm(OnEngineLoop(llm_server))
    with TestClient(app, raise_server_exceptions=False) as client:
        admin = signup(client, "admin-user")
        dm = signup(client, "dungeon-master", granted_by=admin, role="dm")
        player = signup(client, "player-one")
        r = dm.post(
            "/api/v2/campaigns",
            json={
                "name": "Fog over Greywater",
                "ruleset": "2024",
                "style": {
                    "guide": "Short, salty sentences.",
                    "examples": ["The fog came in at dusk, and the bell rang twice."],
                },
            },
        )
        assert r.status_code == 201, r.text
        campaign_id = r.json()["id"]
        r = dm.put(
            f"/api/v2/campaigns/{campaign_id}/theme",
            json={"to": "heroic"},
            headers={"If-Match": r.headers["ETag"]},
        )
        assert r.status_code == 200, r.text
        r = dm.post(f"/api/v2/campaigns/{campaign_id}/members", json={"user_id": player.user_id})
        assert r.status_code == 201, r.text
        npcs = {}
        for body, visibility in (
            ({"name": "Mira", "role": "innkeeper", "secret": "owes the guild"}, "party"),
            ({"name": "Vex", "role": "villain", "description": SECRET}, "dm"),
            ({"name": "Old Tom", "role": "fisherman", "alive": False}, "party"),
        ):
            r = dm.post(
                f"/api/v2/campaigns/{campaign_id}/records",
                json={"kind": "npc", "visibility": visibility, "body": body},
            )
            assert r.status_code == 201, r.text
            npcs[body["name"]] = r.json()["id"]
        yield World(client, generation, dm, player, campaign_id, npcs, admin)


def story(world: World, user: Api, **body):
    body = {
        "campaign_id": world.campaign_id,
        "instructions": "The bell rings at night.",
        "max_tokens": 12,
        **body,
    }
    return user.post(f"{LLM}/generate/story", json=body)


def test_story_in_the_campaign_voice_without_secrets(world):
    # Seeded: unseeded, the tiny model may draw its end-of-text first (an empty text).
    r = story(world, world.player, kind="scene", character_ids=[], seed=1)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["text"] and out["kind"] == "scene" and out["version"] == 1
    assert 0 < out["usage"]["completion_tokens"] <= 12 and out["usage"]["prompt_tokens"] > 50
    assert "npc:Mira" in out["context"]["included"]
    prompt = world.player.get(f"{LLM}/generations/{out['id']}").json()["prompt"]
    # The player's prompt: the campaign's voice, no DM-only record, no NPC's secret.
    assert "Short, salty sentences." in prompt and "the bell rang twice" in prompt
    assert "Mira" in prompt and "Vex" not in prompt and SECRET not in prompt
    assert "owes the guild" not in prompt
    dm_out = story(world, world.dm, kind="scene").json()
    dm_prompt = world.dm.get(f"{LLM}/generations/{dm_out['id']}").json()["prompt"]
    assert SECRET in dm_prompt and "Old Tom (dead)" in dm_prompt
    # Outputs are private to who made them.
    assert world.player.get(f"{LLM}/generations/{dm_out['id']}").status_code == 404


def test_story_streams(world):
    body = {
        "campaign_id": world.campaign_id,
        "instructions": "A storm.",
        "max_tokens": 10,
        "kind": "beat",
        "seed": 3,
    }
    with world.player.client.stream(
        "POST", f"{LLM}/generate/story/stream", json=body, headers=world.player.headers
    ) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = _events(r.iter_lines())
    names = [name for name, _ in events]
    assert names.count("token") >= 2 and names[-1] == "done", names
    done = events[-1][1]
    tokens = "".join(data["text"] for name, data in events if name == "token")
    assert done["text"] == tokens and done["usage"]["completion_tokens"] == 10
    assert world.player.get(f"{LLM}/generations/{done['id']}").json()["text"] == tokens


def test_stream_discards_what_fails_the_checks(world):
    generator = world.generation.generator
    limits = generator.limits
    generator.limits = dataclasses.replace(limits, policy=CORPUS_WORDS, attempts=2)
    body = {
        "campaign_id": world.campaign_id,
        "instructions": "A storm.",
        "max_tokens": 20,
        "kind": "beat",
        "seed": 3,
        "temperature": 1.0,
    }
    try:
        with world.player.client.stream(
            "POST", f"{LLM}/generate/story/stream", json=body, headers=world.player.headers
        ) as r:
            events = _events(r.iter_lines())
    finally:
        generator.limits = limits
    names = [name for name, _ in events]
    # Each attempt streams, fails the checks and is discarded; then the refusal.
    assert names.count("discard") == 2 and names[-2:] == ["discard", "error"], names
    assert names.index("discard") < len(names) - 3 and names.count("token") > 2
    discards = [data for name, data in events if name == "discard"]
    assert [d["attempt"] for d in discards] == [1, 2]
    assert discards[0]["errors"][0]["code"] == "policy_violation"
    assert events[-1][1]["code"] == "content_rejected"
    assert world.player.get(f"{LLM}/generations").json()["total"] == 0


def test_a_client_leaving_mid_stream_frees_its_sequence(world, llm_server):
    engine = llm_server.ingress.engine.llm
    body = {
        "campaign_id": world.campaign_id,
        "instructions": "A long tale.",
        "kind": "beat",
        "max_tokens": 200,
        "temperature": 1.0,
        # Unseeded, the tiny model could draw its end-of-text within the first tokens (it
        # did after some orders of the suite); seed 1 runs it to all 200.
        "seed": 1,
    }
    with world.player.client.stream(
        "POST", f"{LLM}/generate/story/stream", json=body, headers=world.player.headers
    ) as r:
        lines = r.iter_lines()
        next(line for line in lines if line.startswith("event: token"))
        assert engine.get_num_unfinished_requests() == 1
    deadline = time.monotonic() + 5
    while engine.get_num_unfinished_requests() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.get_num_unfinished_requests() == 0
    # Nothing was stored for the abandoned stream, but what it used is counted, in place of
    # its hold of 200.
    assert world.player.get(f"{LLM}/generations").json()["total"] == 0
    usage = world.player.get(f"{LLM}/usage").json()
    (row,) = usage["rows"]
    assert 1 <= row["completion_tokens"] < 200 and row["prompt_tokens"] > 0
    assert usage["used_today"] == row["total_tokens"]


def test_structured_npc_saved_into_the_campaign(world):
    url = f"{LLM}/generate/npc"
    body = {
        "campaign_id": world.campaign_id,
        "instructions": "A harbour smuggler.",
        "temperature": 0.9,
        "seed": 1,
        "max_tokens": 160,
    }
    r = world.dm.post(url, json={**body, "save": True, "visibility": "party"})
    assert r.status_code == 200, r.text
    out = r.json()
    npc = NPC.model_validate(out["content"])  # valid against the project's schema
    assert json.loads(out["text"]) == out["content"] and out["saved_id"]
    record = world.player.get(
        f"/api/v2/campaigns/{world.campaign_id}/records/{out['saved_id']}"
    ).json()
    assert record["kind"] == "npc" and record["name"] == npc.name
    # Players may generate, not save; only NPCs and locations are saved.
    assert world.player.post(url, json={**body, "save": True}).json()["code"] == "forbidden"
    r = world.player.post(url, json=body)
    assert r.status_code == 200, r.text
    r = world.dm.post(f"{LLM}/generate/encounter", json={**body, "save": True})
    assert r.status_code == 422 and r.json()["code"] == "not_saveable"
    for kind in ("location", "plot_hook", "magic_item", "encounter"):
        r = world.dm.post(f"{LLM}/generate/{kind}", json=body)
        assert r.status_code == 200 and r.json()["content"], (kind, r.text)


def test_validation_regenerates_then_refuses(world):
    generator = world.generation.generator
    limits = generator.limits

    def with_policy(policy: tuple[str, ...], **body):
        generator.limits = dataclasses.replace(limits, policy=policy, attempts=2)
        try:
            return story(world, world.player, temperature=1.0, max_tokens=40, **body)
        finally:
            generator.limits = limits

    # Seeded, so each attempt's answer is known: the first attempt (seed 5) writes a word
    # the second (seed 6) does not; forbidden, it is regenerated once and passes.
    first, second = (
        story(world, world.player, temperature=1.0, max_tokens=40, seed=s).json() for s in (5, 6)
    )
    word = next(
        w
        for w in re.findall(r"[a-z]{3,}", first["text"])
        if not find_terms(second["text"], [w]) and find_terms(first["text"], [w])
    )
    r = with_policy((word,), seed=5)
    assert r.status_code == 200, r.text
    assert r.json()["attempts"] == 2 and r.json()["text"] == second["text"]
    # A policy against the corpus's words: no answer is ever acceptable.
    r = with_policy(CORPUS_WORDS, seed=7)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["code"] == "content_rejected" and problem["attempts"] == 2
    assert problem["errors"][0]["code"] == "policy_violation"
    stored = world.player.get(f"{LLM}/generations").json()["total"]
    assert stored == 3  # the two seeded answers and the regenerated one, not the refused
    # A dead NPC cannot speak: refused before any generation.
    r = story(world, world.player, kind="dialogue", speaker="Old Tom")
    assert r.status_code == 422 and r.json()["code"] == "canon_conflict"
    assert story(world, world.player, kind="dialogue", speaker="Mira").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"instructions": "   "}, 422, "validation_error"),
        ({"instructions": "x" * 2001}, 422, "validation_error"),
        ({"campaign_id": 999_999}, 404, "not_found"),
        ({"max_tokens": MAX_MODEL_LEN}, 422, "max_tokens_too_large"),
        ({"max_tokens": MAX_MODEL_LEN - 60}, 422, "prompt_too_long"),
        ({"kind": "dialogue"}, 422, "speaker_required"),
        ({"temperature": 3}, 422, "validation_error"),
    ],
)
def test_bad_input_is_a_problem(world, body, status, code):
    r = story(world, world.player, **body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code


def test_unauthenticated_and_strangers(world):
    r = world.client.post(f"{LLM}/generate/story", json={})
    assert r.status_code == 401
    stranger = signup(world.client, "stranger")
    assert story(world, stranger).status_code == 404  # not a member: no such campaign


def test_cache_usage_and_quota(world):
    first = story(world, world.player, seed=11, temperature=0.8).json()
    again = story(world, world.player, seed=11, temperature=0.8).json()
    assert again["cached"] and not first["cached"] and again["text"] == first["text"]
    assert again["usage"]["completion_tokens"] == 0  # cached: no tokens used
    other = story(world, world.player, seed=12, temperature=0.8).json()
    assert not other["cached"]
    usage = world.player.get(f"{LLM}/usage").json()
    (row,) = usage["rows"]
    assert row["campaign_id"] == world.campaign_id and row["model"] == "tiny-llama"
    assert (
        row["completion_tokens"]
        == first["usage"]["completion_tokens"] + other["usage"]["completion_tokens"]
    )
    assert usage["used_today"] == row["total_tokens"] and usage["cache"] is None
    admin_view = world.dm.get(f"{LLM}/usage", params={"everyone": True})
    assert admin_view.status_code == 403

    generator = world.generation.generator
    limits = generator.limits
    generator.limits = dataclasses.replace(limits, quota=TokenQuota(tokens_per_day=10))
    try:
        r = story(world, world.player)
    finally:
        generator.limits = limits
    assert r.status_code == 429 and r.json()["code"] == "token_quota_exceeded"
    assert int(r.headers["Retry-After"]) > 0


def test_versions_regenerate_compare_restore(world):
    first = story(world, world.player, seed=1, temperature=1.0).json()
    r = world.player.post(f"{LLM}/generations/{first['id']}/regenerate", json={"seed": 2})
    assert r.status_code == 201, r.text
    second = r.json()
    assert (second["version"], second["parent_id"], second["root_id"]) == (
        2,
        first["id"],
        first["id"],
    )
    assert second["params"]["seed"] == 2 and second["text"] != first["text"]
    diff = world.player.get(f"{LLM}/generations/{first['id']}/compare/{second['id']}").json()
    assert not diff["same_output"] and diff["params"]["seed"] == [1, 2] and diff["diff"]
    r = world.player.post(f"{LLM}/generations/{first['id']}/restore")
    assert r.status_code == 201
    restored = r.json()
    assert restored["version"] == 3 and restored["restored_from"] == first["id"]
    assert restored["text"] == first["text"] and restored["usage"]["completion_tokens"] == 0
    versions = world.player.get(f"{LLM}/generations/{second['id']}/versions").json()
    assert [v["version"] for v in versions] == [1, 2, 3]
    page = world.player.get(f"{LLM}/generations", params={"campaign_id": world.campaign_id})
    assert page.json()["total"] == 3


def test_theme_analysis_and_rewrite(world):
    url = f"{LLM}/analyze/theme"
    r = world.player.post(
        url, json={"campaign_id": world.campaign_id, "text": "The heroes save the town."}
    )
    assert r.status_code == 200, r.text
    fit = r.json()
    assert 0 <= fit["score"] <= 1 and isinstance(fit["reasons"], list) and not fit["forbidden"]
    dark = world.player.post(
        url, json={"campaign_id": world.campaign_id, "text": "She studies necromancy."}
    ).json()
    assert dark["forbidden"] == ["school:necromancy"] and dark["score"] <= 0.2
    assert "forbids" in dark["reasons"][0]

    r = world.player.post(
        f"{LLM}/modify/content",
        json={
            "campaign_id": world.campaign_id,
            "text": "The goblin attacks.",
            "tone": "comic",
            "reading_level": "child",
            "length": "shorter",
            "max_tokens": 10,
        },
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["kind"] == "modify" and out["text"]
    prompt = world.player.get(f"{LLM}/generations/{out['id']}").json()["prompt"]
    assert "comic tone" in prompt and "child reader" in prompt and "The goblin attacks." in prompt


def _new_campaign(world: World, username: str) -> tuple[Api, int]:
    """Another DM with a campaign of their own."""
    dm = signup(world.client, username, granted_by=world.admin, role="dm")
    r = dm.post("/api/v2/campaigns", json={"name": f"{username}'s", "ruleset": "2024"})
    assert r.status_code == 201, r.text
    return dm, r.json()["id"]


def test_campaign_dms_read_their_players_generations(world):
    first = story(world, world.player, seed=1, temperature=1.0).json()
    r = world.player.post(f"{LLM}/generations/{first['id']}/regenerate", json={"seed": 2})
    assert r.status_code == 201, r.text
    second = r.json()
    mine = story(world, world.dm, seed=3).json()
    ids = {first["id"], second["id"]}

    # The campaign's DM: every member's outputs for it, with prompts, read-only.
    page = world.dm.get(f"{LLM}/generations", params={"campaign_id": world.campaign_id}).json()
    assert {g["id"] for g in page["items"]} == ids | {mine["id"]} and page["total"] == 3
    assert world.dm.get(f"{LLM}/generations").json()["total"] == 1  # unfiltered: their own
    r = world.dm.get(f"{LLM}/generations/{first['id']}")
    assert r.status_code == 200 and r.json()["prompt"] and r.json()["text"] == first["text"]
    versions = world.dm.get(f"{LLM}/generations/{second['id']}/versions").json()
    assert [v["id"] for v in versions] == [first["id"], second["id"]]
    r = world.dm.get(f"{LLM}/generations/{first['id']}/compare/{mine['id']}")
    assert r.status_code == 200 and r.json()["params"]["seed"] == [1, 3]
    for write in ("restore", "regenerate"):
        r = world.dm.post(f"{LLM}/generations/{first['id']}/{write}")
        assert r.status_code == 403 and r.json()["code"] == "forbidden", (write, r.text)
    assert world.player.get(f"{LLM}/generations").json()["total"] == 2  # nothing written

    # A player sees only their own, in the campaign or not, never the DM's.
    page = world.player.get(f"{LLM}/generations", params={"campaign_id": world.campaign_id})
    assert {g["id"] for g in page.json()["items"]} == ids
    assert world.player.get(f"{LLM}/generations/{mine['id']}").status_code == 404
    r = world.player.get(f"{LLM}/generations/{first['id']}/compare/{mine['id']}")
    assert r.status_code == 404
    co_player = signup(world.client, "player-two")
    r = world.dm.post(
        f"/api/v2/campaigns/{world.campaign_id}/members", json={"user_id": co_player.user_id}
    )
    assert r.status_code == 201, r.text
    assert co_player.get(f"{LLM}/generations/{first['id']}").status_code == 404
    page = co_player.get(f"{LLM}/generations", params={"campaign_id": world.campaign_id})
    assert page.json()["total"] == 0

    # Another campaign's DM, a stranger: as if it did not exist, like a forged id.
    other_dm, other_campaign = _new_campaign(world, "other-dm")
    stranger = signup(world.client, "stranger")
    for user in (other_dm, stranger):
        for path in ("", "/versions", f"/compare/{second['id']}"):
            r = user.get(f"{LLM}/generations/{first['id']}{path}")
            assert r.status_code == 404 and r.json()["code"] == "not_found", (path, r.text)
        page = user.get(f"{LLM}/generations", params={"campaign_id": world.campaign_id})
        assert page.json()["total"] == 0
        assert user.post(f"{LLM}/generations/{first['id']}/restore").status_code == 404
    assert world.dm.get(f"{LLM}/generations/2147483647").status_code == 404
    # The other DM's own output does not open the first campaign's to them.
    theirs = story(world, other_dm, campaign_id=other_campaign, seed=4).json()
    r = other_dm.get(f"{LLM}/generations/{theirs['id']}/compare/{first['id']}")
    assert r.status_code == 404
    assert world.dm.get(f"{LLM}/generations/{theirs['id']}").status_code == 404
    # An admin reads everything, as before.
    assert world.admin.get(f"{LLM}/generations/{first['id']}").status_code == 200


def test_campaign_token_quota(world):
    url = f"{LLM}/campaigns/{world.campaign_id}/quota"
    r = world.player.get(url)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "campaign_id": world.campaign_id,
        "tokens_per_day": None,
        "campaign_tokens_per_day": None,
        "default_tokens_per_day": None,
        "used_today": 0,
    }
    # Only the campaign's DMs set it; anyone else, forged ids and bad bodies are refused.
    other_dm, other_campaign = _new_campaign(world, "other-dm")
    stranger = signup(world.client, "stranger")
    assert world.player.put(url, json={"tokens_per_day": 10**6}).json()["code"] == "forbidden"
    for user in (other_dm, stranger):
        assert user.put(url, json={"tokens_per_day": 10**6}).status_code == 404
        assert user.get(url).status_code == 404
        r = user.get(f"{LLM}/usage", params={"campaign_id": world.campaign_id})
        assert r.status_code == 404
    r = world.dm.put(f"{LLM}/campaigns/2147483647/quota", json={"tokens_per_day": 5})
    assert r.status_code == 404
    for body in (
        {"tokens_per_day": 0},
        {"tokens_per_day": "many"},
        {},
        {"x": 1, "tokens_per_day": 5},
    ):
        r = world.dm.put(url, json=body)
        assert r.status_code == 422 and r.json()["code"] == "validation_error", body
    assert world.dm.put(f"{LLM}/campaigns/0/quota", json={"tokens_per_day": 5}).status_code == 422

    r = world.dm.put(url, json={"tokens_per_day": 30})
    assert r.status_code == 200 and r.json()["tokens_per_day"] == 30
    out = story(world, world.player).json()  # under the budget when it starts
    spent = out["usage"]["prompt_tokens"] + out["usage"]["completion_tokens"]
    assert spent > 30
    # Now spent for every member, the DM too (whose own quota is untouched).
    for user in (world.dm, world.player):
        r = story(world, user)
        assert r.status_code == 429 and r.json()["code"] == "campaign_token_quota_exceeded"
        assert int(r.headers["Retry-After"]) > 0 and r.json()["quota"] == 30
    usage = world.dm.get(f"{LLM}/usage", params={"campaign_id": world.campaign_id}).json()
    assert usage["used_today"] == 0
    assert usage["campaign"]["used_today"] == spent and usage["campaign"]["tokens_per_day"] == 30
    assert world.dm.get(f"{LLM}/usage").json()["campaign"] is None
    # Another campaign has its own budget.
    assert story(world, other_dm, campaign_id=other_campaign).status_code == 200

    # The config's default: a DM may lower it, not raise it; null goes back to it.
    generator = world.generation.generator
    limits = generator.limits
    generator.limits = dataclasses.replace(limits, campaign_tokens_per_day=10**6)
    try:
        assert world.dm.get(url).json()["tokens_per_day"] == 30
        r = world.dm.put(url, json={"tokens_per_day": 10**7})
        assert r.json()["tokens_per_day"] == 10**6 and r.json()["campaign_tokens_per_day"] == 10**7
        assert story(world, world.player).status_code == 200
        r = world.dm.put(url, json={"tokens_per_day": None})
        assert r.status_code == 200 and r.json()["campaign_tokens_per_day"] is None
        assert r.json()["tokens_per_day"] == r.json()["default_tokens_per_day"] == 10**6
        generator.limits = dataclasses.replace(limits, campaign_tokens_per_day=spent)
        assert story(world, world.player).json()["code"] == "campaign_token_quota_exceeded"
    finally:
        generator.limits = limits


def test_concurrent_stories_share_the_campaign_budget(world):
    """Each generation holds its max_tokens from its admission: with a budget of 40, the
    first of four stories arriving together holds 48 and the others are refused."""
    url = f"{LLM}/campaigns/{world.campaign_id}/quota"
    assert world.dm.put(url, json={"tokens_per_day": 40}).status_code == 200
    start = threading.Barrier(4)

    def one(user: Api) -> int:
        start.wait()
        return story(world, user, max_tokens=48).status_code

    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(one, [world.dm, world.player] * 2))
    assert sorted(codes) == [200, 429, 429, 429], codes
    # The holds gave way to what the one story used.
    rows = [r for u in (world.dm, world.player) for r in u.get(f"{LLM}/usage").json()["rows"]]
    campaign = world.dm.get(f"{LLM}/usage", params={"campaign_id": world.campaign_id}).json()
    assert campaign["campaign"]["used_today"] == sum(r["total_tokens"] for r in rows) > 0


class CountingLLM(OnEngineLoop):
    """The engine's calls, counting the streams asked of it; with `delay`, a slow link
    that holds each piece that long (so that a client surely leaves mid-stream)."""

    streams = 0
    delay = 0.0

    def stream_complete(self, principal, prompt, params):
        self.streams += 1
        return self._slowed(super().stream_complete(principal, prompt, params))

    async def _slowed(self, stream):
        try:
            async for chunk in stream:
                yield chunk
                await asyncio.sleep(self.delay)
        finally:
            await stream.aclose()


def stream_story(world: World, **body) -> list[tuple[str, dict]]:
    body = {"campaign_id": world.campaign_id, "instructions": "A storm.", "kind": "beat", **body}
    with world.player.client.stream(
        "POST", f"{LLM}/generate/story/stream", json=body, headers=world.player.headers
    ) as r:
        assert r.status_code == 200
        return _events(r.iter_lines())


def test_deterministic_streams_are_cached(world, llm_server):
    engine = CountingLLM(llm_server)
    world.generation.use_llm(engine)
    body = {"max_tokens": 10, "seed": 21, "temperature": 1.0}
    first = stream_story(world, **body)
    assert first[-1][0] == "done" and not first[-1][1]["cached"] and engine.streams == 1
    used = world.player.get(f"{LLM}/usage").json()["used_today"]
    stats = _stats(world)
    again = stream_story(world, **body)
    # The same stream, event for event, without the engine and without tokens.
    assert [e for e in again if e[0] == "token"] == [e for e in first if e[0] == "token"]
    assert [name for name, _ in again] == [name for name, _ in first]
    done = again[-1][1]
    assert done["cached"] and done["usage"]["completion_tokens"] == 0
    assert done["text"] == first[-1][1]["text"] and done["id"] != first[-1][1]["id"]
    assert engine.streams == 1 and _stats(world) == {
        "hits": stats["hits"] + 1,
        "misses": stats["misses"],
    }
    assert world.player.get(f"{LLM}/usage").json()["used_today"] == used
    # Not deterministic: neither looked up nor stored.
    stream_story(world, max_tokens=5, temperature=1.0)
    assert engine.streams == 2 and _stats(world) == {
        "hits": stats["hits"] + 1,
        "misses": stats["misses"],
    }

    # A stream the client left is not cached: asked again, the engine answers.
    long = {"max_tokens": 200, "seed": 22, "temperature": 1.0}
    stored = world.player.get(f"{LLM}/generations").json()["total"]
    engine.delay = 0.3
    with world.player.client.stream(
        "POST",
        f"{LLM}/generate/story/stream",
        json={
            "campaign_id": world.campaign_id,
            "instructions": "A long tale.",
            "kind": "beat",
            **long,
        },
        headers=world.player.headers,
    ) as r:
        next(line for line in r.iter_lines() if line.startswith("event: token"))
    engine.delay = 0
    assert engine.streams == 3
    unfinished = llm_server.ingress.engine.llm.get_num_unfinished_requests
    deadline = time.monotonic() + 5
    while unfinished() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert unfinished() == 0
    assert world.player.get(f"{LLM}/generations").json()["total"] == stored  # cut short
    full = stream_story(world, instructions="A long tale.", **long)
    assert full[-1][0] == "done" and not full[-1][1]["cached"] and engine.streams == 4
    assert full[-1][1]["usage"]["completion_tokens"] > 3  # longer than what the client read
    assert stream_story(world, instructions="A long tale.", **long)[-1][1]["cached"]
    assert engine.streams == 4


def _stats(world: World) -> dict[str, int]:
    return world.admin.get(f"{LLM}/usage").json()["cache"]


def _events(lines: Iterator[str]) -> list[tuple[str, dict]]:
    out, name = [], ""
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            out.append((name, json.loads(line[6:])))
    return out
