"""The attacker suite: a player tries every campaign route, filter, id, timeline range,
export and the event stream to reach a DM secret, another player's private record or
another campaign, and gets nothing (not even a count or an error message that tells)."""

from __future__ import annotations

import json

import anyio
import pytest
from starlette.routing import Route

from deployments.apps import compose_local
from domain.users.schemas import Principal
from tests.integration.test_campaigns_api import (
    BASE,
    add,
    make_campaign,
    make_character,
    read_stream,
)
from tests.support import Api

SECRETS = ("Strahd-is-the-vampire", "Tatyana-lives", "diary-of-two", "Amber-Temple")


@pytest.fixture
def world(dm: Api, player: Api, other_player: Api, admin: Api) -> dict:
    """A campaign full of secrets, and one the player does not belong to."""
    cid = make_campaign(dm, player, other_player)
    secret_npc = add(dm, cid, "npc", {"name": "Strahd-is-the-vampire"}, "dm")
    public_npc = add(dm, cid, "npc", {"name": "Ismark", "secret": "Tatyana-lives"}, "party")
    hidden_place = add(dm, cid, "location", {"name": "Amber-Temple", "kind": "region"}, "dm")
    add(dm, cid, "event", {"title": "Strahd-is-the-vampire rises", "date": {"year": 1},
                           "location_id": hidden_place["id"]}, "dm")
    add(dm, cid, "relationship", {"from_ref": f"record:{public_npc['id']}",
                                  "to_ref": f"record:{secret_npc['id']}", "kind": "fears"},
        "party")
    add(dm, cid, "chapter", {"title": "Amber-Temple chapter"}, "dm")
    add(other_player, cid, "note", {"title": "diary-of-two"}, f"player:{other_player.user_id}")
    char = make_character(other_player)
    other_player.post(f"{BASE}/{cid}/characters", json={"character_id": char})
    game = add(dm, cid, "session", {"title": "S1", "date": "2026-01-01"}, "party")
    dm.post(f"{BASE}/{cid}/sessions/{game['id']}/awards", json={
        "visibility": f"player:{other_player.user_id}",
        "awards": [{"character_id": char, "xp": 1, "reason": "diary-of-two"}]})
    dm.post(f"{BASE}/{cid}/impacts", json={"character_id": char, "kind": "curse",
                                           "summary": "Strahd-is-the-vampire bit them"})
    foreign = make_campaign(admin)
    add(admin, foreign, "npc", {"name": "Amber-Temple keeper"}, "party")
    return {"cid": cid, "foreign": foreign, "secret_ids": [secret_npc["id"], hidden_place["id"]],
            "public": public_npc["id"]}


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_every_get_route_hides_secrets(client, player: Api, world: dict):
    """Every GET route of the campaigns app, with every record id and both campaigns."""
    cid, foreign = world["cid"], world["foreign"]
    ids = range(1, 40)
    paths = [
        f"{BASE}", f"{BASE}/invitations", f"{BASE}/{cid}", f"{BASE}/{cid}/versions",
        f"{BASE}/{cid}/versions/1", f"{BASE}/{cid}/members", f"{BASE}/{cid}/records",
        f"{BASE}/{cid}/relationships", f"{BASE}/{cid}/timeline", f"{BASE}/{cid}/export",
        f"{BASE}/{cid}/characters", f"{BASE}/{cid}/events",
        *(f"{BASE}/{cid}/{p}" for p in ("chapters", "plots", "npcs", "locations", "factions",
                                         "notes", "world-events", "sessions", "actions")),
        *(f"{BASE}/{cid}/records/{i}" for i in ids),
        *(f"{BASE}/{cid}/records/{i}/versions" for i in ids),
        *(f"{BASE}/{cid}/records/{i}/versions/1" for i in ids),
        f"{BASE}/{cid}/relationships?entity=record:{world['secret_ids'][0]}&depth=5",
        *(f"{BASE}/{cid}/timeline?location={i}" for i in world["secret_ids"]),
        f"{BASE}/{cid}/timeline?world_from=-999999-1-1&world_to=999999-99-99",
        f"{BASE}/{cid}/timeline?kind=event&kind=session&kind=award&kind=impact&kind=note",
        *(f"{BASE}/{cid}/records?kind={k}" for k in ("npc", "note", "award", "impact",
                                                    "event", "chapter", "relationship")),
        f"{BASE}/{cid}/records?q=strahd", f"{BASE}/{cid}/records?q=amber",
        f"{BASE}/{cid}/events?after=0",
    ]
    for path in paths:
        r = player.get(path)
        assert r.status_code < 500, path
        assert leaks(r.text) == [], (path, r.text[:300])
    for path in (f"{BASE}/{foreign}", f"{BASE}/{foreign}/records", f"{BASE}/{foreign}/export",
                 f"{BASE}/{foreign}/events", f"{BASE}/{foreign}/timeline",
                 f"{BASE}/{foreign}/members"):
        r = player.get(path)
        assert r.status_code == 404, path
    # A hidden record reads exactly like a missing one.
    hidden = player.get(f"{BASE}/{cid}/records/{world['secret_ids'][0]}").json()
    missing = player.get(f"{BASE}/{cid}/records/999999").json()
    secret = world["secret_ids"][0]
    assert (hidden["code"], hidden["detail"].replace(f"record {secret} ", "record N ")) == (
        missing["code"], missing["detail"].replace("record 999999 ", "record N "))
    foreign_answer = player.get(f"{BASE}/{foreign}").json()
    nothing = player.get(f"{BASE}/999999").json()
    assert foreign_answer["detail"].replace(f"campaign {foreign} ", "campaign N ") == (
        nothing["detail"].replace("campaign 999999 ", "campaign N "))


