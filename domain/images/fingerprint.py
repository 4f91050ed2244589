"""The default style embedding: a deterministic fingerprint of an image's palette, contrast
and texture, and the consistency score of an image against its campaign style's centroid.

No model: the same pixels always give the same vector, on any machine. It tells a dark ink
sketch from a bright watercolour, not a dragon from a castle, which is what a style check
needs. With a CLIP model configured the embedding is CLIP's image embedding instead (same
scoring).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

HUE_BINS = 12
SIZE = 128  # images are compared at this size, so that resolution does not count
DIM = HUE_BINS + 4 + 4 + 6 + 6  # hue, saturation, value, contrast/texture, colour moments


def fingerprint(data: bytes) -> list[float]:
    """A unit vector of DIM floats describing the image's look."""
    with Image.open(io.BytesIO(data)) as img:
        rgb = img.convert("RGB").resize((SIZE, SIZE), Image.Resampling.BILINEAR)
    pixels = np.asarray(rgb, dtype=np.float64) / 255.0
    hsv = np.asarray(rgb.convert("HSV"), dtype=np.float64) / 255.0
    hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    # Palette: hue histogram weighted by saturation (grey pixels have no meaningful hue).
    hue_hist, _ = np.histogram(hue, bins=HUE_BINS, range=(0, 1), weights=sat)
    hue_hist = hue_hist / (sat.sum() + 1e-9)
    sat_hist = np.histogram(sat, bins=4, range=(0, 1))[0] / sat.size
    val_hist = np.histogram(val, bins=4, range=(0, 1))[0] / val.size
    luma = pixels @ np.array([0.299, 0.587, 0.114])
    # Texture: gradient energy at two scales and the share of strong edges.
    gy, gx = np.gradient(luma)
    grad = np.hypot(gx, gy)
    coarse = luma[::4, ::4]
    cgy, cgx = np.gradient(coarse)
    texture = np.array(
        [
            luma.std(),  # contrast
            np.percentile(luma, 95) - np.percentile(luma, 5),  # dynamic range
            grad.mean() * 4,
            np.hypot(cgx, cgy).mean(),
            (grad > 0.1).mean(),
            _colourfulness(pixels),
        ]
    )
    moments = np.concatenate([pixels.reshape(-1, 3).mean(0), pixels.reshape(-1, 3).std(0)])
    vector = np.concatenate([hue_hist, sat_hist, val_hist, texture, moments])
    norm = np.linalg.norm(vector)
    return [float(x) for x in (vector / norm if norm > 0 else vector)]


def _colourfulness(pixels: np.ndarray) -> float:
    """Hasler and Süsstrunk's colourfulness metric, scaled to about 0-1."""
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def consistency(vector: list[float], centroid: list[float] | None) -> float:
    """Cosine similarity mapped to 0-1; 1.0 when there is no centroid yet (the first image
    sets the style)."""
    if centroid is None:
        return 1.0
    a, b = np.asarray(vector), np.asarray(centroid)
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    if denom == 0:
        return 0.0
    return float(max(0.0, min(1.0, (a @ b) / denom)))
