"""CLIP's image embedding as the style embedding (domain/images/embedding.StyleEmbedder), and
`tiny-clip`, a seeded random CLIP vision tower the project builds itself for tests.

`ClipStyle` loads `CLIPVisionModelWithProjection` and its image processor from a local folder:
a real CLIP folder (openai/clip-vit-base-patch32 or any CLIP checkpoint with
preprocessor_config.json, copied to the node; the text tower's weights are ignored) or
`tiny-clip`. Nothing is fetched from a hub. `tiny-clip` proves the code path only: its random
weights do not tell styles apart.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import threading
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.build import build_once

NAME = "tiny-clip"
SEED = 2025
IMAGE_SIZE = 32


class ClipStyleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(
        NAME,
        description="`tiny-clip` (built here: random weights, for tests), or the path of a "
        "CLIP model folder (config.json, preprocessor_config.json; absolute or under the "
        "models folder).",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "cpu",
        description="Where the images ingress runs CLIP. `auto`: cuda when its replica sees a "
        "GPU. ViT-B/32 is ~4.4 GFLOPs per image: CPU is enough.",
    )
    torch_threads: int = Field(1, ge=1, le=256, description="Torch CPU threads (cpu only).")


class ClipStyle:
    """L2-normalised CLIP image embeddings (`image_embeds`). The weights load on first use
    (the folder and its dimension are checked at once); one forward at a time."""

    def __init__(self, model_dir: Path, config: ClipStyleConfig):
        self.model_dir = model_dir
        self.config = config
        self.vision_config = _vision_config(model_dir)
        self.dim: int = self.vision_config.projection_dim
        self.name = embedder_name(config.model)
        self._model: Any = None
        self._processor: Any = None
        self._lock = threading.Lock()

    def embed(self, data: bytes) -> list[float]:
        import torch
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            rgb = img.convert("RGB")
        with self._lock:
            model, processor = self._load()
            pixels = processor(images=rgb, return_tensors="pt")["pixel_values"]
            with torch.inference_mode():
                embeds = model(pixel_values=pixels.to(model.device)).image_embeds[0]
        embeds = torch.nn.functional.normalize(embeds.float(), dim=-1)
        return [float(x) for x in embeds.cpu()]

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            import torch
            from transformers import CLIPVisionModelWithProjection

            device = self.config.device
            if device == "auto":
                device = "cuda" if torch.cuda.is_available() else "cpu"
            if device == "cpu":
                torch.set_num_threads(self.config.torch_threads)
            model = CLIPVisionModelWithProjection.from_pretrained(
                self.model_dir, config=self.vision_config
            )
            self._model = model.to(device).eval()
            # The PIL image processor on every node (the default one needs torchvision and
            # resizes slightly differently): one campaign's vectors stay comparable.
            self._processor = _processor_class().from_pretrained(self.model_dir)
        return self._model, self._processor


def _vision_config(model_dir: Path) -> Any:
    """The vision tower's config, from a vision-only folder or a full CLIP one. A full CLIP
    config keeps the projection's size at its top level; its nested vision config may carry
    only the library default (512), which would not match the projection's weights."""
    from transformers import CLIPConfig, CLIPVisionConfig

    raw = json.loads((model_dir / "config.json").read_text())
    if raw.get("model_type") == "clip":
        full = CLIPConfig.from_pretrained(model_dir)
        vision = full.vision_config
        vision.projection_dim = full.projection_dim
        return vision
    return CLIPVisionConfig.from_pretrained(model_dir)


def embedder_name(model: str) -> str:
    """`clip:<folder name>`, stored with scores and centroids (at most 40 characters)."""
    label = Path(model).name or model
    name = f"clip:{label}"
    if len(name) > 40:
        name = f"clip:{label[:25]}-{hashlib.sha256(model.encode()).hexdigest()[:8]}"
    return name


def collection_suffix(name: str) -> str:
    """A vector collection name's part for an embedder name (letters, digits, _ and -)."""
    return re.sub(r"[^a-z0-9_-]+", "_", name.lower())


def _processor_class() -> Any:
    try:
        from transformers import CLIPImageProcessorPil  # transformers 5
    except ImportError:
        from transformers import CLIPImageProcessor as CLIPImageProcessorPil
    return CLIPImageProcessorPil


def ensure(dest: Path) -> Path:
    """The tiny model folder at `dest`, built there first if it is missing."""
    return build_once(dest, _write)


def _write(out: Path) -> None:
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(SEED)
    config = CLIPVisionConfig(
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        image_size=IMAGE_SIZE,
        patch_size=8,
        projection_dim=16,
    )
    CLIPVisionModelWithProjection(config).save_pretrained(out)
    _processor_class()(
        size={"shortest_edge": IMAGE_SIZE}, crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    ).save_pretrained(out)
    (out / "lorekeeper.json").write_text(json.dumps({"built_by": __name__, "seed": SEED}))
