"""The blob store interface: content-addressed bytes, named by their sha256 (hex).

Identical bytes are one blob. Implementations (cluster/blobs.py: local disk, S3) write a
blob completely or not at all, so a reader never sees part of one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Protocol

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class BlobMissing(LookupError):
    """No blob with this sha256 is stored (deleted, or lost: `lorekeeper storage verify`)."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_sha256(value: str) -> bool:
    return bool(_SHA256.match(value))


class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store `data` (once: a second put of the same bytes writes nothing); its sha256."""
        ...

    def get(self, sha: str) -> bytes:
        """The blob's bytes; BlobMissing if absent."""
        ...

    def open_range(self, sha: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes `start` to `end` inclusive (as in an HTTP Range), in chunks."""
        ...

    def exists(self, sha: str) -> bool: ...

    def delete(self, sha: str) -> None:
        """Remove the blob; nothing happens if it is absent."""
        ...

    def iter_all(self) -> Iterator[str]:
        """Every stored blob's sha256, in no particular order."""
        ...

    def size(self, sha: str) -> int:
        """The blob's length in bytes; BlobMissing if absent."""
        ...

    def age_seconds(self, sha: str) -> float:
        """Seconds since the blob was written (GC spares young blobs: their transaction may
        still be open); BlobMissing if absent."""
        ...
