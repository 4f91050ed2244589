"""Checks on files people send: an image Pillow can decode, within the size and pixel
limits, that the moderation hook lets through. The stored content type is the decoded
format's, not the one the client claimed."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from domain.assets.errors import TooLarge
from domain.assets.schemas import AssetLimits, AssetMeta
from domain.errors import InvalidRequest

_FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "AVIF": "image/avif",
}

# Returns why the upload is refused, or None to accept it (e.g. a classifier, a hash list).
Moderation = Callable[[bytes, AssetMeta], str | None]


@dataclass(frozen=True)
class CheckedImage:
    content_type: str
    width: int
    height: int


def check_upload(
    data: bytes, meta: AssetMeta, limits: AssetLimits, moderation: Moderation | None = None
) -> CheckedImage:
    if len(data) > limits.max_upload_bytes:
        raise TooLarge(
            f"The upload is {len(data)} bytes; the limit is {limits.max_upload_bytes}. "
            "Send a smaller or more compressed image.",
            code="upload_too_large",
        )
    if not data:
        raise InvalidRequest("The upload is empty; send an image.", code="upload_empty")
    checked = _decode(data, limits)
    if moderation is not None and (reason := moderation(data, meta)):
        raise InvalidRequest(
            f"The upload was refused by moderation: {reason}", code="upload_refused"
        )
    return checked


def _decode(data: bytes, limits: AssetLimits) -> CheckedImage:
    not_image = InvalidRequest(
        f"The upload is not an image Lorekeeper can read; send one of {', '.join(_FORMATS)}.",
        code="upload_not_image",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt, width, height = img.format, img.width, img.height
                if width * height > limits.max_upload_pixels:
                    raise TooLarge(
                        f"The image is {width}x{height} pixels; the limit is "
                        f"{limits.max_upload_pixels} pixels. Scale it down.",
                        code="upload_too_many_pixels",
                    )
                img.load()  # decodes every pixel: a truncated or corrupt file fails here
    except TooLarge:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge(
            "The image has too many pixels; scale it down.", code="upload_too_many_pixels"
        ) from None
    except Exception:  # Pillow raises many kinds for bytes it cannot read
        raise not_image from None
    if fmt not in _FORMATS:
        raise not_image
    return CheckedImage(_FORMATS[fmt], width, height)
