"""The image model: a diffusers pipeline folder (the tiny seeded one the project builds, or a
Stable Diffusion family folder by config: SD 1.5, SD-Turbo, SDXL), loaded once per replica,
with txt2img, img2img and inpaint assembled from the same components.

`Diffusion.run` takes one group of requests that share model, operation, size, steps,
sampler and guidance, and makes all their images in one pipeline call; each image has its
own prompt, negative prompt and seed (its own CPU generator, so a seed gives the same image
alone or in a batch, up to float rounding).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from PIL import Image

Operation = Literal["txt2img", "img2img", "inpaint"]
# Sampler names (as in AUTOMATIC1111) to diffusers scheduler classes.
SAMPLERS = {
    "euler": "EulerDiscreteScheduler",
    "euler_a": "EulerAncestralDiscreteScheduler",
    "ddim": "DDIMScheduler",
    "dpmpp_2m": "DPMSolverMultistepScheduler",
    "lms": "LMSDiscreteScheduler",
    "pndm": "PNDMScheduler",
}
Sampler = Literal["euler", "euler_a", "ddim", "dpmpp_2m", "lms", "pndm"]


class DiffusionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(
        "tiny-sd",
        description="`tiny-sd` (built here: test patterns, not art), or the path of a "
        "diffusers model folder with model_index.json (absolute, or under the models folder).",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="`auto`: cuda when a GPU is visible, else cpu."
    )
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        "auto", description="`auto`: float16 on cuda, float32 on cpu."
    )
    torch_threads: int = Field(
        1,
        ge=1,
        le=256,
        description="Torch CPU threads per replica. On 2 vCPUs with default OpenMP a UNet "
        "step took 4.1 s against 0.12 s with one thread and OMP_WAIT_POLICY=PASSIVE.",
    )

    def resolved_device(self) -> str:
        import torch

        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

    def torch_dtype(self, device: str) -> Any:
        import torch

        if self.dtype == "auto":
            return torch.float16 if device == "cuda" else torch.float32
        return getattr(torch, self.dtype)


@dataclass(frozen=True)
class Item:
    """One image to make."""

    prompt: str
    negative_prompt: str
    seed: int
    image: Image.Image | None = None  # img2img and inpaint: the source, at the output size
    mask: Image.Image | None = None  # inpaint: white is repainted


@dataclass(frozen=True)
class Group:
    """What one pipeline call shares."""

    operation: Operation
    width: int
    height: int
    steps: int
    guidance: float
    sampler: Sampler
    strength: float = 1.0


# Called after each denoising step with (steps done, steps in all).
StepCallback = Callable[[int, int], None]
# Asked after each step: True stops the call there (every image of it was cancelled).
StopCheck = Callable[[], bool]


class Interrupted(Exception):
    """The call stopped early: its callers no longer want its images."""


class Diffusion:
    def __init__(self, model_dir: Path, config: DiffusionConfig):
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import torch
        from diffusers import (
            AutoPipelineForImage2Image,
            AutoPipelineForInpainting,
            AutoPipelineForText2Image,
        )
        self.device = config.resolved_device()
        if self.device == "cpu":
            torch.set_num_threads(config.torch_threads)
        dtype = config.torch_dtype(self.device)
        self.txt2img = AutoPipelineForText2Image.from_pretrained(model_dir, dtype=dtype)
        self.txt2img.to(self.device)
        self.img2img = AutoPipelineForImage2Image.from_pipe(self.txt2img)
        self.inpaint = AutoPipelineForInpainting.from_pipe(self.txt2img)
        for pipe in (self.txt2img, self.img2img, self.inpaint):
            pipe.set_progress_bar_config(disable=True)
        self._base_scheduler = self.txt2img.scheduler
        self._schedulers: dict[str, Any] = {}
        self._lock = threading.Lock()  # schedulers hold per-call state: one call at a time

    def run(
        self,
        group: Group,
        items: Sequence[Item],
        on_step: StepCallback,
        should_stop: StopCheck | None = None,
    ) -> list[Image.Image]:
        """The group's images, in one pipeline call; `Interrupted` if `should_stop` said so
        after a step (diffusers skips the remaining steps when `_interrupt` is set)."""
        import torch

        with self._lock, torch.inference_mode():
            pipe = {"txt2img": self.txt2img, "img2img": self.img2img, "inpaint": self.inpaint}[
                group.operation
            ]
            pipe.scheduler = self._scheduler(group.sampler)

            def step_end(p: Any, i: int, _t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
                if should_stop is not None and should_stop():
                    p._interrupt = True
                on_step(i + 1, getattr(p, "num_timesteps", group.steps))
                return kwargs

            args: dict[str, Any] = {
                "prompt": [i.prompt for i in items],
                "negative_prompt": [i.negative_prompt for i in items],
                "num_inference_steps": group.steps,
                "guidance_scale": group.guidance,
                # CPU generators: the same seed gives the same noise on any device.
                "generator": [torch.Generator("cpu").manual_seed(i.seed) for i in items],
                "callback_on_step_end": step_end,
                "output_type": "pil",
            }
            if group.operation == "txt2img":
                args |= {"width": group.width, "height": group.height}
            else:
                args |= {"image": [i.image for i in items], "strength": group.strength}
            if group.operation == "inpaint":
                args |= {"mask_image": [i.mask for i in items]}
                args |= {"width": group.width, "height": group.height}
            images = list(pipe(**args).images)
            if getattr(pipe, "_interrupt", False):
                raise Interrupted(f"stopped early: {group.operation}, {len(items)} image(s)")
            return images

    def _scheduler(self, sampler: str) -> Any:
        if sampler not in self._schedulers:
            import diffusers

            cls = getattr(diffusers, SAMPLERS[sampler])
            self._schedulers[sampler] = cls.from_config(self._base_scheduler.config)
        return self._schedulers[sampler]
