"""Issue 7's "Done when", end to end in one process (SQLite and PostgreSQL): a DM creates a
campaign and invites players, who accept and bring their characters; the DM runs a session
that awards XP (a level's worth) and an item; the event hub delivers; the characters have
leveled up and hold the item; the players' clients saw it live over SSE; the timeline shows
the session; no player sees a DM secret anywhere on the way; the export round-trips.
The README walk-through (docs/campaigns.md, "Walk-through") makes the same calls."""

from __future__ import annotations

import copy
import json
import threading
import time

import pytest
from starlette.testclient import TestClient

from deployments.apps import compose_local
from domain.characters.examples import EXAMPLE_2024
from tests.support import Api, signup

BASE = "/api/v2/campaigns"
SECRETS = ("Strahd is the vampire", "the burgomaster is already dead", "rot-in-the-wine",
           "the Dark Gift")


@pytest.fixture
def hub_client(db, settings):
    """Every application in process, with the events application's hub (tests drain it)."""
    app, ingresses = compose_local(settings, db)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, ingresses["events"].hub


def _ok(r, status: int = 200) -> dict:
    assert r.status_code == status, r.text
    return r.json() if r.content else {}


def _stream(user: Api, cid: int, out: list[dict], after: int, timeout: float) -> None:
    """A player's client: reads the campaign's SSE stream until it closes (`timeout`)."""
    url = f"{BASE}/{cid}/events?timeout={timeout}"
    headers = {**user.headers, "Accept": "text/event-stream", "Last-Event-ID": str(after)}
    with user.client.stream("GET", url, headers=headers) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith(
            "text/event-stream")
        event: dict = {}
        for line in r.iter_lines():
            if line.startswith("id: "):
                event["id"] = int(line[4:])
            elif line.startswith("event: "):
                event["type"] = line[7:]
            elif line.startswith("data: "):
                event["data"] = json.loads(line[6:])
            elif line == "" and event:
                out.append(event)
                event = {}


def _renumbered(export: dict) -> dict:
    """An export with its record ids replaced by their position, so two exports compare."""
    ids = {rec["id"]: f"#{i}" for i, rec in enumerate(export["records"], start=1)}
    text = json.dumps(export["records"])
    for old, new in sorted(ids.items(), key=lambda kv: -kv[0]):
        text = text.replace(f'"record:{old}"', f'"record:{new}"')
    records = json.loads(text)
    for rec in records:
        rec["id"] = ids[rec["id"]]
        for key, value in list(rec["body"].items()):
            if key.endswith("_id") and key != "character_id" and value in ids:
                rec["body"][key] = ids[value]
        for step in rec["body"].get("history", []):
            step.pop("at", None)
    return {**export, "records": records}


def _seen_by(player: Api, cid: int, char: int, npc: dict, note: dict, chapter: dict) -> str:
    """Everything a player can read about the campaign, as one text."""
    urls = [
        f"{BASE}", f"{BASE}/{cid}", f"{BASE}/{cid}/members", f"{BASE}/{cid}/records",
        f"{BASE}/{cid}/npcs", f"{BASE}/{cid}/notes", f"{BASE}/{cid}/chapters",
        f"{BASE}/{cid}/records?q=strahd", f"{BASE}/{cid}/timeline", f"{BASE}/{cid}/export",
        f"{BASE}/{cid}/events", f"{BASE}/{cid}/relationships", f"{BASE}/{cid}/characters",
        f"{BASE}/{cid}/records/{chapter['id']}/versions",
        f"/api/v2/characters/{char}", f"/api/v2/characters/{char}/events",
        f"/api/v2/characters/{char}/xp",
    ]
    texts = []
    for url in urls:
        r = player.get(url)
        assert r.status_code == 200, (url, r.text)
        texts.append(r.text)
    missing = player.get(f"{BASE}/{cid}/records/999999").json()
    for hidden in (npc, note):  # a secret record answers exactly like a missing one
        r = player.get(f"{BASE}/{cid}/records/{hidden['id']}")
        assert r.status_code == 404
        assert r.json()["detail"] == missing["detail"].replace("999999", str(hidden["id"]))
        texts.append(r.text)
    found = player.get(f"{BASE}/{cid}/records", params={"q": "count"}).json()
    assert (found["items"], found["total"]) == ([], 0)  # not even counted
    page = player.get(f"{BASE}/{cid}/records", params={"limit": 200}).json()
    assert page["total"] == len(page["items"])
    return "\n".join(texts)


