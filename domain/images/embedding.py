"""What makes an image's style vector: the fingerprint by default, or a model (CLIP's image
embedding, models/clip_style.py) chosen by the images application's config.

The embedder's `name` is stored with every score and centroid, so a centroid built by one
embedder is never compared with (or added to) vectors of another.
"""

from __future__ import annotations

from typing import Protocol

from domain.images import fingerprint


class StyleEmbedder(Protocol):
    @property
    def name(self) -> str:
        """Which embedder made a vector (at most 40 characters: stored in the database)."""
        ...

    @property
    def dim(self) -> int:
        """The length of its vectors."""
        ...

    def embed(self, data: bytes) -> list[float]:
        """A unit vector describing the look of an image (PNG or any Pillow format)."""
        ...


class FingerprintEmbedder:
    """The deterministic palette, contrast and texture fingerprint (no model)."""

    name = "fingerprint-v1"
    dim = fingerprint.DIM

    def embed(self, data: bytes) -> list[float]:
        return fingerprint.fingerprint(data)


FINGERPRINT = FingerprintEmbedder()
