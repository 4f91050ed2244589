from __future__ import annotations

URL = "/api/v2/rules"


def test_summary_lists_tables_and_themes(player):
    r = player.get(f"{URL}/2024")
    assert r.status_code == 200
    out = r.json()
    assert out["tables"]["classes"] == 12 and out["tables"]["spells"] > 300
    assert "old-school" not in out["themes"] and "shadow-self" in out["themes"]
    assert "old-school" in player.get(f"{URL}/2014").json()["themes"]


def test_table_search_and_paging(player):
    r = player.get(f"{URL}/2024/spells", params={"q": "fire", "limit": 2})
    out = r.json()
    assert out["total"] >= 3 and len(out["items"]) == 2
    assert all("fire" in i["slug"] or "fire" in i["name"].lower() for i in out["items"])
    bolt = player.get(f"{URL}/2024/spells", params={"q": "fire-bolt"}).json()["items"][0]
    assert bolt["slug"] == "fire-bolt" and bolt["level"] == 0 and "wizard" in bolt["classes"]
    skills = player.get(f"{URL}/2014/skills", params={"q": "stealth"}).json()["items"]
    assert skills == [{"slug": "stealth", "homebrew": False, "ability": "dex"}]


def test_homebrew_shows_in_the_catalog(admin, player):
    r = admin.post(
        "/api/v2/rules/2024/homebrew",
        json={"kind": "item", "slug": "lucky-coin", "name": "Lucky Coin", "weight": 0},
    )
    assert r.status_code == 201, r.text
    items = player.get(f"{URL}/2024/items", params={"q": "lucky"}).json()["items"]
    assert [(i["slug"], i["homebrew"]) for i in items] == [("lucky-coin", True)]
    assert player.get(f"{URL}/2014/items", params={"q": "lucky"}).json()["total"] == 0


def test_themes(player):
    themes = {t["slug"]: t for t in player.get(f"{URL}/2024/themes").json()}
    assert themes["grimdark"]["adjustments"] == {"con": 1, "cha": -1}
    assert themes["shadow-self"]["requires_counterpart"] is True
    assert "necromancy" in themes["heroic"]["forbidden_schools"]


def test_bad_tables_and_rulesets(player, client):
    assert player.get(f"{URL}/2024/monsters").status_code == 422
    assert player.get(f"{URL}/1999").status_code == 422
    assert client.get(f"{URL}/2024").status_code == 401