def test_a_dm_runs_a_session_and_the_players_characters_level_up_live(hub_client, db):
    client, hub = hub_client
    admin = signup(client, "admin-user")  # the first account is the admin
    dm = signup(client, "dungeon-master", granted_by=admin, role="dm")
    players = [signup(client, "player-one"), signup(client, "player-two")]

    # 1. The DM creates a campaign and invites the players; they accept.
    cid = _ok(dm.post(BASE, json={
        "name": "Curse of Strahd", "ruleset": "2024", "description": "Gothic horror",
        "calendar": {"months": [{"name": "Ches", "days": 30}, {"name": "Tarsakh", "days": 30}],
                     "eras": [{"name": "BR", "start_year": 1}],
                     "current": {"year": 735, "month": 1, "day": 1}},
    }), 201)["id"]
    for p in players:
        _ok(dm.post(f"{BASE}/{cid}/invitations", json={"user_id": p.user_id}), 201)
        [invitation] = _ok(p.get(f"{BASE}/invitations"))
        assert invitation["campaign_id"] == cid
        _ok(p.post(f"{BASE}/invitations/{invitation['id']}/accept"), 201)
        assert _ok(p.get(f"{BASE}/{cid}"))["role"] == "player"

    # 2. The players' characters (level 3, 900 XP) join.
    chars = []
    for p, name in zip(players, ("Mira", "Ezmerelda"), strict=True):
        char = _ok(p.post("/api/v2/characters",
                          json={**copy.deepcopy(EXAMPLE_2024), "name": name}), 201)
        assert char["derived"]["total_level"] == 3
        _ok(p.post(f"{BASE}/{cid}/characters", json={"character_id": char["id"]}), 201)
        chars.append(char["id"])

    # 3. The DM's world: secrets among what the party may see.
    secret_npc = _ok(dm.post(f"{BASE}/{cid}/npcs?visibility=dm",
                             json={"name": "Count", "secret": SECRETS[0]}), 201)
    ismark = _ok(dm.post(f"{BASE}/{cid}/npcs?visibility=party",
                         json={"name": "Ismark", "secret": SECRETS[2]}), 201)
    chapter = _ok(dm.post(f"{BASE}/{cid}/chapters?visibility=party",
                          json={"title": "Into the Mists", "status": "active",
                                "dm_notes": SECRETS[1]}), 201)
    note = _ok(dm.post(f"{BASE}/{cid}/notes?visibility=dm",
                       json={"title": "Prep", "text": SECRETS[1]}), 201)
    _ok(dm.post(f"{BASE}/{cid}/records", json={
        "kind": "relationship", "visibility": "dm",
        "body": {"from_ref": f"record:{secret_npc['id']}", "to_ref": f"record:{ismark['id']}",
                 "kind": "hunts", "attitude": -80}}), 201)

    # 4. The players' clients open the live stream; the DM runs the session and awards.
    start = _ok(players[0].get(f"{BASE}/{cid}/events"))["last_seq"]
    seen: list[list[dict]] = [[], []]
    readers = [
        threading.Thread(target=_stream, args=(p, cid, out, start, 3.0))
        for p, out in zip(players, seen, strict=True)
    ]
    for reader in readers:
        reader.start()
    time.sleep(0.5)  # both streams are open and caught up
    game = _ok(dm.post(f"{BASE}/{cid}/sessions?visibility=party", json={
        "title": "Session 1: Death House", "date": "2026-01-10",
        "in_world": {"year": 735, "month": 1, "day": 3}, "chapter_id": chapter["id"],
        "attendees": [p.user_id for p in players], "summary": "The house fell.",
    }), 201)
    awards = [{"character_id": c, "xp": 1800, "reason": "Death House",
               "items": [{"item": "potion-of-healing", "quantity": 2}]} for c in chars]
    _ok(dm.post(f"{BASE}/{cid}/sessions/{game['id']}/awards", json={"awards": awards}), 201)
    _ok(dm.post(f"{BASE}/{cid}/impacts", json={  # a curse the player must not learn of yet
        "character_id": chars[0], "kind": "curse", "summary": SECRETS[3],
        "session_id": game["id"], "visibility": "dm"}), 201)
    assert hub.drain() == 5  # 2 XP awards, 2 items, 1 impact: the characters group applies them
    for reader in readers:
        reader.join(10)
        assert not reader.is_alive()

    # 5. The characters leveled up and hold the item; their pages name the events.
    for p, char, stream in zip(players, chars, seen, strict=True):
        doc = _ok(p.get(f"/api/v2/characters/{char}"))
        assert doc["derived"]["total_level"] == 4 and doc["document"]["xp"] == 2700
        assert {"item": "potion-of-healing", "quantity": 2} in [
            {k: i[k] for k in ("item", "quantity")} for i in doc["document"]["inventory"]]
        [xp] = _ok(p.get(f"/api/v2/characters/{char}/xp"))
        assert (xp["amount"], xp["level_before"], xp["level_after"]) == (1800, 3, 4)
        assert xp["reason"] == f"campaign {cid}, session {game['id']}: Death House"
        changed_by = _ok(p.get(f"/api/v2/characters/{char}/events"))
        assert [e["type"] for e in changed_by] == [
            "campaign.character_joined", "campaign.xp_awarded", "campaign.item_awarded"]
        assert all(e["campaign_id"] == cid for e in changed_by)
        # ... and the player's client saw both awards of each character arrive live.
        awarded = {(e["type"], e["data"]["character_id"]) for e in stream
                   if e["type"] != "campaign.changed"}
        assert awarded == {(t, c) for t in ("campaign.xp_awarded", "campaign.item_awarded")
                           for c in chars}
        assert any(e["type"] == "campaign.changed" and e["data"]["payload"]["kind"] == "session"
                   for e in stream)
        assert all(e["id"] > start for e in stream)
        assert not any(secret in json.dumps(stream) for secret in SECRETS)

    everything = _ok(admin.get(f"/api/v2/characters/{chars[0]}/events"))
    assert everything[-1]["type"] == "campaign.story_impact"  # there, for those who may see

    # 6. The timeline shows the session, dated in the world and in ours.
    timeline = _ok(players[1].get(f"{BASE}/{cid}/timeline"))
    [entry] = [i for i in timeline["items"] if i["kind"] == "session"]
    assert entry["name"] == "Session 1: Death House" and entry["world_date"] == "3 Ches 735 (BR)"

    # 7. No player sees a DM secret anywhere on the way.
    for p, char in zip(players, chars, strict=True):
        text = _seen_by(p, cid, char, secret_npc, note, chapter)
        assert "Ismark" in text and "Death House" in text  # what they may see, they do
        for secret in (*SECRETS, "Count", "hunts"):
            assert secret not in text, secret
    assert SECRETS[0] in json.dumps(_ok(dm.get(f"{BASE}/{cid}/export")))

    # 8. The export round-trips through import.
    exported = _ok(dm.get(f"{BASE}/{cid}/export"))
    assert {r["kind"] for r in exported["records"]} >= {"npc", "session", "award", "chapter"}
    copy_id = _ok(dm.post(f"{BASE}/import", json=exported), 201)["id"]
    again = _ok(dm.get(f"{BASE}/{copy_id}/export"))
    assert _renumbered(again) == _renumbered(exported)
    theirs = _ok(players[0].get(f"{BASE}/{cid}/export"))
    assert not any(secret in json.dumps(theirs) for secret in SECRETS)


