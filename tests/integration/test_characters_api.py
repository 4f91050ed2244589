from __future__ import annotations

import copy

import pytest

from domain.characters.examples import EXAMPLE_2014, EXAMPLE_2024

URL = "/api/v2/characters"


def doc(ruleset: str = "2024", **changes):
    base = copy.deepcopy(EXAMPLE_2024 if ruleset == "2024" else EXAMPLE_2014)
    base.update(changes)
    return base


def create(api, body=None):
    r = api.post(URL, json=body or doc())
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("ruleset", ["2014", "2024"])
def test_create_and_get_with_derived_values(player, ruleset):
    r = player.post(URL, json=doc(ruleset))
    assert r.status_code == 201, r.text
    out = r.json()
    assert r.headers["ETag"] == '"1"'
    assert r.headers["Location"] == f"{URL}/{out['id']}"
    assert out["version"] == 1
    assert out["validation"]["valid"] is True
    assert out["derived"]["total_level"] == 3
    assert out["derived"]["proficiency_bonus"] == 2
    got = player.get(f"{URL}/{out['id']}")
    assert got.status_code == 200
    assert got.json()["document"] == out["document"]
    assert got.headers["ETag"] == '"1"'


def test_derived_values_of_the_wizard(player):
    d = create(player)["derived"]
    assert d["modifiers"]["int"] == 3  # 15 + 2 from the background
    assert d["spell_slots"]["slots"][:2] == [4, 2]
    assert d["armor_class"] == 11  # unarmored: 10 + Dex
    assert d["attuned_items"] == 0


def test_invalid_character_is_rejected_with_rule_errors(player):
    bad = doc(classes=[{"class": "wizard", "level": 25}])
    r = player.post(URL, json=bad)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "character_invalid"
    assert any(
        e["code"] == "level_out_of_range" and e["path"] == "classes.0.level" for e in body["errors"]
    )
    assert all(e["fix"] for e in body["errors"])
    assert player.get(URL).json()["total"] == 0  # nothing half-written


def test_validate_endpoint_does_not_store(player):
    r = player.post(f"{URL}/validate", json=doc(xp=0))
    assert r.status_code == 200
    report = r.json()["validation"]
    assert report["valid"] is False
    assert [e["code"] for e in report["errors"]] == ["xp_level_mismatch"]
    assert player.get(URL).json()["total"] == 0


def test_players_see_only_their_own(player, other_player, admin):
    mine = create(player)
    create(other_player)
    assert [c["id"] for c in player.get(URL).json()["items"]] == [mine["id"]]
    r = other_player.get(f"{URL}/{mine['id']}")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"
    assert admin.get(URL).json()["total"] == 2
    assert admin.get(f"{URL}/{mine['id']}").status_code == 200


def test_another_players_character_answers_like_a_missing_one(player, other_player):
    """Every route, links' counterparts included: a 404 that does not tell the two apart."""
    theirs = create(other_player)["id"]
    mine = create(player)["id"]
    missing = theirs + mine + 1000
    if_match = {"If-Match": '"1"'}
    xp = {"amount": 10, "reason": "r"}
    theme = {"to": "grimdark", "reason": "r"}

    def routes(cid: int) -> list[tuple[str, str, dict]]:
        url = f"{URL}/{cid}"
        return [
            ("GET", url, {}),
            ("PUT", url, {"json": doc(), "headers": if_match}),
            ("PATCH", url, {"json": {"xp": 0}, "headers": if_match}),
            ("DELETE", url, {"headers": if_match}),
            ("GET", f"{url}/validation", {}),
            ("PUT", f"{url}/theme/transition", {"json": theme, "headers": if_match}),
            ("GET", f"{url}/versions", {}),
            ("GET", f"{url}/versions/1", {}),
            ("POST", f"{url}/versions/1/restore", {"json": {}, "headers": if_match}),
            ("POST", f"{url}/xp", {"json": xp}),
            ("GET", f"{url}/xp", {}),
            ("GET", f"{url}/links", {}),
            ("POST", f"{url}/links", {"json": {"counterpart_id": mine}}),
            ("POST", f"{URL}/{mine}/links", {"json": {"counterpart_id": cid}}),
            (
                "PUT",
                f"{URL}/{mine}/theme/transition",
                {"json": {**theme, "counterpart_id": cid}, "headers": if_match},
            ),
        ]

    for (method, url, kw), (_, missing_url, missing_kw) in zip(
        routes(theirs), routes(missing), strict=True
    ):
        r, m = player.request(method, url, **kw), player.request(method, missing_url, **missing_kw)
        assert (r.status_code, r.json()["code"]) == (404, "not_found"), (method, url, r.text)
        assert (m.status_code, m.json()["code"]) == (404, "not_found"), (method, missing_url)
        assert r.json()["detail"].replace(str(theirs), "N") == m.json()["detail"].replace(
            str(missing), "N"
        )
    assert other_player.get(f"{URL}/{theirs}").json()["version"] == 1
    assert player.get(f"{URL}/{mine}").json()["version"] == 1