def test_counts_tell_nothing(dm: Api, player: Api, world: dict):
    cid = world["cid"]
    for kind in ("npc", "note", "award", "impact", "event", "chapter", "location"):
        theirs = player.get(f"{BASE}/{cid}/records?kind={kind}").json()
        assert theirs["total"] == len(theirs["items"]), kind
    assert player.get(f"{BASE}/{cid}/records?kind=npc").json()["total"] == 1
    assert dm.get(f"{BASE}/{cid}/records?kind=npc").json()["total"] == 2
    assert player.get(f"{BASE}/{cid}/timeline").json()["total"] == 1  # the session only


def test_writes_cannot_reach_secrets(player: Api, world: dict):
    """Writing, deleting, restoring or referring to a hidden record: all like missing."""
    cid, foreign = world["cid"], world["foreign"]
    for rid in world["secret_ids"]:
        url = f"{BASE}/{cid}/records/{rid}"
        assert player.put(url, headers={"If-Match": '"1"'},
                          json={"body": {"title": "x"}}).status_code == 404
        assert player.delete(url, headers={"If-Match": '"1"'}).status_code == 404
        assert player.post(f"{url}/versions/1/restore",
                           headers={"If-Match": '"1"'}).status_code == 403
        r = player.post(f"{BASE}/{cid}/records", json={
            "kind": "note", "visibility": "party",
            "body": {"title": "probe", "chapter_id": rid}})
        assert r.status_code == 422 and leaks(r.text) == []
        r = player.post(f"{BASE}/{cid}/records", json={
            "kind": "action", "visibility": "party", "body": {"title": "x", "session_id": rid}})
        assert "There is no session" in r.text and leaks(r.text) == []
    for path in ("records", "npcs", "characters", "impacts", "invitations", "members"):
        r = player.post(f"{BASE}/{foreign}/{path}", json={})
        assert r.status_code in (404, 422), path
        assert leaks(r.text) == []
    assert player.put(f"{BASE}/{foreign}/theme", json={"to": None},
                      headers={"If-Match": '"1"'}).status_code == 404


def test_event_stream_and_export_hide_secrets(player: Api, other_player: Api, world: dict):
    cid = world["cid"]
    events = read_stream(player, f"{BASE}/{cid}/events?timeout=0.3")
    assert events and leaks(json.dumps(events)) == []
    assert all(e["data"]["visibility"] in ("party", "public", f"player:{player.user_id}")
               for e in events)
    # Resuming from before the first event does not reveal more.
    again = read_stream(player, f"{BASE}/{cid}/events?timeout=0.3", **{"Last-Event-ID": "0"})
    assert [e["id"] for e in again] == [e["id"] for e in events]
    export = player.get(f"{BASE}/{cid}/export").text
    assert leaks(export) == []
    # The other player sees their own private note and award, not the DM's secrets.
    theirs = other_player.get(f"{BASE}/{cid}/export").text
    assert "diary-of-two" in theirs and "Strahd-is-the-vampire" not in theirs


def test_context_for_a_player_holds_no_secret(client, db, settings, player: Api, world: dict):
    _, ingresses = compose_local(settings, db)
    ctx = anyio.run(ingresses["campaigns"].context, Principal(player.user_id, "player"),
                    world["cid"])
    assert leaks(ctx.model_dump_json()) == []
    with pytest.raises(Exception) as exc:
        anyio.run(ingresses["campaigns"].context, Principal(player.user_id, "player"),
                  world["foreign"])
    assert getattr(exc.value, "status", None) == 404


def test_every_route_is_covered(client):
    """A new campaign route must be added to the attacker suite: this lists them."""
    campaigns = next(a for p, a in client.app.routes if p == BASE)
    paths = {r.path for r in campaigns.routes if isinstance(r, Route)
             and r.path.startswith(BASE)}
    covered = {
        "", "/themes", "/invitations", "/invitations/{invitation_id:int}/accept",
        "/invitations/{invitation_id:int}/decline", "/import", "/{campaign_id:int}",
        "/{campaign_id:int}/versions", "/{campaign_id:int}/versions/{number:int}",
        "/{campaign_id:int}/versions/{number:int}/restore", "/{campaign_id:int}/theme",
        "/{campaign_id:int}/members", "/{campaign_id:int}/members/{user_id:int}",
        "/{campaign_id:int}/invitations", "/{campaign_id:int}/export",
        "/{campaign_id:int}/records", "/{campaign_id:int}/records/{record_id:int}",
        "/{campaign_id:int}/records/{record_id:int}/versions",
        "/{campaign_id:int}/records/{record_id:int}/versions/{number:int}",
        "/{campaign_id:int}/records/{record_id:int}/versions/{number:int}/restore",
        "/{campaign_id:int}/chapters/order", "/{campaign_id:int}/relationships",
        "/{campaign_id:int}/timeline", "/{campaign_id:int}/characters",
        "/{campaign_id:int}/characters/{character_id:int}",
        "/{campaign_id:int}/sessions/{session_id:int}/awards", "/{campaign_id:int}/impacts",
        "/{campaign_id:int}/events", "/openapi.json",
        *(f"/{{campaign_id:int}}/{p}" for p in (
            "chapters", "plots", "npcs", "locations", "factions", "notes", "world-events",
            "sessions", "actions")),
    }
    assert {p.removeprefix(BASE) for p in paths} - {""} <= covered
