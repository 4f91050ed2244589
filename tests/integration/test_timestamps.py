"""Every timestamp the API returns is RFC 3339 with an offset, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from domain.characters.examples import EXAMPLE_2024

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def instant(value: str) -> datetime:
    assert RFC3339.match(value), value
    return datetime.fromisoformat(value)


def test_created_at_has_an_offset(player, admin):
    r = player.post("/api/v2/characters", json=EXAMPLE_2024)
    assert r.status_code == 201, r.text
    character = r.json()
    created = instant(character["created_at"])
    instant(character["updated_at"])
    # Stored and read back as UTC: the instant is now, whatever the database's time zone.
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=5)

    got = player.get(f"/api/v2/characters/{character['id']}").json()
    assert instant(got["created_at"]) == created
    version = player.get(f"/api/v2/characters/{character['id']}/versions").json()[0]
    assert abs(instant(version["created_at"]) - created) < timedelta(seconds=5)
    r = player.client.post(
        "/api/v2/auth/register", json={"username": "late-joiner", "password": "a long password"}
    )
    assert r.status_code == 201, r.text
    instant(r.json()["created_at"])

    brew = {"kind": "item", "slug": "plain-token", "name": "Plain Token", "weight": 0}
    r = admin.post("/api/v2/rules/2024/homebrew", json=brew)
    assert r.status_code == 201, r.text
    instant(r.json()["created_at"])
    instant(r.json()["updated_at"])
