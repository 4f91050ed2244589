"""The optimisation step: a thumbnail and WebP/AVIF renditions of an image, made once per
blob. Pure functions of the bytes, so any replica makes the same ones."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, features

THUMBNAIL_PX = 256
_AVIF = features.check("avif")
# Above this many pixels AVIF encoding takes seconds on one core: WebP only.
_AVIF_MAX_PIXELS = 4_000_000


@dataclass(frozen=True)
class Rendition:
    name: str
    data: bytes
    content_type: str
    width: int
    height: int


def renditions(data: bytes) -> list[Rendition]:
    """Renditions of an image's bytes; none for bytes that are not an image."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            image = img.convert("RGBA" if _has_alpha(img) else "RGB")
    except Exception:  # Pillow raises many kinds for bytes it cannot read
        return []
    out = [_encode("webp", image, "WEBP", "image/webp", quality=85, method=4)]
    if _AVIF and image.width * image.height <= _AVIF_MAX_PIXELS:
        out.append(_encode("avif", image, "AVIF", "image/avif", quality=60, speed=8))
    thumb = image.copy()
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX), Image.Resampling.LANCZOS)
    out.append(_encode("thumbnail", thumb, "WEBP", "image/webp", quality=80, method=4))
    return out


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info


def _encode(name: str, image: Image.Image, fmt: str, content_type: str, **opts) -> Rendition:
    buf = io.BytesIO()
    image.save(buf, fmt, **opts)
    return Rendition(name, buf.getvalue(), content_type, image.width, image.height)
