"""The campaigns application through HTTP (every app composed in process), on SQLite and
PostgreSQL: campaigns, members, records, versions, story, world, sessions, awards and the
events they emit, timeline, export/import, the SSE stream and the typed calls."""

from __future__ import annotations

import copy
import json

import anyio
import pytest
from sqlalchemy import select

from deployments.apps import compose_local
from domain.campaigns.content import NPC, Location
from domain.characters.examples import EXAMPLE_2024
from domain.events.models import OutboxEvent
from domain.users.schemas import Principal
from tests.support import Api

BASE = "/api/v2/campaigns"


def make_campaign(dm: Api, *players: Api, **doc) -> int:
    r = dm.post(BASE, json={"name": "Curse of Strahd", "ruleset": "2024", **doc})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    for p in players:
        assert dm.post(f"{BASE}/{cid}/members", json={"user_id": p.user_id}).status_code == 201
    return cid


def make_character(user: Api, **changes) -> int:
    doc = {**copy.deepcopy(EXAMPLE_2024), **changes}
    r = user.post("/api/v2/characters", json=doc)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def add(user: Api, cid: int, kind: str, body: dict, visibility: str = "dm", **kw) -> dict:
    r = user.post(f"{BASE}/{cid}/records",
                  json={"kind": kind, "visibility": visibility, "body": body, **kw})
    assert r.status_code == 201, r.text
    return r.json()


def events_of(db, cid: int) -> list[OutboxEvent]:
    with db.session() as s:
        return list(s.scalars(select(OutboxEvent).where(OutboxEvent.campaign_id == cid)
                              .order_by(OutboxEvent.seq)))


# --- campaigns and members -----------------------------------------------------------------


def test_only_dms_create_and_the_owner_sees_it(dm, player):
    assert player.post(BASE, json={"name": "X", "ruleset": "2024"}).status_code == 403
    cid = make_campaign(dm)
    r = dm.get(f"{BASE}/{cid}")
    assert r.status_code == 200 and r.headers["ETag"] == '"1"'
    assert r.json()["role"] == "owner"
    assert dm.get(BASE).json()["total"] == 1
    assert player.get(BASE).json()["total"] == 0
    assert player.get(f"{BASE}/{cid}").status_code == 404


def test_roles_are_per_campaign(dm, player, admin):
    """A DM of one campaign is a player in another."""
    mine = make_campaign(dm, player)
    theirs = make_campaign(admin, dm)
    roles = {c["id"]: c["role"] for c in dm.get(BASE).json()["items"]}
    assert roles == {mine: "owner", theirs: "player"}
    r = dm.post(f"{BASE}/{theirs}/npcs", json={"name": "Vampire"})
    assert r.status_code == 403


def test_invitation_accept_and_decline(dm, player, other_player):
    cid = make_campaign(dm)
    r = dm.post(f"{BASE}/{cid}/invitations", json={"user_id": player.user_id, "role": "codm"})
    assert r.status_code == 201
    dm.post(f"{BASE}/{cid}/invitations", json={"user_id": other_player.user_id})
    assert player.get(f"{BASE}/{cid}").status_code == 404  # not yet a member
    [inv] = player.get(f"{BASE}/invitations").json()
    assert inv["campaign_name"] == "Curse of Strahd"
    assert other_player.post(f"{BASE}/invitations/{inv['id']}/accept").status_code == 404
    assert player.post(f"{BASE}/invitations/{inv['id']}/accept").status_code == 201
    assert player.get(f"{BASE}/{cid}").json()["role"] == "codm"
    [inv2] = other_player.get(f"{BASE}/invitations").json()
    assert other_player.post(f"{BASE}/invitations/{inv2['id']}/decline").status_code == 204
    assert other_player.get(f"{BASE}/{cid}").status_code == 404
    members = {m["user_id"]: m["role"] for m in dm.get(f"{BASE}/{cid}/members").json()}
    assert members == {dm.user_id: "owner", player.user_id: "codm"}


def test_members_leave_and_only_the_owner_removes(dm, player, other_player):
    cid = make_campaign(dm, player, other_player)
    assert player.delete(f"{BASE}/{cid}/members/{other_player.user_id}").status_code == 403
    assert player.delete(f"{BASE}/{cid}/members/{player.user_id}").status_code == 204
    assert player.get(f"{BASE}/{cid}").status_code == 404
    assert dm.delete(f"{BASE}/{cid}/members/{dm.user_id}").json()["code"] == "owner_role"
    assert dm.post(f"{BASE}/{cid}/members", json={"user_id": 99999}).status_code == 404


