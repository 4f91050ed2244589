"""The image service's pure checks: the prompt policy, output validation, the style
fingerprint and consistency score, and the tiny model's tokenizer."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from domain.images.fingerprint import DIM, consistency, fingerprint
from domain.images.moderation import PromptPolicy, PromptRefused
from domain.images.validation import OutputInvalid, validate_output


def encode(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


# --- moderation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("a nude elf", "sexual"),
        ("NÜDE statue", "sexual"),
        ("n.a.k.e.d knight", "sexual"),
        ("swastika banner", "hate"),
        ("a b c d e f g h i j k l m n o p, white power", "hate"),
    ],
)
def test_the_policy_refuses_with_the_category(text, category):
    assert PromptPolicy().violation(text) == category
    with pytest.raises(PromptRefused) as exc:
        PromptPolicy().check("a castle", text)
    assert exc.value.code == "prompt_refused" and exc.value.extra["category"] == category


@pytest.mark.parametrize("text", ["a denuded hill at dawn", "a nudelholz on the table",
                                  "an elf in plate armour", "a dragon's hoard"])
def test_the_policy_lets_ordinary_prompts_through(text):
    assert PromptPolicy().violation(text) is None


def test_deployments_add_terms():
    policy = PromptPolicy({"spoilers": ["the lich is the king"], "hate": ["slurword"]})
    assert policy.violation("The Lich is the KING!") == "spoilers"
    assert policy.violation("slurword") == "hate"
    assert PromptPolicy().violation("slurword") is None


# --- validation ----------------------------------------------------------------------------


def noisy(size=(64, 64)) -> Image.Image:
    return Image.effect_noise(size, 50).convert("RGB")


def test_a_good_output_passes():
    validate_output(encode(noisy()), 64, 64)


@pytest.mark.parametrize(
    ("data", "check"),
    [
        (b"\x89PNG broken", "decode"),
        (encode(noisy(), "JPEG"), "format"),
        (encode(noisy((64, 32))), "size"),
        (encode(Image.new("RGB", (64, 64), (0, 0, 0))), "variance"),
        (encode(Image.new("RGB", (64, 64), (200, 30, 30))), "variance"),
    ],
)
def test_bad_outputs_are_refused(data, check):
    with pytest.raises(OutputInvalid) as exc:
        validate_output(data, 64, 64)
    assert exc.value.extra["check"] == check and exc.value.code == "output_invalid"


# --- fingerprint ---------------------------------------------------------------------------


def ink_sketch(seed: int) -> bytes:
    """Black strokes on off-white paper: high contrast, no colour, sharp edges."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (96, 96), (235, 232, 225))
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y = rng.integers(0, 96, 2)
        dx, dy = rng.integers(-30, 30, 2)
        draw.line((int(x), int(y), int(x + dx), int(y + dy)), fill=(20, 20, 20), width=1)
    return encode(img)


def watercolour(seed: int) -> bytes:
    """Soft washes of saturated colour: low contrast, blurred, colourful."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (96, 96), (250, 245, 235))
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x, y = rng.integers(0, 96, 2)
        r = int(rng.integers(10, 30))
        colour = tuple(int(c) for c in rng.integers(60, 255, 3))
        colour = (colour[0], colour[1] // 2, 255 - colour[0] // 2)  # blues and magentas
        draw.ellipse((int(x) - r, int(y) - r, int(x) + r, int(y) + r), fill=colour)
    return encode(img.filter(ImageFilter.GaussianBlur(4)))


def test_the_fingerprint_is_deterministic_and_unit_length():
    a, b = fingerprint(ink_sketch(1)), fingerprint(ink_sketch(1))
    assert a == b and len(a) == DIM
    assert np.linalg.norm(a) == pytest.approx(1.0)


def test_the_fingerprint_groups_one_preset_and_separates_two():
    ink = [fingerprint(ink_sketch(s)) for s in range(6)]
    wet = [fingerprint(watercolour(s)) for s in range(6)]
    ink_centroid = np.mean(ink[:3], axis=0).tolist()
    wet_centroid = np.mean(wet[:3], axis=0).tolist()
    for v in ink[3:]:  # images the centroid was not made from
        assert consistency(v, ink_centroid) > consistency(v, wet_centroid) + 0.2
        assert consistency(v, ink_centroid) > 0.9
    for v in wet[3:]:
        assert consistency(v, wet_centroid) > consistency(v, ink_centroid) + 0.2
        assert consistency(v, wet_centroid) > 0.9


def test_consistency_without_a_centroid_is_one():
    assert consistency(fingerprint(ink_sketch(0)), None) == 1.0


# --- the tiny model's tokenizer ------------------------------------------------------------


def test_the_tiny_tokenizer_keeps_its_vocabulary(tmp_path):
    from transformers import CLIPTokenizer

    from models import tiny_sd

    vocab, merges = tiny_sd._vocab_and_merges()
    CLIPTokenizer(vocab=vocab, merges=merges).save_pretrained(tmp_path)
    tok = CLIPTokenizer.from_pretrained(tmp_path)
    assert len(tok) == len(vocab) > 512
    ids = tok("a red dragon").input_ids
    # <start> a red dragon <end>: whole words, not characters
    assert len(ids) == 5 and tok.convert_ids_to_tokens(ids[3]) == "dragon</w>"
