"""Blob stores (domain.assets.blobs.BlobStore): content-addressed files on local disk (the
default, under the data dir) or objects in an S3-compatible store, chosen by settings."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cluster.settings import Settings
from domain.assets.blobs import BlobMissing, BlobStore, is_sha256, sha256_hex
from domain.assets.schemas import AssetLimits

_CHUNK = 256 * 1024


def _check(sha: str) -> str:
    if not is_sha256(sha):  # never a path component we did not make
        raise BlobMissing(sha)
    return sha


class LocalBlobStore:
    """`root/ab/cd/abcd...`: two levels of 256 folders keep each folder small. A blob is
    written to a temporary file in its folder, fsynced, then renamed into place (atomic on
    one filesystem), so a crash leaves no partial blob under a sha256 name."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, sha: str) -> Path:
        sha = _check(sha)
        return self.root / sha[:2] / sha[2:4] / sha

    def put(self, data: bytes) -> str:
        sha = sha256_hex(data)
        path = self._path(sha)
        if path.exists():
            # Fresh again: GC spares young blobs, so one that a new row is about to name
            # is not collected between this put and that row's commit.
            os.utime(path)
            return sha
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return sha

    def get(self, sha: str) -> bytes:
        try:
            return self._path(sha).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(sha) from None

    def open_range(self, sha: str, start: int, end: int) -> Iterator[bytes]:
        try:
            handle = self._path(sha).open("rb")
        except FileNotFoundError:
            raise BlobMissing(sha) from None
        return _chunks(handle, start, end)

    def exists(self, sha: str) -> bool:
        return is_sha256(sha) and self._path(sha).is_file()

    def delete(self, sha: str) -> None:
        self._path(sha).unlink(missing_ok=True)

    def iter_all(self) -> Iterator[str]:
        for path in self.root.glob("??/??/*"):
            if is_sha256(path.name):
                yield path.name

    def size(self, sha: str) -> int:
        try:
            return self._path(sha).stat().st_size
        except FileNotFoundError:
            raise BlobMissing(sha) from None

    def age_seconds(self, sha: str) -> float:
        try:
            return time.time() - self._path(sha).stat().st_mtime
        except FileNotFoundError:
            raise BlobMissing(sha) from None


def _chunks(handle: Any, start: int, end: int) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        left = end - start + 1
        while left > 0:
            chunk = handle.read(min(_CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


class S3BlobStore:
    """Objects `<prefix><sha256>` in one bucket of any S3-compatible store (AWS, MinIO,
    Ceph...). S3 writes an object whole or not at all."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str = "us-east-1",
        prefix: str = "blobs/",
    ):
        import boto3  # only where S3 is configured
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )

    def _key(self, sha: str) -> str:
        return self.prefix + _check(sha)

    def _missing(self, exc: Exception) -> bool:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        return code in ("404", "NoSuchKey", "NotFound")

    def put(self, data: bytes) -> str:
        sha = sha256_hex(data)
        # Written even when present (the same bytes, atomically): its LastModified is then
        # fresh, so GC spares it until the row that names it has committed.
        self.client.put_object(Bucket=self.bucket, Key=self._key(sha), Body=data)
        return sha

    def get(self, sha: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(sha))["Body"].read()
        except Exception as exc:
            if self._missing(exc):
                raise BlobMissing(sha) from None
            raise

    def open_range(self, sha: str, start: int, end: int) -> Iterator[bytes]:
        try:
            body = self.client.get_object(
                Bucket=self.bucket, Key=self._key(sha), Range=f"bytes={start}-{end}"
            )["Body"]
        except Exception as exc:
            if self._missing(exc):
                raise BlobMissing(sha) from None
            raise
        return iter(lambda: body.read(_CHUNK), b"")

    def _head(self, sha: str) -> dict[str, Any]:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(sha))
        except Exception as exc:
            if self._missing(exc):
                raise BlobMissing(sha) from None
            raise

    def exists(self, sha: str) -> bool:
        if not is_sha256(sha):
            return False
        try:
            self._head(sha)
        except BlobMissing:
            return False
        return True

    def delete(self, sha: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(sha))

    def iter_all(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for obj in page.get("Contents", []):
                name = obj["Key"][len(self.prefix) :]
                if is_sha256(name):
                    yield name

    def size(self, sha: str) -> int:
        return int(self._head(sha)["ContentLength"])

    def age_seconds(self, sha: str) -> float:
        return time.time() - self._head(sha)["LastModified"].timestamp()


def blob_store(settings: Settings) -> BlobStore:
    """The store the settings name (LOREKEEPER_BLOB_BACKEND)."""
    if settings.blob_backend == "s3":
        if not settings.blob_s3_bucket:
            raise ValueError("LOREKEEPER_BLOB_BACKEND=s3 needs LOREKEEPER_BLOB_S3_BUCKET.")
        return S3BlobStore(
            settings.blob_s3_bucket,
            endpoint_url=settings.blob_s3_endpoint,
            access_key=settings.blob_s3_access_key,
            secret_key=settings.blob_s3_secret_key,
            region=settings.blob_s3_region,
        )
    return LocalBlobStore(settings.blob_dir or settings.data_dir / "blobs")


def asset_limits(settings: Settings) -> AssetLimits:
    return AssetLimits(
        quota_bytes=settings.asset_quota_bytes,
        max_upload_bytes=settings.asset_max_upload_bytes,
        max_upload_pixels=settings.asset_max_upload_pixels,
    )
