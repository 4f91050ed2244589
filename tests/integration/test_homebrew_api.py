from __future__ import annotations

import copy

from domain.characters.examples import EXAMPLE_2024

URL = "/api/v2/homebrew/2024"
BLADE = {
    "kind": "item",
    "slug": "moonlit-dagger",
    "name": "Moonlit Dagger",
    "weight": 1,
    "magic": True,
    "requires_attunement": True,
}


def with_blade(attuned: bool = True) -> dict:
    doc = copy.deepcopy(EXAMPLE_2024)
    doc["inventory"].append({"item": "moonlit-dagger", "attuned": attuned})
    return doc


def test_dm_registers_homebrew_and_characters_use_it(dm, player):
    check = player.post("/api/v2/characters/validate", json=with_blade())
    assert [e["code"] for e in check.json()["validation"]["errors"]] == ["unknown_reference"]

    r = dm.post(URL, json=BLADE)
    assert r.status_code == 201, r.text
    assert r.json()["slug"] == "moonlit-dagger" and r.json()["author_id"] == dm.user_id
    assert [h["slug"] for h in player.get(URL).json()] == ["moonlit-dagger"]

    r = player.post("/api/v2/characters", json=with_blade())
    assert r.status_code == 201, r.text
    assert r.json()["derived"]["attuned_items"] == 1
    # The 2014 rules know nothing of it.
    assert player.get("/api/v2/homebrew/2014").json() == []


def test_homebrew_is_checked_by_the_same_engine(dm, player):
    dm.post(URL, json={**BLADE, "requires_attunement": False})
    r = player.post("/api/v2/characters/validate", json=with_blade())
    codes = [e["code"] for e in r.json()["validation"]["errors"]]
    assert codes == ["attunement_not_allowed"]


def test_homebrew_class(dm, player):
    r = dm.post(
        URL,
        json={
            "kind": "class",
            "slug": "gunslinger",
            "name": "Gunslinger",
            "hit_die": 10,
            "armor": ["light"],
            "skill_choices": ["perception", "stealth"],
            "skill_count": 2,
        },
    )
    assert r.status_code == 201, r.text
    doc = copy.deepcopy(EXAMPLE_2024)
    doc["classes"] = [{"class": "gunslinger", "level": 3}]
    doc["spells"] = []
    doc["hit_points"] = 30
    doc["skills"] = ["arcana", "history", "insight", "perception", "stealth"]
    r = player.post("/api/v2/characters/validate", json=doc)
    assert r.json()["validation"]["errors"] == []


def test_only_dms_and_admins_register(player, dm):
    r = player.post(URL, json=BLADE)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"


def test_conflicts_and_bad_entries(dm):
    assert dm.post(URL, json=BLADE).status_code == 201
    r = dm.post(URL, json=BLADE)
    assert r.status_code == 409 and r.json()["code"] == "homebrew_conflict"
    r = dm.post(URL, json={**BLADE, "slug": "dagger"})
    assert r.status_code == 409 and r.json()["code"] == "homebrew_conflict"
    r = dm.post(URL, json={**BLADE, "kind": "dragon"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    r = dm.post(URL, json={**BLADE, "slug": "other", "magic": False})
    assert r.status_code == 422
    r = dm.post("/api/v2/homebrew/1999", json=BLADE)
    assert r.status_code == 422
