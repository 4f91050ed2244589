"""The images application over HTTP (every app composed in process, the engine in process
with the tiny seeded pipeline at 64x64), on SQLite and PostgreSQL: generation stored as
assets, the cache, reproducibility, jobs with progress over SSE, cancel, modification,
styles, and bad input that stores nothing."""

from __future__ import annotations

import dataclasses
import io
import json
import time

import pytest
from PIL import Image
from sqlalchemy import func, select

from domain.assets.models import AssetVersion
from domain.images.jobs import JobQueue
from domain.images.models import ImageJob
from tests.images_support import URL, b64, composed, generate, pipeline_calls, png, wait
from tests.support import signup


@pytest.fixture
def app(db, settings):
    with composed(db, settings) as app:
        yield app


@pytest.fixture
def client(app):
    return app[0]


@pytest.fixture
def images(app):
    return app[1]["images"]


def counts(db) -> tuple[int, int]:
    with db.session() as s:
        return (s.scalar(select(func.count()).select_from(AssetVersion)) or 0,
                s.scalar(select(func.count()).select_from(ImageJob)) or 0)


def test_generate_stores_an_asset_and_a_repeat_comes_from_the_cache(client, images, db):
    dm = signup(client, "dm-one")
    r = generate(dm, steps=3)
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["state"] == "succeeded" and job["step"] == job["steps"] == 3
    (image,) = job["images"]
    assert image["cached"] is False and image["seed"] == 7
    version = image["version"]
    meta = version["meta"]
    assert (meta["kind"], meta["seed"], meta["steps"], meta["model"]) == ("portrait", 7, 3,
                                                                          "tiny-sd")
    assert meta["width"] == meta["height"] == 64 and meta["prompt"] == "a red dragon"
    content = dm.get(version["urls"]["content"])
    assert content.status_code == 200
    assert Image.open(io.BytesIO(content.content)).size == (64, 64)
    calls = pipeline_calls(images)
    again = generate(dm, steps=3)
    assert again.status_code == 201
    (hit,) = again.json()["images"]
    assert hit["cached"] is True and hit["version"]["version_id"] == version["version_id"]
    assert pipeline_calls(images) == calls  # the pipeline did not run
    other_seed = generate(dm, steps=3, seed=8).json()["images"][0]
    assert other_seed["cached"] is False and other_seed["version"]["sha256"] != version["sha256"]


def test_the_same_seed_and_parameters_give_the_same_image(client, images):
    # Two users: each one's cache is their own, so the pipeline runs twice.
    first = generate(signup(client, "user-a"), steps=2, seed=1234).json()["images"][0]
    second = generate(signup(client, "user-b"), steps=2, seed=1234).json()["images"][0]
    assert first["cached"] is second["cached"] is False
    assert first["version"]["sha256"] == second["version"]["sha256"]


def test_a_queued_job_reports_progress_live_and_over_sse(client, images):
    user = signup(client, "patient")
    r = generate(user, steps=6, mode="async", priority="batch")
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["location"] == f"{URL}/jobs/{job['id']}" == job["links"]["self"]
    with client.stream("GET", job["links"]["events"], headers=user.headers) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = [
            json.loads(line[6:]) for line in stream.iter_lines() if line.startswith("data: ")
        ]
    assert events[-1]["state"] == "succeeded" and events[-1]["step"] == 6
    steps = [e["step"] for e in events]
    assert steps == sorted(steps)
    assert any(e["state"] == "running" for e in events) or len(events) == 1
    done = user.get(f"{URL}/jobs/{job['id']}").json()
    assert done["state"] == "succeeded" and done["attempts"] == 1 and done["images"]
    listed = user.get(f"{URL}/jobs").json()["items"]
    assert [j["id"] for j in listed] == [job["id"]]
    assert signup(client, "nosy").get(f"{URL}/jobs/{job['id']}").status_code == 404


