"""`lorekeeper storage backup|restore|verify|gc` on real data dirs (SQLite and the local
blob store), run as the command a person types."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile

from PIL import Image
from sqlalchemy import func, select
from starlette.testclient import TestClient

from cluster import migrate
from cluster.blobs import LocalBlobStore
from cluster.database import Database
from cluster.settings import Settings
from deployments.apps import compose_local
from domain.assets.models import AssetVersion
from domain.assets.schemas import AssetMeta
from domain.assets.service import AssetService
from domain.assets.signing import sign
from domain.users.schemas import Principal

OWNER = Principal(1, "dm")
SECRET = "storage-test-secret-" + "x" * 32


def lorekeeper(*args: str, data_dir) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lorekeeper.cli", "storage", *args],
        env={**os.environ, "LOREKEEPER_DATA_DIR": str(data_dir), "LOREKEEPER_JWT_SECRET": SECRET},
        capture_output=True,
        text=True,
        timeout=120,
    )


def png(colour) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(buf, "PNG")
    return buf.getvalue()


def open_dir(data_dir) -> tuple[Database, LocalBlobStore]:
    url = f"sqlite:///{data_dir / 'lorekeeper.db'}"
    migrate.upgrade(url)
    return Database(url), LocalBlobStore(data_dir / "blobs")


def add(db, blobs, data: bytes, parent: int | None = None):
    with db.session() as s:
        return AssetService(s, OWNER, blobs).add(data, "image/png", AssetMeta(kind="token"), parent)


def test_backup_then_restore_into_a_fresh_data_dir_serves_the_same_bytes(tmp_path):
    source, fresh, archive = tmp_path / "a", tmp_path / "b", tmp_path / "assets.tar"
    db, blobs = open_dir(source)
    first = add(db, blobs, png((255, 0, 0)))
    add(db, blobs, png((255, 0, 0)))  # the same bytes: one blob
    second = add(db, blobs, png((0, 255, 0)), parent=first.version_id)
    db.dispose()
    assert lorekeeper("verify", data_dir=source).returncode == 0
    run = lorekeeper("backup", str(archive), data_dir=source)
    assert run.returncode == 0, run.stderr
    assert "rows {'assets': 2, 'asset_versions': 3" in run.stdout
    run = lorekeeper("restore", str(archive), data_dir=fresh)
    assert run.returncode == 0, run.stderr

    db2, blobs2 = open_dir(fresh)
    with db2.session() as s:
        restored = AssetService(s, OWNER, blobs2).version(second.version_id)
    assert restored == second
    assert blobs2.get(second.sha256) == png((0, 255, 0))
    # The restored data dir serves the same bytes, through a signed URL.
    settings = Settings(data_dir=fresh, database_url=db2.url, jwt_secret=SECRET)
    app, _ = compose_local(settings, db2)
    with TestClient(app) as client:
        r = client.get(sign(SECRET, f"/api/v2/assets/blobs/{first.sha256}", 60))
        assert r.status_code == 200 and r.content == png((255, 0, 0))
    db2.dispose()
    # A second restore on top is refused: the rows are there already.
    again = lorekeeper("restore", str(archive), data_dir=fresh)
    assert again.returncode == 1 and "not empty" in again.stderr
    assert lorekeeper("restore", "--blobs-only", str(archive), data_dir=fresh).returncode == 0


def test_a_tampered_archive_restores_nothing(tmp_path):
    source, fresh = tmp_path / "a", tmp_path / "b"
    db, blobs = open_dir(source)
    v = add(db, blobs, png((1, 2, 3)))
    db.dispose()
    good, bad = tmp_path / "good.tar", tmp_path / "bad.tar"
    assert lorekeeper("backup", str(good), data_dir=source).returncode == 0
    with tarfile.open(good) as src, tarfile.open(bad, "w") as dst:
        for member in src:
            data = src.extractfile(member).read()
            if member.name == f"blobs/{v.sha256}":
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            dst.addfile(member, io.BytesIO(data))
    run = lorekeeper("restore", str(bad), data_dir=fresh)
    assert run.returncode == 1 and "corrupt" in run.stderr
    db2, _ = open_dir(fresh)
    with db2.session() as s:
        assert s.scalar(select(func.count()).select_from(AssetVersion)) == 0
    db2.dispose()


def test_verify_reports_corrupt_and_missing_blobs_and_gc_collects(tmp_path):
    db, blobs = open_dir(tmp_path)
    keep = add(db, blobs, png((9, 9, 9)))
    gone = add(db, blobs, png((8, 8, 8)))
    with db.session() as s:
        AssetService(s, OWNER, blobs).delete(gone.asset_id)
    db.dispose()
    dry = lorekeeper("gc", "--dry-run", "--grace-seconds", "0", data_dir=tmp_path)
    assert dry.returncode == 0 and f"unreferenced {gone.sha256}" in dry.stdout
    assert blobs.exists(gone.sha256)
    young = lorekeeper("gc", data_dir=tmp_path)  # the default grace spares new blobs
    assert "deleted 0 unreferenced" in young.stdout and blobs.exists(gone.sha256)
    run = lorekeeper("gc", "--grace-seconds", "0", data_dir=tmp_path)
    assert run.returncode == 0 and not blobs.exists(gone.sha256)
    assert blobs.exists(keep.sha256)
    assert not any(blobs.exists(v.sha256) for v in gone.variants)

    path = blobs.root / keep.sha256[:2] / keep.sha256[2:4] / keep.sha256
    path.write_bytes(b"bit rot")
    thumb = next(v for v in keep.variants if v.name == "thumbnail")
    blobs.delete(thumb.sha256)
    run = lorekeeper("verify", data_dir=tmp_path)
    assert run.returncode == 1
    assert f"corrupt {keep.sha256}" in run.stdout and f"missing {thumb.sha256}" in run.stdout
    backup = lorekeeper("backup", str(tmp_path / "x.tar"), data_dir=tmp_path)
    assert backup.returncode == 1 and not (tmp_path / "x.tar").exists()
