"""From a model name to a local model folder: a model the project builds itself (made under
the models folder on first use), or any Hugging Face model folder given by path. Nothing is
fetched from a hub."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from models import clip_style, gemma, tiny_llama, tiny_sd

BUILT: dict[str, Callable[[Path], Path]] = {
    tiny_llama.NAME: tiny_llama.ensure,
    gemma.NAME: gemma.ensure,
}


def resolve(model: str, models_dir: Path) -> Path:
    """`model`: a name of BUILT, a folder under `models_dir`, or a path to a model folder."""
    if model in BUILT:
        return BUILT[model](models_dir / model)
    for path in (models_dir / model, Path(model).expanduser()):
        if (path / "config.json").is_file():
            return path.resolve()
    raise FileNotFoundError(
        f"No model {model!r}: name one of {sorted(BUILT)}, or give the path of a Hugging Face "
        f"model folder (with config.json), absolute or under {models_dir}."
    )


# Image models: diffusers pipeline folders (model_index.json).
IMAGE_BUILT: dict[str, Callable[[Path], Path]] = {tiny_sd.NAME: tiny_sd.ensure}


def resolve_image(model: str, models_dir: Path) -> Path:
    """`model`: a name of IMAGE_BUILT, a folder under `models_dir`, or a path to a diffusers
    pipeline folder."""
    if model in IMAGE_BUILT:
        return IMAGE_BUILT[model](models_dir / model)
    for path in (models_dir / model, Path(model).expanduser()):
        if (path / "model_index.json").is_file():
            return path.resolve()
    raise FileNotFoundError(
        f"No image model {model!r}: name one of {sorted(IMAGE_BUILT)}, or give the path of a "
        f"diffusers pipeline folder (with model_index.json), absolute or under {models_dir}."
    )


# Style embedders: CLIP folders (config.json and preprocessor_config.json).
CLIP_BUILT: dict[str, Callable[[Path], Path]] = {clip_style.NAME: clip_style.ensure}


def resolve_clip(model: str, models_dir: Path) -> Path:
    """`model`: a name of CLIP_BUILT, a folder under `models_dir`, or a path to a CLIP model
    folder (the full model or its vision tower, with its image processor's config)."""
    if model in CLIP_BUILT:
        return CLIP_BUILT[model](models_dir / model)
    for path in (models_dir / model, Path(model).expanduser()):
        if (path / "config.json").is_file() and (path / "preprocessor_config.json").is_file():
            return path.resolve()
    raise FileNotFoundError(
        f"No CLIP model {model!r}: name one of {sorted(CLIP_BUILT)}, or give the path of a "
        f"CLIP model folder (with config.json and preprocessor_config.json), absolute or "
        f"under {models_dir}."
    )