def test_long_reasons_fit_their_columns(player):
    c = create(player)
    url = f"{URL}/{c['id']}"
    reason = "x" * 500
    r = player.put(
        f"{url}/theme/transition",
        json={"to": "grimdark", "reason": reason},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    r = player.post(f"{url}/xp", json={"amount": 100, "reason": reason})
    assert r.status_code == 201, r.text
    assert r.json()["award"]["reason"] == reason
    reasons = [v["reason"] for v in player.get(f"{url}/versions").json()[1:]]
    assert [len(x) for x in reasons] == [500, 500]
    assert reasons[0].startswith("theme none -> grimdark: xxx") and reasons[0].endswith("…")
    assert reasons[1].startswith("xp award: xxx") and reasons[1].endswith("…")


def test_list_paginates_and_filters(player):
    for _ in range(3):
        create(player)
    create(player, doc("2014"))
    page = player.get(URL, params={"limit": 2, "offset": 1}).json()
    assert page["total"] == 4 and len(page["items"]) == 2 and page["offset"] == 1
    assert player.get(URL, params={"ruleset": "2014"}).json()["total"] == 1


def test_update_needs_if_match_and_rejects_stale_writes(player):
    c = create(player)
    url = f"{URL}/{c['id']}"
    renamed = doc(name="Mira the Bold")
    r = player.put(url, json=renamed)
    assert r.status_code == 428
    assert r.json()["code"] == "precondition_required"
    r = player.put(url, json=renamed, headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.headers["ETag"] == '"2"'
    stale = player.put(url, json=doc(name="Lost edit"), headers={"If-Match": '"1"'})
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_conflict"
    assert stale.json()["current_version"] == 2
    assert player.get(url).json()["document"]["name"] == "Mira the Bold"
    r = player.put(url, json=doc(name="x"), headers={"If-Match": "yesterday"})
    assert r.status_code == 422 and r.json()["code"] == "bad_if_match"


def test_update_cannot_change_ruleset_or_break_rules(player):
    c = create(player)
    url = f"{URL}/{c['id']}"
    r = player.put(url, json=doc("2014"), headers={"If-Match": '"1"'})
    assert r.status_code == 422 and r.json()["code"] == "ruleset_immutable"
    r = player.put(url, json=doc(background="no-such-background"), headers={"If-Match": '"1"'})
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "unknown_reference"
    assert player.get(url).json()["version"] == 1


def test_delete(player, other_player):
    c = create(player)
    url = f"{URL}/{c['id']}"
    assert other_player.delete(url, headers={"If-Match": '"1"'}).status_code == 404
    assert player.delete(url).status_code == 428
    assert player.delete(url, headers={"If-Match": '"1"'}).status_code == 204
    r = player.get(url)
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_versions_record_author_reason_and_diff_and_restore(player):
    c = create(player)
    url = f"{URL}/{c['id']}"
    edited = doc(name="Mira Ashborn")
    edited["inventory"][4]["quantity"] = 5
    r = player.put(url, json=edited, headers={"If-Match": '"1"'}, params={"reason": "renamed"})
    assert r.status_code == 200
    versions = player.get(f"{url}/versions").json()
    assert [v["number"] for v in versions] == [1, 2]
    v2 = versions[1]
    assert v2["author_id"] == player.user_id and v2["reason"] == "renamed"
    assert {
        "path": "name",
        "op": "replace",
        "old": "Mira Quillfeather",
        "new": "Mira Ashborn",
    } in v2["diff"]
    assert {"path": "inventory.4.quantity", "op": "replace", "old": 3, "new": 5} in v2["diff"]
    old = player.get(f"{url}/versions/1").json()
    assert old["document"]["name"] == "Mira Quillfeather"
    assert player.get(f"{url}/versions/9").status_code == 404

    r = player.post(f"{url}/versions/1/restore", json={"reason": "undo"})
    assert r.status_code == 428
    r = player.post(
        f"{url}/versions/1/restore", json={"reason": "undo"}, headers={"If-Match": '"2"'}
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 3
    assert r.json()["document"]["name"] == "Mira Quillfeather"
    v3 = player.get(f"{url}/versions/3").json()
    assert v3["reason"] == "undo"
    # Versions are immutable: the restore made a new one, v2 is unchanged.
    assert player.get(f"{url}/versions/2").json()["document"]["name"] == "Mira Ashborn"


def test_theme_transition_applies_adjustments_and_is_reversible(player):
    c = create(player)
    url = f"{URL}/{c['id']}"
    before = c["derived"]["abilities"]
    r = player.put(
        f"{url}/theme/transition",
        json={"to": "grimdark", "reason": "the war changed her"},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["from_theme"] is None and out["to_theme"] == "grimdark"
    assert out["adjustments"]
    after = out["character"]["derived"]["abilities"]
    for ability, delta in out["adjustments"].items():
        assert after[ability] == before[ability] + delta
    assert out["character"]["document"]["theme"] == "grimdark"
    assert r.headers["ETag"] == '"2"'
    v2 = player.get(f"{url}/versions/2").json()
    assert "the war changed her" in v2["reason"]
    r = player.post(f"{url}/versions/1/restore", headers={"If-Match": '"2"'})
    assert r.json()["derived"]["abilities"] == before
    assert r.json()["document"]["theme"] is None


def test_theme_transition_rules(player):
    c = create(player)
    url = f"{URL}/{c['id']}"
    r = player.put(
        f"{url}/theme/transition",
        json={"to": "no-such-theme", "reason": "x"},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 422
    # The Antitheticon shadow-self mirrors a counterpart: none linked, not allowed.
    r = player.put(
        f"{url}/theme/transition",
        json={"to": "shadow-self", "reason": "mirror"},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 422 and r.json()["code"] == "theme_incompatible"
    assert player.get(url).json()["version"] == 1


def test_antitheticon_link_enables_shadow_self(player):
    hero = create(player)
    shadow = create(player, doc(name="Arim Featherquill"))
    url = f"{URL}/{shadow['id']}"
    r = player.put(
        f"{url}/theme/transition",
        json={"to": "shadow-self", "reason": "the mirror", "counterpart_id": hero["id"]},
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    links = player.get(f"{URL}/{hero['id']}/links").json()
    assert [(link["character_id"], link["counterpart_id"]) for link in links] == [
        (shadow["id"], hero["id"])
    ]
    r = player.post(f"{url}/links", json={"counterpart_id": shadow["id"]})
    assert r.status_code == 422 and r.json()["code"] == "bad_link"


def test_xp_award_levels_up(player):
    c = create(player)
    url = f"{URL}/{c['id']}"
    r = player.post(f"{url}/xp", json={"amount": 1800, "reason": "the lich's tower"})
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["award"]["level_before"] == 3 and out["award"]["level_after"] == 4
    char = out["character"]
    assert char["document"]["xp"] == 2700
    assert char["document"]["classes"][0]["level"] == 4
    assert char["document"]["hit_points"] == 20 + 4 + 2  # d6 average + Con
    assert char["derived"]["total_level"] == 4
    r = player.post(f"{url}/xp", json={"kind": "milestone", "reason": "saved the town"})
    assert r.json()["award"]["level_after"] == 5
    assert r.json()["character"]["document"]["xp"] == 6500
    history = player.get(f"{url}/xp").json()
    assert [(h["kind"], h["amount"]) for h in history] == [("xp", 1800), ("milestone", 3800)]
    assert player.get(f"{url}/versions").json()[-1]["reason"].startswith("milestone award")


def test_level_up_hit_points_count_the_origin(player):
    c = create(player, doc("2014"))  # hill dwarf fighter: d10, Con +3, dwarven toughness
    r = player.post(f"{URL}/{c['id']}/xp", json={"amount": 1800, "reason": "the mine"})
    assert r.status_code == 201, r.text
    assert r.json()["character"]["document"]["hit_points"] == 34 + 6 + 3 + 1


def test_multiclass_level_up_needs_a_class(player):
    multi = doc("2014")
    multi["classes"] = [
        {"class": "fighter", "level": 2},
        {"class": "cleric", "level": 1, "subclass": "life"},
    ]
    multi["base_abilities"] = {"str": 15, "dex": 10, "con": 14, "int": 8, "wis": 13, "cha": 12}
    check = player.post(f"{URL}/validate", json=multi).json()["validation"]
    assert check["valid"], check["errors"]
    c = create(player, multi)
    url = f"{URL}/{c['id']}/xp"
    r = player.post(url, json={"amount": 1800, "reason": "the mine"})
    assert r.json()["pending_levels"] == 1 and r.json()["award"]["level_after"] == 3
    r = player.post(url, json={"kind": "milestone", "reason": "x", "level_up_class": "wizard"})
    assert r.status_code == 422 and r.json()["code"] == "level_up_class_invalid"


def test_xp_award_without_enough_xp_keeps_level(player):
    c = create(player)
    r = player.post(f"{URL}/{c['id']}/xp", json={"amount": 100, "reason": "a goblin"})
    assert r.json()["award"]["level_after"] == 3
    assert r.json()["character"]["document"]["xp"] == 1000
    r = player.post(f"{URL}/{c['id']}/xp", json={"amount": 0, "reason": "nothing"})
    assert r.status_code == 422 and r.json()["code"] == "xp_amount_invalid"


def test_bulk_validate_reports_per_item(player):
    items = [doc(), doc("2014"), doc(xp=0), {"name": "no rules"}]
    r = player.post(f"{URL}/bulk/validate", json={"characters": items})
    assert r.status_code == 200
    out = r.json()
    assert out["ok"] is False
    assert [i["ok"] for i in out["items"]] == [True, True, False, False]
    assert out["items"][2]["validation"]["errors"][0]["code"] == "xp_level_mismatch"
    assert any(e["path"] == "ruleset" for e in out["items"][3]["errors"])


def test_bulk_create_is_all_or_nothing_unless_partial(player):
    items = [doc(), doc(xp=0), doc("2014")]
    r = player.post(f"{URL}/bulk/create", json={"characters": items})
    assert r.status_code == 422 and r.json()["code"] == "bulk_invalid"
    assert [e["index"] for e in r.json()["errors"]] == [1]
    assert player.get(URL).json()["total"] == 0
    r = player.post(f"{URL}/bulk/create", json={"characters": items}, params={"partial": "true"})
    assert r.status_code == 201
    out = r.json()
    assert out["created"] == 2 and out["ok"] is False
    assert [i["id"] is not None for i in out["items"]] == [True, False, True]
    assert player.get(URL).json()["total"] == 2


def test_bulk_limits(player):
    r = player.post(f"{URL}/bulk/validate", json={"characters": [doc()] * 1001})
    assert r.status_code == 422
    r = player.post(f"{URL}/bulk/validate", json={"characters": []})
    assert r.status_code == 422


def test_bulk_validates_a_thousand(player):
    r = player.post(f"{URL}/bulk/validate", json={"characters": [doc()] * 1000})
    assert r.status_code == 200
    assert len(r.json()["items"]) == 1000 and r.json()["ok"] is True


def test_racing_writers_one_wins_nothing_lost(player):
    """Eight writers send If-Match "1" at once: exactly one succeeds, the rest get 409."""
    from concurrent.futures import ThreadPoolExecutor

    c = create(player)
    url = f"{URL}/{c['id']}"

    def write(i: int):
        return player.put(url, json=doc(name=f"Writer {i}"), headers={"If-Match": '"1"'})

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(r.status_code for r in pool.map(write, range(8)))
    assert statuses == [200] + [409] * 7
    versions = player.get(f"{url}/versions").json()
    assert [v["number"] for v in versions] == [1, 2]
    assert player.get(url).json()["document"]["name"] == versions[1]["diff"][0]["new"]


def test_patch_merges_and_versions(player):
    c = create(player)
    url = f"{URL}/{c['id']}"
    patch = {"name": "Mira the Bold", "currency": {"gp": 99}, "hit_points": None}
    r = player.request(
        "PATCH",
        url,
        json=patch,
        params={"reason": "loot"},
        headers={"If-Match": '"1"', "content-type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["version"] == 2 and r.headers["ETag"] == '"2"'
    assert out["document"]["name"] == "Mira the Bold"
    assert out["document"]["currency"] == {**c["document"]["currency"], "gp": 99}
    assert out["document"]["hit_points"] is None
    assert out["document"]["spells"] == c["document"]["spells"]
    assert player.get(f"{url}/versions/2").json()["reason"] == "loot"


def test_patch_errors(player):
    c = create(player)
    url = f"{URL}/{c['id']}"
    assert player.request("PATCH", url, json={"name": "x"}).status_code == 428
    r = player.request("PATCH", url, json={"xp": "lots"}, headers={"If-Match": '"1"'})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert r.json()["errors"][0]["path"] == "xp"
    r = player.request("PATCH", url, json={"xp": 0}, headers={"If-Match": '"1"'})
    assert r.status_code == 422 and r.json()["code"] == "character_invalid"
    r = player.request("PATCH", url, json={"ruleset": "2014"}, headers={"If-Match": '"1"'})
    assert r.status_code == 422
    assert player.get(url).json()["version"] == 1
