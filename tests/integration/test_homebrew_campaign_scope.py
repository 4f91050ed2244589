"""Campaign-scoped homebrew over HTTP (SQLite and PostgreSQL): a campaign's DMs register it
with `?scope=campaign:<id>`, only the campaign's members see it (list, entry, catalog), its
characters use it, and other campaigns' join checks refuse it."""

from __future__ import annotations

import copy

from domain.characters.examples import EXAMPLE_2024
from tests.support import Api, signup

URL = "/api/v2/rules/2024/homebrew"
CAMPAIGNS = "/api/v2/campaigns"
BLADE = {"kind": "item", "slug": "moonlit-dagger", "name": "Moonlit Dagger", "weight": 1}


def _campaign(owner: Api, *members: Api, name: str = "Curse of Strahd") -> int:
    r = owner.post(CAMPAIGNS, json={"name": name, "ruleset": "2024"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    for m in members:
        r = owner.post(f"{CAMPAIGNS}/{cid}/members", json={"user_id": m.user_id})
        assert r.status_code == 201, r.text
    return cid


def _slugs(user: Api, url: str = URL, **params) -> list[str]:
    r = user.get(url, params=params)
    assert r.status_code == 200, r.text
    return [h["slug"] for h in r.json()]


def test_a_campaigns_dm_registers_homebrew_its_members_alone_see(
    client, admin, dm, player, other_player
):
    cid = _campaign(dm, player)
    scope = f"campaign:{cid}"
    r = dm.post(URL, json=BLADE, params={"scope": scope})
    assert r.status_code == 201, r.text
    assert (r.json()["scope"], r.json()["author_id"]) == (scope, dm.user_id)

    # Members (and admins) see it: in the list, as an entry, in the catalog.
    for user in (dm, player, admin):
        assert _slugs(user) == ["moonlit-dagger"]
        assert user.get(f"{URL}/moonlit-dagger").status_code == 200
        items = user.get("/api/v2/rules/2024/items", params={"q": "moonlit"}).json()
        assert [i["slug"] for i in items["items"]] == ["moonlit-dagger"]
    assert _slugs(player, scope=scope) == ["moonlit-dagger"]
    assert _slugs(player, scope="global") == []

    # A non-member sees nothing: not listed, a 404 like a missing entry, not in the catalog.
    assert _slugs(other_player) == []
    hidden = other_player.get(f"{URL}/moonlit-dagger")
    missing = other_player.get(f"{URL}/no-such-thing")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == missing.json()["detail"].replace(
        "no-such-thing", "moonlit-dagger")
    items = other_player.get("/api/v2/rules/2024/items", params={"q": "moonlit"}).json()
    assert items["items"] == []
    r = other_player.get(URL, params={"scope": scope})
    assert r.status_code == 404 and r.json()["code"] == "campaign_not_found"
    assert other_player.put(f"{URL}/moonlit-dagger", json=BLADE).status_code == 404
    assert other_player.delete(f"{URL}/moonlit-dagger").status_code == 404


def test_only_the_campaigns_dms_write_its_homebrew(client, admin, dm, player, other_player):
    cid = _campaign(dm, player)
    scope = {"scope": f"campaign:{cid}"}
    r = player.post(URL, json=BLADE, params=scope)  # a member, not a DM
    assert r.status_code == 403 and r.json()["code"] == "homebrew_campaign_dm_only"
    r = other_player.post(URL, json=BLADE, params=scope)  # not a member
    assert r.status_code == 404 and r.json()["code"] == "campaign_not_found"
    r = dm.post(URL, json=BLADE, params={"scope": "campaign:999999"})
    assert r.status_code == 404 and r.json()["code"] == "campaign_not_found"
    r = dm.post(URL, json=BLADE)  # global homebrew stays the admins'
    assert r.status_code == 403 and "scope=campaign:" in r.json()["detail"]
    r = dm.post(URL, json=BLADE, params={"scope": "campaign:x"})
    assert r.status_code == 422
    assert dm.post(URL, json=BLADE, params=scope).status_code == 201

    # A co-DM shares the campaign's homebrew; a player may not change it.
    codm = signup(client, "co-dm")
    dm.post(f"{CAMPAIGNS}/{cid}/members", json={"user_id": codm.user_id, "role": "codm"})
    changed = {**BLADE, "weight": 2}
    r = player.put(f"{URL}/moonlit-dagger", json=changed)
    assert r.status_code == 403
    r = codm.put(f"{URL}/moonlit-dagger", json=changed)
    assert r.status_code == 200 and r.json()["data"]["weight"] == 2
    # The slug is taken for everyone, without saying whose it is.
    r = admin.post(URL, json=BLADE)
    assert r.status_code == 409 and r.json()["code"] == "homebrew_conflict"
    assert "campaign" not in r.json()["detail"]
    assert codm.delete(f"{URL}/moonlit-dagger").status_code == 204


def test_the_campaigns_characters_use_it_and_other_campaigns_refuse_it(dm, admin, player):
    ours = _campaign(dm, player)
    theirs = _campaign(admin, player, name="Tomb of Annihilation")
    assert dm.post(URL, json=BLADE, params={"scope": f"campaign:{ours}"}).status_code == 201

    r = player.post("/api/v2/characters", json=copy.deepcopy(EXAMPLE_2024))
    char = r.json()["id"]
    assert player.post(f"{CAMPAIGNS}/{ours}/characters",
                       json={"character_id": char}).status_code == 201
    doc = copy.deepcopy(EXAMPLE_2024)
    doc["inventory"].append({"item": "moonlit-dagger"})
    r = player.put(f"/api/v2/characters/{char}", json=doc, headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.json()["validation"]["valid"]
    # The DM awards it too: the award checks the item against the campaign's rules.
    game = dm.post(f"{CAMPAIGNS}/{ours}/sessions?visibility=party",
                   json={"title": "Session 1", "date": "2026-01-10"}).json()
    r = dm.post(f"{CAMPAIGNS}/{ours}/sessions/{game['id']}/awards",
                json={"awards": [{"character_id": char, "items": [{"item": "moonlit-dagger"}]}]})
    assert r.status_code == 201, r.text

    # Another campaign's house rules refuse it.
    r = player.post(f"{CAMPAIGNS}/{theirs}/characters", json={"character_id": char})
    assert r.status_code == 422 and r.json()["code"] == "house_rules"
    assert [(e["code"], e["path"]) for e in r.json()["errors"]] == [
        ("homebrew_scope", "inventory.5.item")]
