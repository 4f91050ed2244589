"""Campaign homebrew is usable by the campaign's members' characters only: to anyone else's
character it is as unknown as a slug that does not exist."""

from __future__ import annotations

import copy

from domain.characters.examples import EXAMPLE_2024
from tests.support import signup

CHARM = {"kind": "item", "slug": "moonlit-charm", "name": "Moonlit Charm", "weight": 0}


def _with_charm() -> dict:
    doc = copy.deepcopy(EXAMPLE_2024)
    doc["inventory"] = [*doc.get("inventory", []), {"item": "moonlit-charm", "quantity": 1}]
    return doc


def test_only_members_characters_may_name_campaign_homebrew(client, admin):
    dm = signup(client, "camp-dm", granted_by=admin, role="dm")
    member = signup(client, "camp-member")
    outsider = signup(client, "camp-outsider")
    campaign = dm.post("/api/v2/campaigns", json={"name": "Moonfall", "ruleset": "2024"})
    assert campaign.status_code == 201, campaign.text
    cid = campaign.json()["id"]
    r = dm.post(
        f"/api/v2/campaigns/{cid}/members", json={"user_id": member.user_id, "role": "player"}
    )
    assert r.status_code in (200, 201), r.text
    r = dm.post(f"/api/v2/rules/2024/homebrew?scope=campaign:{cid}", json=CHARM)
    assert r.status_code == 201, r.text

    ok = member.post("/api/v2/characters", json=_with_charm())
    assert ok.status_code == 201, ok.text

    refused = outsider.post("/api/v2/characters", json=_with_charm())
    assert refused.status_code == 422
    codes = {e["code"] for e in refused.json()["errors"]}
    assert "unknown_reference" in codes  # the same answer as for a slug nobody registered
    report = outsider.post("/api/v2/characters/validate", json=_with_charm()).json()
    assert report["validation"]["valid"] is False