def test_an_award_of_an_item_the_rules_do_not_know_fails_whole(client, dm, player):
    """Checked when awarded, not only when applied: otherwise the award would be recorded
    and its event dead-lettered by the hub."""
    cid = _ok(dm.post(BASE, json={"name": "Curse of Strahd", "ruleset": "2024"}), 201)["id"]
    _ok(dm.post(f"{BASE}/{cid}/members", json={"user_id": player.user_id}), 201)
    char = _ok(player.post("/api/v2/characters", json=copy.deepcopy(EXAMPLE_2024)), 201)["id"]
    _ok(player.post(f"{BASE}/{cid}/characters", json={"character_id": char}), 201)
    game = _ok(dm.post(f"{BASE}/{cid}/sessions", json={"title": "S1", "date": "2026-01-10"}),
               201)
    before = _ok(dm.get(f"{BASE}/{cid}/events"))["last_seq"]
    url = f"{BASE}/{cid}/sessions/{game['id']}/awards"
    good = {"character_id": char, "xp": 100, "items": [{"item": "potion-of-healing"}]}
    bad = {"character_id": char, "items": [{"item": "sword-of-later"}]}
    r = dm.post(url, json={"awards": [good, bad]})
    assert r.status_code == 422 and r.json()["code"] == "item_unknown"
    assert r.json()["errors"][0]["path"] == "awards.1.items.0.item"
    assert _ok(dm.get(f"{BASE}/{cid}/events", params={"after": before}))["items"] == []
    assert _ok(dm.get(f"{BASE}/{cid}/records", params={"kind": "award"}))["total"] == 0
