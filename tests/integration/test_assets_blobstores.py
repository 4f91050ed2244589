"""Both blob stores behave the same: local disk, and S3 against a real S3-compatible server
(moto's server mode, started here on a free port)."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from cluster.blobs import LocalBlobStore, S3BlobStore, blob_store
from cluster.settings import Settings
from domain.assets.blobs import BlobMissing, sha256_hex
from tests.support import free_port


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("moto's S3 server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def s3_store(endpoint: str, bucket: str) -> S3BlobStore:
    store = S3BlobStore(bucket, endpoint_url=endpoint, access_key="test", secret_key="test")
    store.client.create_bucket(Bucket=bucket)
    return store


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, s3_endpoint):
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    return s3_store(s3_endpoint, f"b-{time.time_ns()}")


def test_content_addressed_and_deduplicated(store):
    data = bytes(range(256)) * 40
    sha = store.put(data)
    assert sha == sha256_hex(data) and store.put(data) == sha
    assert list(store.iter_all()) == [sha]
    assert store.get(sha) == data and store.size(sha) == len(data)
    assert b"".join(store.open_range(sha, 100, 1099)) == data[100:1100]
    assert b"".join(store.open_range(sha, len(data) - 3, len(data) - 1)) == data[-3:]
    assert store.exists(sha) and 0 <= store.age_seconds(sha) < 60
    store.delete(sha)
    assert not store.exists(sha) and list(store.iter_all()) == []
    with pytest.raises(BlobMissing):
        store.get(sha)
    with pytest.raises(BlobMissing):
        store.size(sha)
    store.delete(sha)  # absent: nothing happens


def test_names_that_are_not_a_sha256_are_never_paths(store):
    assert not store.exists("../../etc/passwd")
    with pytest.raises(BlobMissing):
        store.get("../" + "a" * 61)


def test_settings_choose_the_store(tmp_path, s3_endpoint):
    assert isinstance(blob_store(Settings(data_dir=tmp_path)), LocalBlobStore)
    s3_store(s3_endpoint, "chosen")
    chosen = blob_store(
        Settings(
            data_dir=tmp_path,
            blob_backend="s3",
            blob_s3_bucket="chosen",
            blob_s3_endpoint=s3_endpoint,
            blob_s3_access_key="test",
            blob_s3_secret_key="test",
        )
    )
    assert isinstance(chosen, S3BlobStore) and chosen.get(chosen.put(b"hello")) == b"hello"


def test_assets_on_s3_back_up_and_restore_onto_local_disk(db, tmp_path, s3_endpoint):
    from PIL import Image

    from cluster import migrate
    from cluster.database import Database
    from domain.assets import maintenance
    from domain.assets.schemas import AssetMeta
    from domain.assets.service import AssetService
    from domain.users.schemas import Principal

    s3 = s3_store(s3_endpoint, f"assets-{time.time_ns()}")
    buf = io.BytesIO()
    Image.new("RGB", (48, 48), (40, 80, 120)).save(buf, "PNG")
    owner = Principal(5, "player")
    with db.session() as s:
        v = AssetService(s, owner, s3).add(buf.getvalue(), "image/png", AssetMeta(kind="item"))
    assert s3.get(v.sha256) == buf.getvalue() and len(list(s3.iter_all())) == 1 + len(v.variants)
    with db.session() as s:
        assert maintenance.verify(s, s3).ok
        maintenance.backup(s, s3, tmp_path / "s3.tar")
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(url)
    fresh, local = Database(url), LocalBlobStore(tmp_path / "fresh-blobs")
    with fresh.session() as s:
        maintenance.restore(s, local, tmp_path / "s3.tar")
    with fresh.session() as s:
        assert AssetService(s, owner, local).version(v.version_id) == v
    assert local.get(v.sha256) == buf.getvalue()
    fresh.dispose()
