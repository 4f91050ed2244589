from __future__ import annotations

import copy

from domain.characters.examples import EXAMPLE_2024

URL = "/api/v2/rules/2024/homebrew"
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


def test_admin_registers_homebrew_and_characters_use_it(admin, player):
    check = player.post("/api/v2/characters/validate", json=with_blade())
    assert [e["code"] for e in check.json()["validation"]["errors"]] == ["unknown_reference"]

    r = admin.post(URL, json=BLADE)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["slug"] == "moonlit-dagger" and out["author_id"] == admin.user_id
    assert out["scope"] == "global"
    assert [h["slug"] for h in player.get(URL).json()] == ["moonlit-dagger"]

    r = player.post("/api/v2/characters", json=with_blade())
    assert r.status_code == 201, r.text
    assert r.json()["derived"]["attuned_items"] == 1
    # The 2014 rules know nothing of it.
    assert player.get("/api/v2/rules/2014/homebrew").json() == []


def test_homebrew_is_checked_by_the_same_engine(admin, player):
    admin.post(URL, json={**BLADE, "requires_attunement": False})
    r = player.post("/api/v2/characters/validate", json=with_blade())
    codes = [e["code"] for e in r.json()["validation"]["errors"]]
    assert codes == ["attunement_not_allowed"]


def test_homebrew_class(admin, player):
    r = admin.post(
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


def test_only_admins_register_global_homebrew(player, dm):
    r = player.post(URL, json=BLADE)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = dm.post(URL, json=BLADE)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert "scope=campaign:" in r.json()["detail"]


def test_conflicts_and_bad_entries(admin):
    assert admin.post(URL, json=BLADE).status_code == 201
    r = admin.post(URL, json=BLADE)
    assert r.status_code == 409 and r.json()["code"] == "homebrew_conflict"
    r = admin.post(URL, json={**BLADE, "slug": "dagger"})
    assert r.status_code == 409 and r.json()["code"] == "homebrew_conflict"
    r = admin.post(URL, json={**BLADE, "kind": "dragon"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    r = admin.post(URL, json={**BLADE, "slug": "other", "magic": False})
    assert r.status_code == 422
    r = admin.post("/api/v2/rules/1999/homebrew", json=BLADE)
    assert r.status_code == 422


def test_one_entry_replaced_and_deleted_over_http(admin, player, dm):
    admin.post(URL, json=BLADE)
    cid = player.post("/api/v2/characters", json=with_blade()).json()["id"]
    assert player.get(f"{URL}/moonlit-dagger").json()["data"]["name"] == "Moonlit Dagger"
    renamed = {**BLADE, "name": "Moonlit Blade"}
    # Neither a player nor a DM may change or remove an admin's global entry.
    for other in (player, dm):
        assert other.put(f"{URL}/moonlit-dagger", json=renamed).status_code == 403
        assert other.delete(f"{URL}/moonlit-dagger").status_code == 403
    r = admin.put(f"{URL}/moonlit-dagger", json={**renamed, "slug": "other-slug"})
    assert r.status_code == 422 and r.json()["code"] == "homebrew_slug_mismatch"
    r = admin.put(f"{URL}/moonlit-dagger", json=renamed)
    assert r.status_code == 200 and r.json()["data"]["name"] == "Moonlit Blade"

    assert admin.delete(f"{URL}/moonlit-dagger").status_code == 204
    r = player.get(f"{URL}/moonlit-dagger")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert player.get(URL).json() == []
    errors = player.get(f"/api/v2/characters/{cid}/validation").json()["validation"]["errors"]
    assert [e["code"] for e in errors] == ["homebrew_deleted"]
