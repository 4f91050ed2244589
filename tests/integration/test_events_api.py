"""The event hub's HTTP and CLI faces: a character's campaign events (visibility-filtered),
the operators' routes (status, registry, dead letters, redrive, replay) and
`lorekeeper events ...`. Default transport (no Redis)."""

from __future__ import annotations

import json
import time

import pytest
from starlette.testclient import TestClient

from cluster.settings import get_settings
from deployments.apps import compose_local
from domain.campaigns.events import StoryImpactRecorded, XpAwarded
from domain.characters.examples import EXAMPLE_2024
from lorekeeper.cli import main
from tests.events_support import emit
from tests.support import signup


@pytest.fixture
def hub_client(db, settings, monkeypatch):
    """Every application in process, with the events application's hub at hand."""
    monkeypatch.setenv("LOREKEEPER_EVENTS_MAX_DELIVERIES", "1")  # poison: dead at once
    app, ingresses = compose_local(settings, db)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, ingresses["events"].hub


def _impact(character_id: int, actor: int, visibility: str, summary: str):
    return StoryImpactRecorded(
        campaign_id=3,
        character_id=character_id,
        actor_id=actor,
        visibility=visibility,
        kind="curse",
        summary=summary,
    )


def test_a_character_page_shows_the_campaign_events_its_owner_may_see(hub_client, db):
    client, hub = hub_client
    admin = signup(client, "admin-user")
    player = signup(client, "player-one")
    other = signup(client, "player-two")
    char = player.post("/api/v2/characters", json=EXAMPLE_2024).json()["id"]
    emit(
        db,
        _impact(char, admin.user_id, "party", "the party saw it"),
        _impact(char, admin.user_id, "dm", "SECRET: the curse is the DM's"),
        _impact(char, admin.user_id, f"player:{player.user_id}", "only you know"),
        _impact(char, admin.user_id, f"player:{other.user_id}", "another player's secret"),
    )
    assert hub.drain() == 4  # the character side records every impact

    r = player.get(f"/api/v2/characters/{char}/events")
    assert r.status_code == 200, r.text
    assert [e["payload"]["summary"] for e in r.json()] == ["the party saw it", "only you know"]
    assert "SECRET" not in r.text and "another player" not in r.text
    everything = admin.get(f"/api/v2/characters/{char}/events").json()
    assert len(everything) == 4 and everything[0]["type"] == "campaign.story_impact"
    page = admin.get(f"/api/v2/characters/{char}/events", params={"after": everything[1]["seq"]})
    assert [e["seq"] for e in page.json()] == [e["seq"] for e in everything[2:]]
    assert other.get(f"/api/v2/characters/{char}/events").status_code == 404
    assert client.get(f"/api/v2/characters/{char}/events").status_code == 401


def test_operators_see_lag_and_dead_letters_and_redrive_them(hub_client, db):
    client, hub = hub_client
    admin = signup(client, "admin-user")
    player = signup(client, "player-one")
    emit(db, XpAwarded(campaign_id=1, character_id=999, actor_id=admin.user_id, amount=5))

    groups = admin.get("/api/v2/events/groups").json()
    assert groups == [
        {
            "group": "characters",
            "transport": "database",
            "lag": 1,
            "pending": 0,
            "retrying": 0,
            "dead": 0,
            "consumers_alive": 0,
        }
    ]
    hub.drain()
    assert admin.get("/api/v2/events/groups").json()[0]["dead"] == 1
    letters = admin.get("/api/v2/events/dead-letters", params={"group": "characters"}).json()
    assert len(letters) == 1 and "There is no character 999" in letters[0]["error"]
    r = admin.post("/api/v2/events/dead-letters/redrive", json={"group": "characters"})
    assert r.json() == {"count": 1}
    assert admin.get("/api/v2/events/groups").json()[0]["lag"] == 1
    r = admin.post("/api/v2/events/replay", json={"group": "characters", "from": "1"})
    assert r.json() == {"count": 0}  # already queued again by the redrive

    hub.start()  # the runners register with a heartbeat
    try:
        for _ in range(100):
            registry = admin.get("/api/v2/events/consumers").json()
            if len(registry) == 2:
                break
            time.sleep(0.05)
    finally:
        hub.stop()
    assert {(c["role"], c["group"], c["alive"]) for c in registry} == {
        ("relay", "relay", True),
        ("consumer", "characters", True),
    }

    for url in ("/api/v2/events/groups", "/api/v2/events/consumers"):
        assert player.get(url).status_code == 403
    r = admin.get("/api/v2/events/dead-letters", params={"group": "nope"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = admin.post("/api/v2/events/replay", json={"group": "characters", "from": "yesterday"})
    assert r.status_code == 422 and r.json()["code"] == "bad_start"


def test_the_cli_lists_redrives_and_replays(db, settings, monkeypatch, capsys, client, admin):
    monkeypatch.setenv("LOREKEEPER_DATABASE_URL", db.url)
    monkeypatch.setenv("LOREKEEPER_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("LOREKEEPER_EVENTS_MAX_DELIVERIES", "1")
    monkeypatch.delenv("LOREKEEPER_REDIS_URL", raising=False)
    get_settings.cache_clear()
    try:
        emit(db, XpAwarded(campaign_id=1, character_id=999, actor_id=admin.user_id, amount=5))
        from cluster.events.hub import EventHub

        EventHub(db, get_settings()).drain()
        capsys.readouterr()
        assert main(["events", "dlq", "list", "--group", "characters"]) == 0
        letters = json.loads(capsys.readouterr().out)
        assert [d["type"] for d in letters] == ["campaign.xp_awarded"]
        assert main(["events", "dlq", "redrive", "--group", "characters"]) == 0
        assert capsys.readouterr().out.startswith("1 dead letter(s) redriven")
        assert main(["events", "replay", "--group", "characters", "--from", "1"]) == 0
        assert capsys.readouterr().out.startswith("0 event(s) queued")
        assert main(["events", "status"]) == 0
        assert json.loads(capsys.readouterr().out)[0]["lag"] == 1
        with pytest.raises(SystemExit, match="bad_start"):
            main(["events", "replay", "--group", "characters", "--from", "soon"])
    finally:
        get_settings.cache_clear()