def test_cancel_a_queued_job(client, images, db):
    user = signup(client, "canceller")
    images.worker.config = images.worker.config.model_copy(update={"concurrent_jobs": 0})
    job = generate(user, mode="async", steps=2).json()
    r = user.post(f"{URL}/jobs/{job['id']}/cancel")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    again = user.post(f"{URL}/jobs/{job['id']}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "job_finished"
    assert counts(db)[0] == 0


def test_modify_makes_new_versions_of_the_source(client, images):
    dm = signup(client, "modder")
    source = generate(dm, steps=2).json()["images"][0]["version"]
    sid = source["version_id"]

    r = dm.post(f"{URL}/modify", json={"operation": "img2img", "source_version_id": sid,
                                       "prompt": "a blue dragon", "strength": 0.5, "steps": 4})
    assert r.status_code == 201, r.text
    v2 = r.json()["images"][0]["version"]
    assert v2["asset_id"] == source["asset_id"] and v2["number"] == 2
    assert v2["parent_version_id"] == sid and v2["meta"]["extra"]["operation"] == "img2img"

    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    r = dm.post(f"{URL}/modify", json={"operation": "inpaint", "source_version_id": sid,
                                       "prompt": "fire", "mask": b64(buf.getvalue()),
                                       "steps": 2})
    assert r.status_code == 201, r.text
    assert r.json()["images"][0]["version"]["meta"]["extra"]["operation"] == "inpaint"

    r = dm.post(f"{URL}/modify", json={"operation": "variations", "source_version_id": sid,
                                       "count": 2, "steps": 2, "seed": 5})
    assert r.status_code == 201, r.text
    variants = r.json()["images"]
    assert [v["seed"] for v in variants] == [5, 6]
    assert variants[0]["version"]["sha256"] != variants[1]["version"]["sha256"]

    r = dm.post(f"{URL}/modify", json={"operation": "upscale", "source_version_id": sid,
                                       "scale": 2})
    assert r.status_code == 201, r.text
    up = r.json()["images"][0]["version"]
    assert (up["meta"]["width"], up["meta"]["height"]) == (128, 128)
    data = dm.get(up["urls"]["content"]).content
    assert Image.open(io.BytesIO(data)).size == (128, 128)

    # An uploaded picture (not yet an asset) is modified into a new asset.
    r = dm.post(f"{URL}/modify", json={"operation": "img2img", "image": b64(png()),
                                       "prompt": "a castle", "steps": 2, "kind": "scene"})
    assert r.status_code == 201, r.text
    made = r.json()["images"][0]["version"]
    assert made["parent_version_id"] is None and made["meta"]["kind"] == "scene"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"width": 2048}, 422, "size_too_large"),
        ({"steps": 60}, 422, "steps_out_of_range"),
        ({"steps": 500}, 422, "validation_error"),
        ({"width": 100}, 422, "validation_error"),  # not a multiple of 8
        ({"style": "no-such-style"}, 422, "unknown_style"),
        ({"prompt": "a NUDE elf"}, 422, "prompt_refused"),
        ({"negative_prompt": "n.a.k.e.d"}, 422, "prompt_refused"),
        ({"kind": "map"}, 422, "validation_error"),
    ],
)
def test_bad_generation_requests_store_nothing(client, images, db, body, status, code):
    user = signup(client, "bad-input")
    r = generate(user, **body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code
    assert counts(db) == (0, 0)


def test_bad_modifications_store_nothing(client, images, db):
    user = signup(client, "bad-modder")
    source = generate(user, steps=2).json()["images"][0]["version"]
    before = counts(db)
    cases = [
        ({"operation": "img2img", "image": b64(b"not an image at all"), "prompt": "x"},
         "upload_not_image"),
        ({"operation": "img2img", "image": "%%%", "prompt": "x"}, "upload_not_base64"),
        ({"operation": "inpaint", "source_version_id": source["version_id"], "prompt": "x",
          "mask": b64(png(size=(32, 32)))}, "mask_size_mismatch"),
        ({"operation": "inpaint", "source_version_id": source["version_id"], "prompt": "x"},
         "mask_required"),
        ({"operation": "img2img", "prompt": "x"}, "source_required"),
        ({"operation": "upscale", "image": b64(png(size=(1024, 1024))), "scale": 4},
         "size_too_large"),
    ]
    for body, code in cases:
        r = user.post(f"{URL}/modify", json=body)
        assert r.status_code == 422, (code, r.text)
        assert r.json()["code"] == code
    r = signup(client, "stranger").post(
        f"{URL}/modify", json={"operation": "img2img", "prompt": "x",
                               "source_version_id": source["version_id"]})
    assert r.status_code == 404
    huge = user.post(f"{URL}/modify", json={"operation": "img2img", "prompt": "x",
                                           "image": "A" * (9 * 1024 * 1024)})
    assert huge.status_code == 413
    assert counts(db) == before


def test_campaign_styles_presets_and_scores(client, images):
    dm = signup(client, "style-dm")
    admin_token = dm  # the first account is the admin: it may create campaigns
    player = signup(client, "style-player")
    r = admin_token.post("/api/v2/campaigns", json={"name": "Styled", "ruleset": "2024"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert dm.post(f"/api/v2/campaigns/{cid}/members",
                   json={"user_id": player.user_id}).status_code == 201
    preset = {"id": "grim-ink", "name": "Grim ink", "prompt_template": "ink sketch of {prompt}",
              "negative_prompt": "color", "sampler": "euler_a", "steps": 3, "guidance": 6}
    r = player.post(f"{URL}/styles?campaign_id={cid}", json=preset)
    assert r.status_code == 403 and r.json()["code"] == "dm_only"
    r = dm.post(f"{URL}/styles?campaign_id={cid}", json=preset)
    assert r.status_code == 201, r.text
    assert dm.post(f"{URL}/styles?campaign_id={cid}", json=preset).status_code == 409
    ids = [s["id"] for s in player.get(f"{URL}/styles?campaign_id={cid}").json()["items"]]
    assert "grim-ink" in ids and "watercolor" in ids
    assert "grim-ink" not in [s["id"] for s in player.get(f"{URL}/styles").json()["items"]]

    first = generate(dm, campaign_id=cid, style="grim-ink", seed=1).json()
    assert first["state"] == "succeeded", first
    img = first["images"][0]
    assert img["version"]["meta"]["prompt"] == "ink sketch of a red dragon"
    assert img["version"]["meta"]["steps"] == 3 and img["version"]["meta"]["style"] == "grim-ink"
    assert img["style_score"] == {"score": 1.0, "flagged": False, "centroid_size": 0}
    second = generate(dm, campaign_id=cid, style="grim-ink", seed=2).json()["images"][0]
    assert second["style_score"]["centroid_size"] == 1
    assert 0 <= second["style_score"]["score"] <= 1
    # A player's image defaults to their own visibility; "dm" is not theirs to set.
    mine = generate(player, campaign_id=cid, seed=3).json()["images"][0]
    assert mine["version"]["meta"]["visibility"] == f"player:{player.user_id}"
    r = generate(player, campaign_id=cid, seed=4, visibility="dm")
    assert r.status_code == 403 and r.json()["code"] == "visibility_not_allowed"
    # Not a member: the campaign does not exist for them.
    r = generate(signup(client, "outsider"), campaign_id=cid)
    assert r.status_code == 404
    hits = images.vectors.query("image_styles", images.vectors.points("image_styles")[0].vector,
                                where={"campaign_id": cid, "style": "grim-ink"})
    assert len(hits) == 2


def test_a_job_whose_replica_died_mid_job_is_run_again(client, images, db):
    user = signup(client, "survivor")
    images.worker.config = images.worker.config.model_copy(update={"concurrent_jobs": 0})
    job = generate(user, mode="async", steps=2).json()
    with db.session() as s:  # a replica claims it, then is killed (it never renews)
        claimed = JobQueue(s).claim("killed-replica", lease_s=0.2)
        assert claimed is not None and claimed.id == job["id"]
    assert user.get(f"{URL}/jobs/{job['id']}").json()["state"] == "running"
    assert client.portal.call(images.worker.run_one) is None  # still leased
    time.sleep(0.3)
    done = client.portal.call(images.worker.run_one)
    assert done.id == job["id"] and done.state == "succeeded" and done.attempts == 2
    assert len(done.images) == 1 and counts(db)[0] == 1


def new_campaign(dm, *players) -> int:
    r = dm.post("/api/v2/campaigns", json={"name": "Mapped", "ruleset": "2024"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    for p in players:
        assert dm.post(f"/api/v2/campaigns/{cid}/members",
                       json={"user_id": p.user_id}).status_code == 201
    return cid


def test_a_map_through_images_and_its_restyle_keeps_the_geometry(client, images, db):
    dm = signup(client, "map-dm")  # the first account: admin, may create campaigns
    cid = new_campaign(dm)
    # 16x12 cells at 13 px: 208x156 px, not a multiple of 8 (rendered at 208x152, fitted back)
    body = {"kind": "dungeon", "seed": 5, "width": 16, "height": 12, "grid_px": 13,
            "campaign_id": cid}
    r = dm.post(f"{URL}/generate/map", json=body)
    assert r.status_code == 201, r.text
    plain = r.json()
    assert plain["restyle"] is None and plain["map"]["cached"] is False
    r = dm.post(f"{URL}/generate/map", json={**body, "restyle": {
        "style": "ink-sketch", "strength": 0.3, "steps": 4, "seed": 11}, "mode": "sync"})
    assert r.status_code == 201, r.text
    out = r.json()
    made, job = out["map"], out["restyle"]
    assert made["cached"] is True and made["image"] == plain["map"]["image"]
    assert job["state"] == "succeeded" and job["operation"] == "restyle", job
    restyled = job["images"][0]["version"]
    source = made["image"]
    assert (restyled["asset_id"], restyled["number"], restyled["parent_version_id"]) == (
        source["asset_id"], 2, source["version_id"])
    assert restyled["meta"]["kind"] == "map" and restyled["meta"]["style"] == "ink-sketch"
    assert (restyled["meta"]["width"], restyled["meta"]["height"]) == (208, 156)
    extra = restyled["meta"]["extra"]
    assert extra["vtt_version_id"] == made["vtt"]["version_id"]
    assert extra["layout_version_id"] == made["layout_asset"]["version_id"]
    assert extra["operation"] == "img2img" and extra["strength"] == 0.3
    data = dm.get(restyled["urls"]["content"]).content
    assert Image.open(io.BytesIO(data)).size == (208, 156)
    assert restyled["sha256"] != source["sha256"]
    # The layout and the .dd2vtt are the generator's, untouched.
    vtt = dm.get(f"/api/v2/assets/{made['vtt']['asset_id']}/versions").json()
    assert [v["sha256"] for v in vtt] == [made["vtt"]["sha256"]]
    doc = json.loads(dm.get(made["vtt"]["urls"]["content"]).content)
    assert doc["line_of_sight"] and len(doc["portals"]) == len(made["layout"]["doors"])
    assert doc["resolution"]["pixels_per_grid"] == 13
    # The map (and its restyle) are the DM's secret by default.
    player = signup(client, "map-player")
    assert dm.post(f"/api/v2/campaigns/{cid}/members",
                   json={"user_id": player.user_id}).status_code == 201
    assert player.get(restyled["urls"]["content"]).status_code == 404
    # A party map the DM made is the player's to see (the same request finds it), not to
    # restyle.
    shared = {**body, "seed": 6, "visibility": "party"}
    made = dm.post(f"{URL}/generate/map", json=shared).json()["map"]
    r = player.post(f"{URL}/generate/map", json={**shared, "restyle": {"strength": 0.3}})
    assert r.status_code == 403 and r.json()["code"] == "asset_not_yours", r.text
    assert player.post(f"{URL}/generate/map", json=shared).json()["map"] == {**made,
                                                                        "cached": True}


def test_a_restyle_that_cannot_run_stores_no_map(client, images, db):
    dm = signup(client, "map-dm-2")
    big = {"kind": "cave", "seed": 1, "width": 40, "height": 30, "grid_px": 50,
           "restyle": {"strength": 0.3}}
    r = dm.post(f"{URL}/generate/map", json=big)
    assert r.status_code == 422 and r.json()["code"] == "size_too_large", r.text
    r = dm.post(f"{URL}/generate/map", json={**big, "grid_px": 10,
                                            "restyle": {"style": "no-such"}})
    assert r.status_code == 422 and r.json()["code"] == "unknown_style"
    r = dm.post(f"{URL}/generate/map", json={**big, "grid_px": 10, "restyle": {
        "prompt": "a nude elf"}})
    assert r.status_code == 422 and r.json()["code"] == "prompt_refused"
    r = dm.post(f"{URL}/generate/map", json={**big, "campaign_id": 999})
    assert r.status_code == 404
    assert counts(db) == (0, 0)


def test_flagged_images_are_regenerated_with_new_seeds_as_new_versions(client, images):
    dm = signup(client, "regen-dm")
    cid = new_campaign(dm)
    strict = dataclasses.replace(images.image_settings, style_threshold=1.01)  # all flagged
    images.image_settings = strict
    first = generate(dm, campaign_id=cid, seed=10, steps=2).json()["images"][0]
    assert first["style_score"]["flagged"] is True and first["tries"] == 1
    asset_id = first["version"]["asset_id"]
    r = dm.post(f"{URL}/{asset_id}/regenerate", json={"tries": 2, "seed": 50})
    assert r.status_code == 201, r.text
    (again,) = r.json()["images"]
    assert again["tries"] == 2 and again["seed"] in (50, 51)  # the better of two, still flagged
    assert again["style_score"]["flagged"] is True
    v2 = again["version"]
    assert (v2["asset_id"], v2["number"], v2["parent_version_id"]) == (
        asset_id, 2, first["version"]["version_id"])
    assert v2["meta"]["seed"] == again["seed"] and v2["meta"]["prompt"] == "a red dragon"
    images.image_settings = dataclasses.replace(strict, style_threshold=0.0)  # all pass
    r = dm.post(f"{URL}/{asset_id}/regenerate")
    assert r.status_code == 201, r.text
    (passed,) = r.json()["images"]
    assert passed["tries"] == 1 and passed["style_score"]["flagged"] is False
    assert passed["version"]["number"] == 3
    r = dm.post(f"{URL}/{asset_id}/regenerate")  # its latest version passes now
    assert r.status_code == 409 and r.json()["code"] == "image_not_flagged"
    player = signup(client, "regen-player")
    assert dm.post(f"/api/v2/campaigns/{cid}/members",
                   json={"user_id": player.user_id}).status_code == 201
    assert player.post(f"{URL}/{asset_id}/regenerate").status_code == 404  # the DM's secret
    # The option on /generate: up to N more seeds when the first is flagged.
    images.image_settings = strict
    r = generate(dm, campaign_id=cid, seed=20, steps=2, regenerate_if_flagged=2)
    assert r.status_code == 201, r.text
    (best,) = r.json()["images"]
    assert best["tries"] == 3 and best["seed"] in (20, 21, 22)
    assert best["version"]["number"] == 1


def test_cancel_interrupts_the_running_pipeline(client, images, db):
    user = signup(client, "impatient")
    job = generate(user, mode="async", steps=50, width=128, height=128).json()
    deadline = time.monotonic() + 60
    while user.get(f"{URL}/jobs/{job['id']}").json()["step"] < 1:
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    r = user.post(f"{URL}/jobs/{job['id']}/cancel")
    assert r.status_code == 200 and r.json()["state"] == "running"
    done = wait(user, job["id"])
    assert done["state"] == "cancelled" and done["step"] < 50
    engine = images.engine._engine
    deadline = time.monotonic() + 30
    while engine.interrupted_calls == 0:  # the pipeline stopped at its next step
        assert time.monotonic() < deadline, "the pipeline ran on"
        time.sleep(0.05)
    assert counts(db)[0] == 0
    # The engine goes on working after an interrupted call.
    assert generate(user, steps=2).json()["state"] == "succeeded"
