"""Issue 8's "Done when", end to end in one process (every application composed, the tiny
seeded pipeline at 64x64): a DM makes a portrait and a battle map for a campaign, watches
the portrait's job progress over SSE, modifies it (a new version with its parent), gets
thumbnails through signed URLs, imports the map's .dd2vtt (walls, doors, lights), gets style
scores back, and `lorekeeper storage backup` then `restore` into a fresh data dir serves the
same bytes. A player of the campaign cannot see the DM's secret map."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from cluster.database import Database
from cluster.settings import Settings
from deployments.apps import compose_local
from tests.images_support import URL, composed
from tests.support import signup

ASSETS = "/api/v2/assets"


@pytest.fixture
def app(db, settings):
    with composed(db, settings) as app:
        yield app


def storage(*args: str, settings: Settings, database_url: str) -> None:
    env = {**os.environ, "LOREKEEPER_DATA_DIR": str(settings.data_dir),
           "LOREKEEPER_DATABASE_URL": database_url, "LOREKEEPER_JWT_SECRET": settings.jwt_secret}
    run = subprocess.run([sys.executable, "-m", "lorekeeper.cli", "storage", *args], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr


def test_a_dm_makes_watches_modifies_downloads_and_restores_campaign_art(app, db, settings,
                                                                          tmp_path):
    client, _ = app
    dm = signup(client, "walkthrough-dm")  # the first account: admin, may create campaigns
    player = signup(client, "walkthrough-player")
    cid = client.post("/api/v2/campaigns", json={"name": "Curse", "ruleset": "2024"},
                      headers=dm.headers).json()["id"]
    assert dm.post(f"/api/v2/campaigns/{cid}/members",
                   json={"user_id": player.user_id}).status_code == 201

    # A portrait, queued, its progress watched live.
    r = dm.post(f"{URL}/generate", json={
        "kind": "portrait", "prompt": "an old vampire count", "campaign_id": cid,
        "style": "watercolor", "seed": 3, "steps": 24, "width": 128, "height": 128,
        "mode": "async"})
    assert r.status_code == 202, r.text
    with client.stream("GET", r.json()["links"]["events"], headers=dm.headers) as stream:
        events = [json.loads(line[6:]) for line in stream.iter_lines()
                  if line.startswith("data: ")]
    steps = [e["step"] for e in events]
    assert steps == sorted(steps) and any(0 < s < 24 for s in steps), steps  # step by step
    assert events[-1]["state"] == "succeeded" and events[-1]["step"] == 24
    (portrait,) = events[-1]["images"]
    score = portrait["style_score"]
    assert score is not None and 0 <= score["score"] <= 1 and score["centroid_size"] == 0

    # The portrait modified: a new version of the same asset, naming its parent.
    r = dm.post(f"{URL}/modify", json={
        "operation": "img2img", "source_version_id": portrait["version"]["version_id"],
        "prompt": "an old vampire count, candlelight", "strength": 0.5, "steps": 4})
    assert r.status_code == 201, r.text
    (modified,) = r.json()["images"]
    v2 = modified["version"]
    assert (v2["asset_id"], v2["number"], v2["parent_version_id"]) == (
        portrait["version"]["asset_id"], 2, portrait["version"]["version_id"])
    assert modified["style_score"]["centroid_size"] == 1  # scored against the first

    # A battle map, secret to the DMs (the default), through the images application.
    r = dm.post(f"{URL}/generate/map", json={
        "kind": "dungeon", "seed": 8, "width": 24, "height": 18, "grid_px": 20,
        "campaign_id": cid, "name": "Crypt"})
    assert r.status_code == 201, r.text
    battle_map = r.json()["map"]
    vtt = dm.get(battle_map["vtt"]["urls"]["content"])
    assert vtt.headers["content-disposition"].endswith('.dd2vtt"')
    doc = json.loads(vtt.content)
    assert doc["resolution"]["map_size"] == {"x": 24, "y": 18}
    assert doc["line_of_sight"] and doc["portals"] and doc["lights"]
    assert all(len(wall) >= 2 for wall in doc["line_of_sight"])

    # Thumbnails through signed URLs: no token needed.
    downloads = {}
    for version in (v2, battle_map["image"]):
        r = dm.post(f"{ASSETS}/versions/{version['version_id']}/signed-urls?ttl_s=600")
        assert r.status_code == 200, r.text
        urls = r.json()["urls"]
        for name in ("content", "thumbnail"):
            got = client.get(urls[name])
            assert got.status_code == 200, (name, got.text)
            downloads[urls[name]] = got.content
        assert client.get(urls["thumbnail"]).headers["content-type"] == "image/webp"

    # The player sees none of the secret map.
    assert player.get(battle_map["image"]["urls"]["content"]).status_code == 404
    assert player.post(
        f"{ASSETS}/versions/{battle_map['image']['version_id']}/signed-urls").status_code == 404
    seen = player.get(f"{ASSETS}?campaign_id={cid}").json()["items"]
    assert battle_map["image"]["asset_id"] not in [a["id"] for a in seen]

    # Backup, then restore into a fresh data dir (its own database): the same bytes.
    archive = tmp_path / "assets.tar"
    storage("backup", str(archive), settings=settings, database_url=db.url)
    fresh = Settings(data_dir=tmp_path / "restored", jwt_secret=settings.jwt_secret)
    fresh.data_dir.mkdir()
    fresh_url = f"sqlite:///{fresh.data_dir / 'lorekeeper.db'}"
    assert make_url(fresh_url).database != make_url(db.url).database
    storage("restore", str(archive), settings=fresh, database_url=fresh_url)
    storage("verify", settings=fresh, database_url=fresh_url)
    restored_db = Database(fresh_url)
    try:
        restored, _ = compose_local(fresh.model_copy(update={"database_url": fresh_url}),
                                    restored_db)
        with TestClient(restored) as again:
            for url, data in downloads.items():
                got = again.get(url)
                assert got.status_code == 200 and got.content == data, url
    finally:
        restored_db.dispose()
