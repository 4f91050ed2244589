"""The assets application over HTTP (composed in process): uploads, downloads with ranges
and ETags, variants, signed URLs, maps, and the refusals of bad input."""

from __future__ import annotations

import base64
import io
import json

from PIL import Image

from domain.assets.signing import sign

URL = "/api/v2/assets"


def png(colour=(10, 120, 200), size=(64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


def upload(api, data: bytes, **kw):
    return api.post(
        f"{URL}/uploads", json={"content_base64": base64.b64encode(data).decode(), **kw}
    )


def test_upload_download_ranges_and_etags(player, other_player):
    data = png()
    r = upload(player, data, prompt="my token", kind="token")
    assert r.status_code == 201, r.text
    v = r.json()
    assert v["content_type"] == "image/png" and v["size"] == len(data)
    content = player.get(v["urls"]["content"])
    assert content.status_code == 200 and content.content == data
    assert content.headers["etag"] == f'"{v["sha256"]}"'
    assert "immutable" in content.headers["cache-control"]
    assert (
        player.get(
            v["urls"]["content"], headers={"If-None-Match": content.headers["etag"]}
        ).status_code
        == 304
    )
    part = player.get(v["urls"]["content"], headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"
    tail = player.get(v["urls"]["content"], headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == data[-5:]
    bad = player.get(v["urls"]["content"], headers={"Range": f"bytes={len(data)}-"})
    assert bad.status_code == 416 and bad.json()["code"] == "range_not_satisfiable"
    assert bad.headers["content-range"] == f"bytes */{len(data)}"
    thumb = player.get(v["urls"]["thumbnail"])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(thumb.content)).size == (64, 64)
    # Another user's asset is a 404, as an unknown one.
    for url in (v["urls"]["content"], f"{URL}/{v['asset_id']}", f"{URL}/versions/999999"):
        r = other_player.get(url)
        assert r.status_code == 404 and r.json()["code"] == "asset_not_found", url


def test_a_new_version_from_an_upload(player):
    first = upload(player, png()).json()
    second = upload(player, png((0, 0, 0)), parent_version_id=first["version_id"]).json()
    assert second["asset_id"] == first["asset_id"] and second["number"] == 2
    versions = player.get(f"{URL}/{first['asset_id']}/versions").json()
    assert [v["number"] for v in versions] == [1, 2]
    assert player.get(f"{URL}").json()["total"] == 1


def test_signed_urls_work_without_a_token_until_they_expire(client, player, settings):
    v = upload(player, png()).json()
    signed = player.post(f"{URL}/versions/{v['version_id']}/signed-urls?ttl_s=60").json()
    r = client.get(signed["urls"]["content"])  # no Authorization header
    assert r.status_code == 200 and r.content == png()
    assert "immutable" in r.headers["cache-control"] and r.headers["content-type"] == "image/png"
    assert client.get(signed["urls"]["thumbnail"]).headers["content-type"] == "image/webp"
    forged = signed["urls"]["content"].replace("sig=", "sig=x")
    assert client.get(forged).json()["code"] == "url_signature_invalid"
    path = f"{URL}/blobs/{v['sha256']}"
    expired = sign(settings.resolved_jwt_secret, path, -10)
    r = client.get(expired)
    assert r.status_code == 403 and r.json()["code"] == "url_expired"
    assert client.get(path).json()["code"] == "url_signature_missing"


def test_bad_uploads_are_refused_and_store_nothing(player, settings):
    r = player.post(f"{URL}/uploads", json={"content_base64": "%%% not base64"})
    assert r.status_code == 422 and r.json()["code"] == "upload_not_base64"
    r = upload(player, b"just some text, not an image")
    assert r.status_code == 422 and r.json()["code"] == "upload_not_image"
    r = upload(player, png()[:-30])  # truncated
    assert r.status_code == 422 and r.json()["code"] == "upload_not_image"
    big = b"\x89PNG" + b"x" * settings.asset_max_upload_bytes
    r = upload(player, big)
    assert r.status_code == 413 and r.json()["code"] == "upload_too_large"
    assert player.get(URL).json()["total"] == 0
    assert player.get(f"{URL}/usage").json()["bytes"] == 0


def test_a_battle_map_is_stored_as_png_layout_and_dd2vtt(player, other_player):
    body = {"kind": "dungeon", "seed": 42, "width": 24, "height": 18, "grid_px": 20}
    r = player.post(f"{URL}/maps", json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["cached"] is False and out["layout"]["rooms"] and out["layout"]["doors"]
    image = player.get(out["image"]["urls"]["content"])
    assert Image.open(io.BytesIO(image.content)).size == (24 * 20, 18 * 20)
    vtt = player.get(out["vtt"]["urls"]["content"])
    assert vtt.headers["content-disposition"].endswith('.dd2vtt"')
    doc = json.loads(vtt.content)
    assert doc["resolution"]["pixels_per_grid"] == 20
    assert len(doc["portals"]) == len(out["layout"]["doors"]) and doc["line_of_sight"]
    assert base64.b64decode(doc["image"]) == image.content
    again = player.post(f"{URL}/maps", json=body)
    assert again.status_code == 200 and again.json()["cached"] is True
    assert again.json()["image"]["version_id"] == out["image"]["version_id"]
    # Someone else asking the same gets a map of their own, not this one.
    theirs = other_player.post(f"{URL}/maps", json=body).json()
    assert theirs["cached"] is False and theirs["image"]["sha256"] == out["image"]["sha256"]


def test_bad_map_requests(player):
    r = player.post(f"{URL}/maps", json={"width": 120, "height": 120, "grid_px": 200})
    assert r.status_code == 422 and r.json()["code"] == "map_too_large"
    assert player.post(f"{URL}/maps", json={"kind": "moon"}).status_code == 422


def test_assets_need_a_token(client):
    assert client.get(URL).status_code == 401


def campaign(dm, *players) -> int:
    r = dm.post("/api/v2/campaigns", json={"name": "Barovia", "ruleset": "2024"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    for p in players:
        assert dm.post(f"/api/v2/campaigns/{cid}/members", json={"user_id": p.user_id}).is_success
    return cid


def test_a_dms_secret_map_is_not_a_players(dm, player, other_player):
    cid = campaign(dm, player)
    secret = dm.post(
        f"{URL}/maps",
        json={
            "kind": "cave",
            "seed": 3,
            "width": 20,
            "height": 16,
            "grid_px": 16,
            "campaign_id": cid,
        },
    ).json()
    shared = upload(dm, png((1, 1, 1)), campaign_id=cid, visibility="party").json()
    assert dm.get(f"{URL}?campaign_id={cid}").json()["total"] == 4  # map: png, layout, vtt
    seen = player.get(f"{URL}?campaign_id={cid}").json()
    assert [a["id"] for a in seen["items"]] == [shared["asset_id"]]
    r = player.get(secret["image"]["urls"]["content"])
    assert r.status_code == 404 and r.json()["code"] == "asset_not_found"
    assert player.get(shared["urls"]["thumbnail"]).status_code == 200
    # Not a member: the campaign's assets do not exist for them.
    assert other_player.get(shared["urls"]["content"]).status_code == 404
    assert other_player.get(f"{URL}?campaign_id={cid}").status_code == 404
    r = player.post(f"{URL}/versions/{secret['image']['version_id']}/signed-urls")
    assert r.status_code == 404
    # A player's upload for DMs' eyes only is refused; for the party it goes through.
    r = upload(player, png((2, 2, 2)), campaign_id=cid, visibility="dm")
    assert r.status_code == 403 and r.json()["code"] == "visibility_not_allowed"
    usage = dm.get(f"{URL}/usage?campaign_id={cid}").json()
    assert usage["assets"] == 4 and usage["bytes"] > 0


def raw(api, data: bytes, content_type: str = "image/png", url: str = f"{URL}/uploads/raw",
        method: str = "POST", **params):
    return api.request(method, url, content=data, params=params,
                       headers={"Content-Type": content_type})


def test_raw_binary_uploads_keep_their_nul_bytes(player, other_player):
    data = png((0, 0, 0))
    assert b"\x00" in data  # what the shared middleware refuses in JSON and text bodies
    r = raw(player, data, kind="token", prompt="my token")
    assert r.status_code == 201, r.text
    v = r.json()
    assert r.headers["location"] == f"{URL}/versions/{v['version_id']}"
    assert (v["content_type"], v["size"], v["meta"]["kind"]) == ("image/png", len(data), "token")
    assert v["meta"]["width"] == 64 and v["meta"]["prompt"] == "my token"
    assert player.get(v["urls"]["content"]).content == data
    # A JPEG declared as WebP is stored as what it decodes as.
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, "JPEG")
    r = raw(player, buf.getvalue(), "image/webp", parent_version_id=v["version_id"])
    assert r.status_code == 201, r.text
    v2 = r.json()
    assert (v2["content_type"], v2["number"], v2["parent_version_id"]) == (
        "image/jpeg", 2, v["version_id"])
    # PUT: a new version of the asset, its parent the latest.
    r = raw(player, png((5, 5, 5)), method="PUT", url=f"{URL}/{v['asset_id']}/content")
    assert r.status_code == 201, r.text
    assert (r.json()["number"], r.json()["parent_version_id"]) == (3, v2["version_id"])
    r = raw(other_player, png((6, 6, 6)), method="PUT", url=f"{URL}/{v['asset_id']}/content")
    assert r.status_code == 404 and r.json()["code"] == "asset_not_found"
    # The same bytes in a JSON body are still refused for their NULs, before any route.
    r = player.post(f"{URL}/uploads", content=b'{"content_base64": "\x00"}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "nul_byte"


def test_bad_raw_uploads_store_nothing(player, settings):
    cases = [
        (png(), "application/octet-stream", 415, "unsupported_media_type"),
        (png(), "image/gif", 415, "unsupported_media_type"),
        (b"\x00\x01 not an image", "image/png", 422, "upload_not_image"),
        (b"", "image/png", 422, "upload_empty"),
        (b"\x89PNG" + b"\x00" * settings.asset_max_upload_bytes, "image/png", 413,
         "upload_too_large"),
    ]
    for data, content_type, status, code in cases:
        r = raw(player, data, content_type)
        assert r.status_code == status, (code, r.text)
        assert r.json()["code"] == code
    r = raw(player, png(), visibility="everyone")
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert player.get(URL).json()["total"] == 0
