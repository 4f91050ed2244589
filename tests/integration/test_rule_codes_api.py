"""Every validation code, for each ruleset, through the HTTP API and the database (SQLite
and PostgreSQL): the failing case is reported (and refused on create when it is an error),
the passing case is stored. The cases themselves live with the rules unit tests."""

from __future__ import annotations

import copy

import pytest

from tests.unit.rules_fixtures import BASES
from tests.unit.test_rules_validation import CASES, IDS

URL = "/api/v2/characters"


@pytest.mark.parametrize(("code", "ruleset", "bad", "good"), CASES, ids=IDS)
def test_code_through_the_api(player, code, ruleset, bad, good):
    failing = copy.deepcopy(BASES[ruleset]())
    bad(failing)
    report = player.post(f"{URL}/validate", json=failing).json()["validation"]
    errors = {e["code"] for e in report["errors"]}
    assert code in errors | {w["code"] for w in report["warnings"]}, report

    created = player.post(URL, json=failing)
    if code in errors:
        assert created.status_code == 422
        assert created.json()["code"] == "character_invalid"
        assert code in {e["code"] for e in created.json()["errors"]}
    else:  # a warning: stored, and reported with the character
        assert created.status_code == 201, created.text
        assert code in {w["code"] for w in created.json()["validation"]["warnings"]}

    passing = copy.deepcopy(BASES[ruleset]())
    good(passing)
    created = player.post(URL, json=passing)
    assert created.status_code == 201, created.text
    stored = player.get(f"{URL}/{created.json()['id']}").json()
    report = stored["validation"]
    assert code not in {i["code"] for i in report["errors"] + report["warnings"]}
