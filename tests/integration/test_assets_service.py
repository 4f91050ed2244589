"""The asset service on both databases: dedup, versions, visibility by campaign role,
cache keys, quotas, uploads, variants, and nothing stored half-way."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from cluster.blobs import LocalBlobStore
from domain.assets.errors import TooLarge
from domain.assets.schemas import AssetLimits, AssetMeta
from domain.assets.service import AssetService
from domain.campaigns.access import CampaignAccess
from domain.errors import Forbidden, InvalidRequest, NotFound
from domain.users.schemas import Principal

DM, PLAYER, OTHER, STRANGER = (
    Principal(1, "dm"),
    Principal(2, "player"),
    Principal(3, "player"),
    Principal(4, "player"),
)
CAMPAIGN = 7


def png(colour=(200, 30, 30), size=(64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def blobs(tmp_path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def access(p: Principal) -> CampaignAccess | None:
    roles = {DM.user_id: "owner", PLAYER.user_id: "player", OTHER.user_id: "player"}
    role = roles.get(p.user_id)
    return CampaignAccess(CAMPAIGN, p.user_id, role) if role else None  # type: ignore[arg-type]


def svc(db, blobs, p: Principal, campaign: bool = True, **kw):
    def run(fn):
        with db.session() as s:
            return fn(AssetService(s, p, blobs, access(p) if campaign else None, **kw))

    return run


def meta(**kw) -> AssetMeta:
    return AssetMeta(**{"kind": "portrait", "campaign_id": CAMPAIGN, **kw})


def test_identical_bytes_are_stored_once_and_versions_chain(db, blobs):
    data = png()
    a = svc(db, blobs, DM)(lambda s: s.add(data, "image/png", meta(prompt="a knight", seed=1)))
    b = svc(db, blobs, DM)(lambda s: s.add(data, "image/png", meta(prompt="same bytes")))
    assert a.sha256 == b.sha256 and a.asset_id != b.asset_id
    v2 = svc(db, blobs, DM)(
        lambda s: s.add(png((0, 0, 255)), "image/png", meta(), parent_version_id=a.version_id)
    )
    assert (v2.asset_id, v2.number, v2.parent_version_id) == (a.asset_id, 2, a.version_id)
    # Two source images, each with its thumbnail, WebP and AVIF: 8 blobs, not 12.
    names = {v.name for v in a.variants}
    assert {"thumbnail", "webp"} <= names
    assert len(list(blobs.iter_all())) == 2 * (1 + len(names))
    got = svc(db, blobs, DM)(lambda s: s.get(a.asset_id))
    assert got.version_count == 2 and got.latest.version_id == v2.version_id
    assert got.latest.meta.campaign_id == CAMPAIGN
    thumb = next(v for v in a.variants if v.name == "thumbnail")
    assert blobs.get(thumb.sha256)[:4] == b"RIFF" and thumb.width == 64


def test_visibility_follows_the_campaign(db, blobs):
    secret = svc(db, blobs, DM)(lambda s: s.add(png(), "image/png", meta(kind="map")))
    party = svc(db, blobs, DM)(
        lambda s: s.add(png((1, 2, 3)), "image/png", meta(visibility="party"))
    )
    mine = svc(db, blobs, PLAYER)(
        lambda s: s.add(png((9, 9, 9)), "image/png", meta(visibility=f"player:{PLAYER.user_id}"))
    )
    ids = {"secret": secret.asset_id, "party": party.asset_id, "mine": mine.asset_id}
    expected = ((DM, {"secret", "party", "mine"}), (PLAYER, {"party", "mine"}), (OTHER, {"party"}))
    for who, visible in expected:
        page = svc(db, blobs, who)(lambda s: s.list(CAMPAIGN))
        assert {i.id for i in page.items} == {ids[n] for n in visible}, who
    with pytest.raises(NotFound):  # a DM's secret map is not a player's: 404, as if absent
        svc(db, blobs, PLAYER)(lambda s: s.version(secret.version_id))
    with pytest.raises(NotFound):  # not a member at all
        svc(db, blobs, STRANGER)(lambda s: s.get(party.asset_id))
    with pytest.raises(Forbidden):  # players may not add what only DMs see
        svc(db, blobs, PLAYER)(lambda s: s.add(png(), "image/png", meta(visibility="dm")))
    with pytest.raises(Forbidden):  # nor change another's asset
        svc(db, blobs, OTHER)(
            lambda s: s.add(
                png(), "image/png", meta(visibility="party"), parent_version_id=party.version_id
            )
        )


def test_without_a_campaign_an_asset_is_private(db, blobs):
    out = svc(db, blobs, PLAYER, campaign=False)(
        lambda s: s.add(png(), "image/png", AssetMeta(kind="token"))
    )
    assert svc(db, blobs, PLAYER, campaign=False)(lambda s: s.get(out.asset_id)).id
    with pytest.raises(NotFound):
        svc(db, blobs, OTHER, campaign=False)(lambda s: s.get(out.asset_id))
    assert svc(db, blobs, OTHER, campaign=False)(lambda s: s.list(None)).total == 0


def test_find_cached_only_returns_what_the_caller_may_see(db, blobs):
    svc(db, blobs, DM)(lambda s: s.add(png(), "image/png", meta(cache_key="k1")))
    assert svc(db, blobs, DM)(lambda s: s.find_cached("k1")) is not None
    assert svc(db, blobs, PLAYER)(lambda s: s.find_cached("k1")) is None  # a DM-only asset
    assert svc(db, blobs, DM)(lambda s: s.find_cached("other")) is None


def test_quota_counts_distinct_blobs_and_refuses_past_it(db, blobs):
    data = png()
    limits = AssetLimits(quota_bytes=len(data) + 10)
    run = svc(db, blobs, DM, limits=limits)
    run(lambda s: s.add(data, "image/png", meta()))
    run(lambda s: s.add(data, "image/png", meta()))  # the same bytes take no more space
    assert run(lambda s: s.usage(CAMPAIGN)).bytes == len(data)
    with pytest.raises(TooLarge) as err:
        run(lambda s: s.add(png((5, 5, 5)), "image/png", meta()))
    assert err.value.code == "quota_exceeded" and err.value.status == 413
    assert run(lambda s: s.usage(CAMPAIGN)).versions == 2


def test_uploads_must_be_images_within_limits(db, blobs):
    run = svc(db, blobs, DM, limits=AssetLimits(max_upload_bytes=4096, max_upload_pixels=5000))
    with pytest.raises(InvalidRequest) as err:
        run(lambda s: s.upload(b"GIF89a not really", meta(kind="upload")))
    assert err.value.code == "upload_not_image"
    with pytest.raises(TooLarge) as too_big:
        run(lambda s: s.upload(png(size=(100, 100)), meta(kind="upload")))
    assert too_big.value.code == "upload_too_many_pixels"
    with pytest.raises(TooLarge):
        run(lambda s: s.upload(b"x" * 5000, meta(kind="upload")))
    out = run(lambda s: s.upload(png(size=(40, 30)), meta(kind="upload")))
    assert (out.content_type, out.meta.width, out.meta.height) == ("image/png", 40, 30)
    refused = svc(db, blobs, DM, moderation=lambda data, m: "flagged")
    with pytest.raises(InvalidRequest) as mod:
        refused(lambda s: s.upload(png(), meta(kind="upload")))
    assert mod.value.code == "upload_refused"
    assert svc(db, blobs, DM)(lambda s: s.list(CAMPAIGN)).total == 1


def test_a_failed_transaction_stores_no_rows(db, blobs):
    with pytest.raises(RuntimeError), db.session() as s:
        AssetService(s, DM, blobs, access(DM)).add(png(), "image/png", meta())
        raise RuntimeError("the caller failed after adding")
    assert svc(db, blobs, DM)(lambda s: s.list(CAMPAIGN)).total == 0