def test_versions_if_match_and_restore(dm, player):
    cid = make_campaign(dm, player)
    doc = dm.get(f"{BASE}/{cid}").json()["document"]
    url = f"{BASE}/{cid}"
    assert dm.put(url, json={**doc, "description": "mists"}).status_code == 428
    r = dm.put(url, json={**doc, "description": "mists"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    r = dm.put(url, json={**doc, "description": "x"}, headers={"If-Match": '"1"'})
    assert r.status_code == 409 and r.json()["current_version"] == 2
    assert player.put(url, json=doc, headers={"If-Match": '"2"'}).status_code == 403
    versions = dm.get(f"{url}/versions").json()
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[1]["diff"] == [
        {"path": "description", "op": "replace", "old": "", "new": "mists"}
    ]
    r = dm.post(f"{url}/versions/1/restore", headers={"If-Match": '"2"'})
    assert r.status_code == 200 and r.json()["document"]["description"] == ""
    assert r.json()["version"] == 3
    r = dm.put(url, json={**doc, "ruleset": "2014"}, headers={"If-Match": '"3"'})
    assert r.json()["code"] == "ruleset_immutable"


def test_delete_needs_the_owner(dm, player):
    cid = make_campaign(dm, player)
    dm.post(f"{BASE}/{cid}/members", json={"user_id": player.user_id, "role": "codm"})
    assert player.delete(f"{BASE}/{cid}", headers={"If-Match": '"1"'}).status_code == 403
    assert dm.delete(f"{BASE}/{cid}", headers={"If-Match": '"1"'}).status_code == 204
    assert dm.get(f"{BASE}/{cid}").status_code == 404


# --- records ---------------------------------------------------------------------------


def test_records_versions_if_match_and_history(dm, player):
    cid = make_campaign(dm, player)
    npc = add(dm, cid, "npc", {"name": "Ireena", "secret": "Tatyana reborn"}, "party")
    url = f"{BASE}/{cid}/records/{npc['id']}"
    body = {**npc["body"], "alive": False}
    assert dm.put(url, json={"body": body}).status_code == 428
    r = dm.put(url, json={"body": body, "reason": "bitten"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["version"] == 2
    assert dm.put(url, json={"body": body}, headers={"If-Match": '"1"'}).status_code == 409
    versions = dm.get(f"{url}/versions").json()
    assert versions[1]["diff"] == [{"path": "alive", "op": "replace", "old": True, "new": False}]
    r = dm.post(f"{url}/versions/1/restore", headers={"If-Match": '"2"'})
    assert r.json()["body"]["alive"] is True and r.json()["version"] == 3
    # The player sees the NPC without its secret, in every version too.
    seen = player.get(url).json()
    assert "secret" not in seen["body"]
    assert all("secret" not in v["body"] for v in player.get(f"{url}/versions").json())
    assert "Tatyana" not in player.get(f"{url}/versions").text


def test_bad_bodies_and_references_are_422(dm):
    cid = make_campaign(dm)
    r = dm.post(f"{BASE}/{cid}/records", json={"kind": "npc", "body": {"nom": "x"}})
    assert r.status_code == 422 and r.json()["code"] == "record_invalid"
    assert {e["path"] for e in r.json()["errors"]} >= {"body.name", "body.nom"}
    r = dm.post(f"{BASE}/{cid}/records",
                json={"kind": "npc", "body": {"name": "x", "location_id": 424242}})
    assert r.json()["code"] == "invalid_reference"
    r = dm.post(BASE, json={"name": "x", "ruleset": "2024", "calendar": {
        "months": [{"name": "Frost", "days": 10}], "current": {"year": 1, "day": 11}}})
    assert r.status_code == 422 and r.json()["code"] == "bad_world_date"
    r = dm.post(f"{BASE}/{cid}/records", json={"kind": "award", "body": {}})
    assert r.json()["code"] == "record_kind_routed"
    r = dm.post(f"{BASE}/{cid}/records",
                json={"kind": "npc", "visibility": "everyone", "body": {"name": "x"}})
    assert r.status_code == 422


def test_location_hierarchy(dm):
    cid = make_campaign(dm)
    region = add(dm, cid, "location", {"name": "Barovia", "kind": "region"})
    city = add(dm, cid, "location", {"name": "Vallaki", "kind": "city",
                                     "parent_id": region["id"]})
    add(dm, cid, "location", {"name": "Blue Water Inn", "kind": "site", "parent_id": city["id"]})
    r = dm.post(f"{BASE}/{cid}/records", json={"kind": "location", "body": {
        "name": "Bad", "kind": "region", "parent_id": city["id"]}})
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "location_hierarchy"
    # A city holding a site cannot become a site.
    r = dm.put(f"{BASE}/{cid}/records/{city['id']}", headers={"If-Match": '"1"'},
               json={"body": {**city["body"], "kind": "site"}})
    assert r.status_code == 422
    url = f"{BASE}/{cid}/records/{region['id']}"
    assert dm.delete(url, headers={"If-Match": '"1"'}).json()["code"] == "record_in_use"


def test_chapters_order_and_status(dm, player):
    cid = make_campaign(dm, player)
    ids = [dm.post(f"{BASE}/{cid}/chapters?visibility=party", json={"title": t}).json()["id"]
           for t in ("Into the Mists", "Village of Barovia", "Castle Ravenloft")]
    assert [c["position"] for c in dm.get(f"{BASE}/{cid}/chapters").json()["items"]] == [1, 2, 3]
    order = [ids[2], ids[0], ids[1]]
    assert player.put(f"{BASE}/{cid}/chapters/order", json={"chapter_ids": order}).status_code \
        == 403
    r = dm.put(f"{BASE}/{cid}/chapters/order", json={"chapter_ids": order[:2]})
    assert r.json()["code"] == "chapter_order_incomplete"
    r = dm.put(f"{BASE}/{cid}/chapters/order", json={"chapter_ids": order})
    assert [c["id"] for c in r.json()["items"]] == order
    assert [c["id"] for c in player.get(f"{BASE}/{cid}/chapters").json()["items"]] == order
    r = dm.put(f"{BASE}/{cid}/records/{ids[0]}", headers={"If-Match": '"1"'},
               json={"body": {"title": "Into the Mists", "status": "done"}})
    assert r.json()["body"]["status"] == "done"
    r = dm.put(f"{BASE}/{cid}/records/{ids[1]}", headers={"If-Match": '"1"'},
               json={"body": {"title": "x", "status": "finished"}})
    assert r.status_code == 422


def test_plot_states_record_chapter_and_session(dm):
    cid = make_campaign(dm)
    chapter = add(dm, cid, "chapter", {"title": "One"})
    game = add(dm, cid, "session", {"title": "Session 1", "date": "2026-01-10"})
    arc = add(dm, cid, "plot", {"title": "The Dark Gift", "state": "seeded", "arc": True})
    r = dm.put(f"{BASE}/{cid}/records/{arc['id']}", headers={"If-Match": '"1"'}, json={
        "body": {**arc["body"], "state": "revealed", "history": []},
        "chapter_id": chapter["id"], "session_id": game["id"],
    })
    history = r.json()["body"]["history"]
    assert [(h["from_state"], h["to_state"]) for h in history] == [
        (None, "seeded"), ("seeded", "revealed")
    ]
    assert history[1]["chapter_id"] == chapter["id"]
    assert history[1]["session_id"] == game["id"]


def test_relationship_graph_by_entity_and_depth(dm, player):
    cid = make_campaign(dm, player)
    a, b, c = (add(dm, cid, "npc", {"name": n}, "party")["id"] for n in ("A", "B", "C"))
    hidden = add(dm, cid, "npc", {"name": "Strahd"}, "dm")["id"]
    rel = lambda f, t, vis="party", **kw: add(  # noqa: E731
        dm, cid, "relationship", {"from_ref": f"record:{f}", "to_ref": f"record:{t}", **kw}, vis
    )
    first = rel(a, b, kind="ally", attitude=60)
    rel(b, c, kind="rival", attitude=-40)
    rel(a, hidden, kind="servant", attitude=80)  # party edge to a secret NPC
    rel(b, c, "dm", kind="spy")  # a secret edge
    graph = dm.get(f"{BASE}/{cid}/relationships?entity=record:{a}&depth=1").json()
    assert {n["name"] for n in graph["nodes"]} == {"A", "B", "Strahd"}
    deep = dm.get(f"{BASE}/{cid}/relationships?entity=record:{a}&depth=2").json()
    assert {n["name"] for n in deep["nodes"]} == {"A", "B", "C", "Strahd"}
    theirs = player.get(f"{BASE}/{cid}/relationships").json()
    assert {n["name"] for n in theirs["nodes"]} == {"A", "B", "C"}
    assert len(theirs["edges"]) == 2 and "Strahd" not in json.dumps(theirs)
    r = dm.put(f"{BASE}/{cid}/records/{first['id']}", headers={"If-Match": '"1"'},
               json={"body": {**first["body"], "attitude": -10}})
    assert [h["attitude"] for h in r.json()["body"]["history"]] == [60, -10]
    r = dm.post(f"{BASE}/{cid}/records", json={"kind": "relationship", "body": {
        "from_ref": f"record:{a}", "to_ref": "record:999999"}})
    assert r.json()["code"] == "invalid_reference"
    assert dm.get(f"{BASE}/{cid}/relationships?entity=bogus").status_code == 422


def test_players_write_only_their_own_notes(dm, player, other_player):
    cid = make_campaign(dm, player, other_player)
    assert player.post(f"{BASE}/{cid}/npcs?visibility=party", json={"name": "x"}).status_code \
        == 403
    r = player.post(f"{BASE}/{cid}/records", json={
        "kind": "note", "visibility": "dm", "body": {"title": "x"}})
    assert r.json()["code"] == "visibility_not_allowed"
    r = player.post(f"{BASE}/{cid}/records", json={
        "kind": "note", "visibility": f"player:{other_player.user_id}", "body": {"title": "x"}})
    assert r.json()["code"] == "visibility_not_allowed"
    note = add(player, cid, "note", {"title": "My diary"}, f"player:{player.user_id}")
    url = f"{BASE}/{cid}/records/{note['id']}"
    assert other_player.get(url).status_code == 404
    assert dm.get(url).status_code == 200
    r = player.put(url, headers={"If-Match": '"1"'},
                   json={"body": {"title": "Diary"}, "visibility": "party"})
    assert r.status_code == 200
    assert other_player.get(url).status_code == 200
    r = other_player.put(url, headers={"If-Match": '"2"'}, json={"body": {"title": "mine"}})
    assert r.status_code == 403


def test_theme_transitions(dm, player):
    cid = make_campaign(dm, player)
    url = f"{BASE}/{cid}/theme"
    assert dm.put(url, json={"to": "heroic"}).status_code == 428
    codes = {}
    for to in ("no-such-theme", "old-school"):
        r = dm.put(url, json={"to": to}, headers={"If-Match": '"1"'})
        codes[to] = (r.status_code, r.json()["code"])
    assert codes == {"no-such-theme": (422, "theme_unknown"),
                     "old-school": (422, "theme_not_offered")}
    r = dm.put(url, json={"to": "shadow-self"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["to_theme"] == "shadow-self"
    r = dm.put(url, json={"to": "heroic"}, headers={"If-Match": '"2"'})  # heroic: not from there
    assert r.json()["code"] == "theme_transition_disallowed"
    assert player.put(url, json={"to": None}, headers={"If-Match": '"2"'}).status_code == 403
    assert dm.put(url, json={"to": None}, headers={"If-Match": '"2"'}).status_code == 200
    # A character with a necromancy spell blocks heroic.
    spells = copy.deepcopy(EXAMPLE_2024["spells"])
    spells[-1] = {"name": "ray-of-sickness", "class": "wizard", "prepared": False}
    char = make_character(player, spells=spells)
    assert player.post(f"{BASE}/{cid}/characters", json={"character_id": char}).status_code == 201
    r = dm.put(url, json={"to": "heroic"}, headers={"If-Match": '"3"'})
    assert r.status_code == 422 and r.json()["code"] == "theme_incompatible"
    assert r.json()["errors"][0]["character_id"] == char
    loc = add(dm, cid, "location", {"name": "Village"}, "party")
    assert loc["world_effect"] is None
    dm.put(url, json={"to": "grimdark"}, headers={"If-Match": '"3"'})
    assert "decaying" in dm.get(f"{BASE}/{cid}/records/{loc['id']}").json()["world_effect"]
    assert {t["slug"] for t in dm.get(f"{BASE}/themes?ruleset=2024").json()} == {
        "heroic", "grimdark", "shadow-self"}


# --- characters, sessions, awards ------------------------------------------------------------


def test_character_join_checks_house_rules(db, dm, player, other_player):
    cid = make_campaign(dm, player, house_rules={"banned": ["fire-bolt", "sage"]})
    char = make_character(player)
    r = player.post(f"{BASE}/{cid}/characters", json={"character_id": char})
    assert r.status_code == 422 and r.json()["code"] == "house_rules"
    assert {(e["code"], e["path"]) for e in r.json()["errors"]} == {
        ("banned_content", "background"), ("banned_content", "spells.0.name")}
    # Someone else's character answers like a missing one.
    stranger = make_character(other_player)
    r = player.post(f"{BASE}/{cid}/characters", json={"character_id": stranger})
    assert r.status_code == 404
    # A DM may bring a member's character, not a non-member's.
    open_cid = make_campaign(dm, player)
    r = dm.post(f"{BASE}/{open_cid}/characters", json={"character_id": stranger})
    assert r.status_code == 404
    r = dm.post(f"{BASE}/{open_cid}/characters", json={"character_id": char})
    assert r.status_code == 201 and r.json()["name"] == "Mira Quillfeather"
    r = player.post(f"{BASE}/{open_cid}/characters", json={"character_id": char})
    assert r.json()["code"] == "already_joined"
    old = make_campaign(dm, player, ruleset="2014")
    r = player.post(f"{BASE}/{old}/characters", json={"character_id": char})
    assert r.json()["errors"][0]["code"] == "ruleset_mismatch"
    srd_only = make_campaign(dm, player, house_rules={"allowed_sources": ["homebrew"]})
    r = player.post(f"{BASE}/{srd_only}/characters", json={"character_id": char})
    assert r.json()["errors"][0]["code"] == "source_not_allowed"
    assert player.delete(f"{BASE}/{open_cid}/characters/{char}").status_code == 204
    assert [e.type for e in events_of(db, open_cid)][-2:] == [
        "campaign.character_joined", "campaign.character_left"]


def test_session_awards_emit_events_in_the_same_transaction(db, dm, player):
    cid = make_campaign(dm, player)
    char = make_character(player)
    player.post(f"{BASE}/{cid}/characters", json={"character_id": char})
    game = dm.post(f"{BASE}/{cid}/sessions?visibility=party", json={
        "title": "Session 1", "date": "2026-01-10", "attendees": [player.user_id]}).json()
    url = f"{BASE}/{cid}/sessions/{game['id']}/awards"
    award = {"character_id": char, "xp": 300, "items": [{"item": "potion-of-healing",
                                                         "quantity": 2}], "reason": "the mill"}
    assert player.post(url, json={"awards": [award]}).status_code == 403
    before = len(events_of(db, cid))
    # A bad item in the second award fails the whole request: no record, no event.
    bad = {"character_id": char, "items": [{"item": "Not A Slug"}]}
    r = dm.post(url, json={"awards": [award, bad]})
    assert r.status_code == 422
    r = dm.post(url, json={"awards": [award, {"character_id": 999999, "xp": 5}]})
    assert r.status_code == 422 and r.json()["code"] == "invalid_reference"
    assert len(events_of(db, cid)) == before
    r = dm.post(url, json={"awards": [award]})
    assert r.status_code == 201, r.text
    new = events_of(db, cid)[before:]
    by_type = {e.type: e for e in new}
    xp, item = by_type["campaign.xp_awarded"], by_type["campaign.item_awarded"]
    assert (xp.character_id, xp.payload["amount"], xp.payload["session_id"]) == (
        char, 300, game["id"])
    assert xp.priority == "high" and xp.visibility == "party"
    assert item.payload["item"] == {"item": "potion-of-healing", "quantity": 2,
                                    "equipped": False, "attuned": False, "container": None}
    awards = player.get(f"{BASE}/{cid}/records?kind=award").json()["items"]
    assert awards[0]["body"]["xp"] == 300
    # Story impacts: a record and an event for the character.
    r = dm.post(f"{BASE}/{cid}/impacts", json={
        "character_id": char, "kind": "curse", "summary": "Bitten by Strahd",
        "visibility": f"player:{player.user_id}"})
    assert r.status_code == 201
    impact = events_of(db, cid)[-1]
    assert impact.type == "campaign.story_impact" and impact.payload["kind"] == "curse"


def test_timeline_merges_and_filters(dm, player):
    cid = make_campaign(dm, player)
    region = add(dm, cid, "location", {"name": "Barovia", "kind": "region"}, "party")
    village = add(dm, cid, "location", {"name": "Village", "kind": "city",
                                        "parent_id": region["id"]}, "party")
    faction = add(dm, cid, "faction", {"name": "Keepers of the Feather"}, "party")
    ev = lambda title, date, vis="party", **kw: add(  # noqa: E731
        dm, cid, "event", {"title": title, "date": date, **kw}, vis)
    ev("Burgomaster dies", {"year": 735, "month": 3, "day": 2}, location_id=village["id"])
    ev("Feast", {"year": 735, "month": 1, "day": 5}, faction_ids=[faction["id"]])
    ev("Secret pact", {"year": 735, "month": 2, "day": 1}, "dm", location_id=village["id"])
    add(dm, cid, "session", {"title": "Session 1", "date": "2026-01-10"}, "party")
    add(dm, cid, "session", {"title": "Session 0", "date": "2026-01-03",
                             "in_world": {"year": 735, "month": 1, "day": 1}}, "party")
    names = lambda r: [i["name"] for i in r.json()["items"]]  # noqa: E731
    url = f"{BASE}/{cid}/timeline"
    assert names(dm.get(url)) == ["Session 0", "Feast", "Secret pact", "Burgomaster dies",
                                  "Session 1"]
    assert names(player.get(url)) == ["Session 0", "Feast", "Burgomaster dies", "Session 1"]
    assert player.get(url).json()["total"] == 4
    assert names(player.get(url, params={"world_from": "735-1-2", "world_to": "735-12-30"})) \
        == ["Feast", "Burgomaster dies"]
    assert names(dm.get(url, params={"location": region["id"]})) == [
        "Secret pact", "Burgomaster dies"]
    assert names(player.get(url, params={"faction": faction["id"]})) == ["Feast"]
    assert names(player.get(url, params={"kind": "session"})) == ["Session 0", "Session 1"]
    assert names(player.get(url, params={"real_from": "2026-01-05"})) == ["Session 1"]
    page = player.get(url, params={"limit": 2, "offset": 2}).json()
    assert [i["name"] for i in page["items"]] == ["Burgomaster dies", "Session 1"]
    assert page["items"][0]["world_date"] == "2 Ches 735"
    r = dm.post(f"{BASE}/{cid}/records", json={"kind": "event", "body": {
        "title": "x", "date": {"year": 1, "month": 2, "day": 31}}})
    assert r.json()["code"] == "bad_world_date"


def test_export_import_round_trips(dm, player):
    cid = make_campaign(dm, player, description="Gothic horror")
    region = add(dm, cid, "location", {"name": "Barovia", "kind": "region"}, "party")
    add(dm, cid, "location", {"name": "Village", "kind": "city", "parent_id": region["id"]})
    npc = add(dm, cid, "npc", {"name": "Ismark", "location_id": region["id"]}, "party")
    add(dm, cid, "relationship", {"from_ref": f"record:{npc['id']}",
                                  "to_ref": f"record:{region['id']}", "kind": "rules"})
    add(dm, cid, "chapter", {"title": "One", "dm_notes": "twist"}, "party")
    exported = dm.get(f"{BASE}/{cid}/export").json()
    assert exported["schema_version"] == 1
    r = dm.post(f"{BASE}/import", json=exported)
    assert r.status_code == 201, r.text
    again = dm.get(f"{BASE}/{r.json()['id']}/export").json()
    assert normalised(again) == normalised(exported)
    # A player's export holds only what they may see: no DM record, no DM field.
    theirs = player.get(f"{BASE}/{cid}/export").json()
    assert {rec["body"].get("name") or rec["body"].get("title")
            for rec in theirs["records"]} == {"Barovia", "Ismark", "One"}
    assert "twist" not in json.dumps(theirs)


def normalised(doc: dict) -> dict:
    """Record ids renumbered by position, so two exports compare."""
    ids = {rec["id"]: i for i, rec in enumerate(doc["records"], start=1)}
    text = json.dumps(doc["records"])
    for old, new in sorted(ids.items(), key=lambda kv: -kv[0]):
        text = text.replace(f'"record:{old}"', f'"record:#{new}"')
    records = json.loads(text)
    for rec in records:
        rec["id"] = ids[rec["id"]]
        for key in ("parent_id", "location_id"):
            if rec["body"].get(key):
                rec["body"][key] = ids[rec["body"][key]]
        for step in rec["body"].get("history", []):
            step.pop("at")
    return {**doc, "records": records}


def test_import_rejects_a_bad_document_whole(dm, db):
    cid = make_campaign(dm)
    add(dm, cid, "npc", {"name": "Ismark"})
    doc = dm.get(f"{BASE}/{cid}/export").json()
    doc["records"].append({"id": 77, "kind": "location", "visibility": "dm",
                           "body": {"name": "x", "parent_id": 12345}})
    doc["records"].append({"id": 78, "kind": "npc", "visibility": "dm", "body": {"nom": "y"}})
    before = dm.get(BASE).json()["total"]
    r = dm.post(f"{BASE}/import", json=doc)
    assert r.status_code == 422 and r.json()["code"] == "import_invalid"
    paths = {e["path"] for e in r.json()["errors"]}
    assert {"records.1.body", "records.2.body.nom"} <= paths
    assert dm.get(BASE).json()["total"] == before
    assert dm.post(f"{BASE}/import", json={**doc, "schema_version": 2}).status_code == 422


# --- the event stream ----------------------------------------------------------------------


def read_stream(user: Api, url: str, **headers) -> list[dict]:
    """Events of a short-lived stream (it closes itself after `timeout`)."""
    out = []
    with user.client.stream("GET", url, headers={**user.headers, "Accept": "text/event-stream",
                                                 **headers}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        event: dict = {}
        for line in r.iter_lines():
            if line.startswith("id: "):
                event["id"] = int(line[4:])
            elif line.startswith("data: "):
                event["data"] = json.loads(line[6:])
            elif line == "" and event:
                out.append(event)
                event = {}
    return out


def test_sse_stream_filters_and_resumes(dm, player):
    cid = make_campaign(dm, player)
    add(dm, cid, "npc", {"name": "Secret Vampire"}, "dm")
    add(dm, cid, "npc", {"name": "Ismark"}, "party")
    url = f"{BASE}/{cid}/events?timeout=0.3"
    theirs = read_stream(player, url)
    assert "Secret Vampire" not in json.dumps(theirs)
    assert any("Ismark" in e["data"]["payload"]["summary"] for e in theirs)
    everything = read_stream(dm, url)
    assert len(everything) == len(theirs) + 1
    last = everything[-2]["id"]
    resumed = read_stream(dm, url, **{"Last-Event-ID": str(last)})
    assert [e["id"] for e in resumed] == [everything[-1]["id"]]
    page = player.get(f"{BASE}/{cid}/events").json()  # without SSE: one JSON page
    assert [e["seq"] for e in page["items"]] == [e["id"] for e in theirs]


# --- typed calls -------------------------------------------------------------------------


def test_typed_calls_context_and_saves(db, settings, dm, player):
    cid = make_campaign(dm, player, style={"guide": "Gothic", "examples": ["Mist clings."]})
    _, ingresses = compose_local(settings, db)
    calls = ingresses["campaigns"]
    as_dm = Principal(dm.user_id, "dm")
    as_player = Principal(player.user_id, "player")

    async def run():
        access = await calls.access(as_player, cid)
        assert (access.role, access.is_dm) == ("player", False)
        npc_id = await calls.save_npc(as_dm, cid, NPC(name="Strahd", secret="loves Tatyana"))
        await calls.save_npc(as_dm, cid, NPC(name="Ismark", alive=False), visibility="party")
        await calls.save_location(as_dm, cid, Location(name="Castle", kind="site"), "party")
        with pytest.raises(Exception) as exc:
            await calls.save_npc(as_player, cid, NPC(name="x"))
        assert getattr(exc.value, "status", None) == 403
        dm_ctx = await calls.context(as_dm, cid)
        player_ctx = await calls.context(as_player, cid)
        return npc_id, dm_ctx, player_ctx

    npc_id, dm_ctx, player_ctx = anyio.run(run)
    assert dm_ctx.style.guide == "Gothic" and dm_ctx.style.examples == ["Mist clings."]
    assert {i.name for i in dm_ctx.items} == {"Strahd", "Ismark", "Castle"}
    assert {i.name for i in player_ctx.items} == {"Ismark", "Castle"}
    ismark = next(i for i in player_ctx.items if i.name == "Ismark")
    assert ismark.facts["alive"] is False
    assert "loves Tatyana" not in player_ctx.model_dump_json()
    assert next(i for i in dm_ctx.items if i.id == npc_id).facts["secret"] == "loves Tatyana"
