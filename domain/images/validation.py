"""Quality control of what the pipeline made, before it is stored: the bytes decode, the
size and format are the ones asked for, and the picture is not blank or one flat colour (a
diverged sampler, a NaN-filled VAE decode in float16, a safety filter's black square)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from domain.errors import DomainError

# Standard deviation of the luminance (0-255) below which a picture is taken as uniform.
MIN_STDDEV = 2.0


class OutputInvalid(DomainError):
    """The pipeline's output failed a check (retried: another seed step or replica may do)."""

    code, status, title = "output_invalid", 502, "Generated image failed validation"


def validate_output(data: bytes, width: int, height: int, fmt: str = "PNG") -> None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            found_format, size = img.format, img.size
            luminance = np.asarray(img.convert("L"), dtype=np.float32)
    except Exception:  # Pillow raises many kinds for bytes it cannot read
        raise OutputInvalid("The generated image does not decode.", check="decode") from None
    if found_format != fmt:
        raise OutputInvalid(f"The image is {found_format}, not {fmt}.", check="format")
    if size != (width, height):
        raise OutputInvalid(
            f"The image is {size[0]}x{size[1]}, not {width}x{height}.", check="size"
        )
    if float(luminance.std()) < MIN_STDDEV:
        raise OutputInvalid(
            "The image is blank or one flat colour; retry with another seed or sampler.",
            check="variance",
        )
