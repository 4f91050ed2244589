"""A tiny seeded Stable Diffusion pipeline for tests and CPU machines: diffusers' test-sized
UNet and VAE, a small CLIP text encoder, and a CLIP BPE tokenizer whose vocabulary and merges
are written here. It draws test patterns, not art, but it loads with
`StableDiffusionPipeline.from_pretrained` like a real model folder and exercises the same
code paths (txt2img, img2img, inpaint, schedulers, step callbacks) in a fraction of a second.

Built once per directory; the same seed always gives the same weights.
"""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

from models.build import build_once

NAME = "tiny-sd"
SEED = 2024
MAX_TOKENS = 77
# Words that get whole-word tokens (everything else falls back to characters).
WORDS = [
    "a", "an", "the", "of", "and", "with", "in", "on", "at", "portrait", "scene", "item", "token",
    "map", "dungeon", "cave", "forest", "castle", "dragon", "knight", "wizard", "rogue", "cleric",
    "fighter", "elf", "dwarf", "orc", "goblin", "sword", "shield", "potion", "ring", "staff",
    "tower", "river", "mountain", "village", "tavern", "night", "day", "fire", "ice", "stone",
    "gold", "silver", "red", "blue", "green", "black", "white", "dark", "light", "ancient",
    "magic", "oil", "painting", "watercolor", "ink", "sketch", "pixel", "art", "fantasy",
    "detailed", "sharp", "blurry", "style",
]


def ensure(dest: Path) -> Path:
    """The pipeline folder at `dest`, built there first if it is missing."""
    return build_once(dest, _write, marker="model_index.json")


def _write(out: Path) -> None:
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    vocab, merges = _vocab_and_merges()
    # transformers 5: vocab_file=/merges_file= would silently give a 2-token vocabulary.
    CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=MAX_TOKENS).save_pretrained(
        out / "tokenizer"
    )
    tokenizer = CLIPTokenizer.from_pretrained(out / "tokenizer")
    assert len(tokenizer) == len(vocab), "the tokenizer lost its vocabulary"

    torch.manual_seed(SEED)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=8,
        norm_num_groups=8,
    )
    vae = AutoencoderKL(
        block_out_channels=(32, 64),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=8,
        sample_size=64,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=vocab["<|startoftext|>"],
            eos_token_id=vocab["<|endoftext|>"],
            pad_token_id=vocab["<|endoftext|>"],
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=len(vocab),
            max_position_embeddings=MAX_TOKENS,
        )
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(out)
    (out / "lorekeeper.json").write_text(json.dumps({"built_by": __name__, "seed": SEED}))


def _bytes_to_unicode() -> dict[int, str]:
    """CLIP's (GPT-2's) byte-to-printable-character table."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += range(ord("®"), ord("ÿ") + 1)
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, chars), strict=True))


def _vocab_and_merges() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Every byte alone and word-final, then merges that make each word of WORDS one token.

    A word's merges are added after it is split by the merges so far (as BPE would at run
    time, lowest rank first), so a later word's merges never break an earlier word."""
    symbols = list(_bytes_to_unicode().values())
    tokens = symbols + [s + "</w>" for s in symbols]
    ranks: dict[tuple[str, str], int] = {}
    for word in WORDS:
        parts = _bpe([*word[:-1], word[-1] + "</w>"], ranks)
        while len(parts) > 1:
            ranks[(parts[0], parts[1])] = len(ranks)
            tokens.append(parts[0] + parts[1])
            parts = _bpe(parts, ranks)
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab: dict[str, int] = {}
    for token in tokens:
        vocab.setdefault(token, len(vocab))
    return vocab, list(ranks)


def _bpe(parts: list[str], ranks: dict[tuple[str, str], int]) -> list[str]:
    while len(parts) > 1:
        pairs = [(ranks.get(pair, len(ranks)), i) for i, pair in enumerate(pairwise(parts))]
        rank, i = min(pairs)
        if rank == len(ranks):
            break
        parts = [*parts[:i], parts[i] + parts[i + 1], *parts[i + 2:]]
    return parts
