"""GET /api/v2/characters/{id}/sheet (JSON and ?format=html), feature choices and grants
through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy

from domain.characters.examples import EXAMPLE_2014, EXAMPLE_2024
from tests.unit.test_rules_grants import cleric_2024

URL = "/api/v2/characters"


def test_sheet_json_and_html(player, other_player):
    for example in (EXAMPLE_2014, EXAMPLE_2024):
        created = player.post(URL, json=example)
        assert created.status_code == 201, created.text
        cid = created.json()["id"]
        sheet = player.get(f"{URL}/{cid}/sheet")
        assert sheet.status_code == 200, sheet.text
        body = sheet.json()
        assert body["name"] == example["name"]
        assert body["armor_class"] == created.json()["derived"]["armor_class"]
        assert {"abilities", "skills", "passives", "attacks", "proficiencies",
                "spellcasting", "armor_class_breakdown", "hit_dice"} <= set(body)
        assert body["validation"]["valid"] is True
        html = player.get(f"{URL}/{cid}/sheet", params={"format": "html"})
        assert html.status_code == 200
        assert html.headers["content-type"].startswith("text/html")
        assert html.text.startswith("<!doctype html>") and example["name"] in html.text
        # Another player's character answers like a missing one.
        assert other_player.get(f"{URL}/{cid}/sheet").status_code == 404
    assert player.get(f"{URL}/{cid}/sheet", params={"format": "pdf"}).status_code == 422


def test_divine_order_choice_through_the_api(player):
    """SRD 5.2 Divine Order: Protector gives heavy armor; unrecorded it is a warning."""
    protector = cleric_2024("protector")
    created = player.post(URL, json=protector)
    assert created.status_code == 201, created.text
    assert created.json()["document"]["choices"] == {"divine-order": "protector"}
    sheet = player.get(f"{URL}/{created.json()['id']}/sheet").json()
    heavy = [g for g in sheet["proficiencies"]["armor"] if g["slug"] == "heavy"]
    assert heavy and "cleric 1" in heavy[0]["source"]

    refused = player.post(URL, json=cleric_2024("thaumaturge"))
    assert refused.status_code == 422
    assert "armor_not_proficient" in {e["code"] for e in refused.json()["errors"]}

    missing = copy.deepcopy(cleric_2024(None))
    missing["inventory"] = []
    created = player.post(URL, json=missing)
    assert created.status_code == 201, created.text
    warnings = created.json()["validation"]["warnings"]
    assert any(w["code"] == "choice_missing" and w["path"] == "choices.divine-order"
               for w in warnings)
