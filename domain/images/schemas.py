"""What the image service takes and answers: generation and modification requests, jobs,
style presets, and the limits a deployment sets."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.assets.schemas import AssetVersionOut
from domain.campaigns.access import Visibility
from domain.maps.messages import MapCreate, MapOut
from domain.sheet import Document

MAX_ID = 2**31 - 1
MAX_SEED = 2**32 - 1
ImageKind = Literal["portrait", "scene", "item", "token"]
Operation = Literal["txt2img", "img2img", "inpaint"]
Sampler = Literal["euler", "euler_a", "ddim", "dpmpp_2m", "lms", "pndm"]
Priority = Literal["interactive", "batch"]
Mode = Literal["auto", "sync", "async"]
JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
Prompt = Field(min_length=1, max_length=1000)
# Dimensions a UNet and VAE take: multiples of 8 (the deployment's limits are checked after).
Side = Field(None, ge=64, le=4096, multiple_of=8)


class ImageLimits(BaseModel):
    """Per deployment (the images application's config): what one request may ask."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_width: int = Field(1024, ge=64, le=4096)
    max_height: int = Field(1024, ge=64, le=4096)
    max_steps: int = Field(50, ge=1, le=150)
    default_size: int = Field(64, ge=64, le=4096, multiple_of=8)
    default_steps: int = Field(4, ge=1, le=150)
    max_upscaled_pixels: int = Field(2048 * 2048, ge=64 * 64)
    sync_max_work: int = Field(
        64 * 64 * 8,
        ge=0,
        description="Requests up to this many pixels x steps x images run synchronously "
        "(200/201); larger ones are queued (202 + job).",
    )


class _Common(Document):
    """Strict, as every request body (domain.sheet.Document): JSON's false is not a seed,
    nor "5" a step count; 5.0 is the integer 5."""

    negative_prompt: str = Field("", max_length=1000)
    style: str | None = Field(
        None, max_length=100, description="A style id of GET /styles (built-in or the campaign's)."
    )
    steps: int | None = Field(None, ge=1, le=150)
    guidance: float | None = Field(None, ge=0, le=30)
    sampler: Sampler | None = None
    seed: int | None = Field(
        None, ge=0, le=MAX_SEED, description="The same seed and parameters give the same image."
    )
    visibility: Visibility | None = Field(
        None, description="Default: `dm` for a DM, `player:<you>` for a player."
    )
    priority: Priority = "interactive"
    mode: Mode = Field(
        "auto", description="`auto`: small requests answer at once, others are queued."
    )


MAX_REGENERATE = 5


class GenerateRequest(_Common):
    kind: ImageKind
    prompt: str = Prompt
    campaign_id: int | None = Field(None, ge=1, le=MAX_ID)
    width: int | None = Side
    height: int | None = Side
    regenerate_if_flagged: int = Field(
        0,
        ge=0,
        le=MAX_REGENERATE,
        description="Campaign images: if the image scores below the style threshold, try up "
        "to this many other seeds and keep the first that passes (else the best).",
    )


class RegenerateRequest(Document):
    """Another try at a flagged image: a new version of its asset."""

    tries: int = Field(3, ge=1, le=MAX_REGENERATE, description="Seeds to try at most.")
    seed: int | None = Field(
        None, ge=0, le=MAX_SEED, description="The first seed to try (default: a random one)."
    )
    priority: Priority = "interactive"
    mode: Mode = "auto"


class Restyle(Document):
    """Repaint a battle map with the diffusion model (img2img at a low strength, so walls,
    doors and the grid stay where the layout and .dd2vtt say)."""

    style: str | None = Field(None, max_length=100, description="A style id of GET /styles.")
    strength: float = Field(
        0.35, ge=0.1, le=0.6, description="How much to repaint: low keeps the geometry."
    )
    prompt: str | None = Field(
        None, min_length=1, max_length=1000, description="Default: a top-down battle map."
    )
    negative_prompt: str = Field("", max_length=1000)
    steps: int | None = Field(None, ge=1, le=150)
    seed: int | None = Field(None, ge=0, le=MAX_SEED)


class MapGenerateRequest(MapCreate):
    """A battle map (made and stored by the assets application), optionally restyled."""

    restyle: Restyle | None = None
    priority: Priority = "interactive"
    mode: Mode = "auto"

    def map_create(self) -> MapCreate:
        return MapCreate.model_validate(self.model_dump(exclude={"restyle", "priority", "mode"}))


ModifyOperation = Literal["img2img", "inpaint", "variations", "upscale"]


class ModifyRequest(_Common):
    operation: ModifyOperation
    kind: ImageKind | None = Field(None, description="Default: the source asset's kind.")
    source_version_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="The asset version to modify; or send `image`."
    )
    image: str | None = Field(
        None, description="An image to modify (base64), when it is not an asset yet."
    )
    mask: str | None = Field(
        None, description="inpaint: a mask (base64 image) the source's size; white is repainted."
    )
    prompt: str | None = Field(None, min_length=1, max_length=1000)
    campaign_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="For an uploaded `image` (a source asset has its own)."
    )
    strength: float = Field(0.6, ge=0.05, le=1.0, description="img2img, inpaint, variations.")
    count: int = Field(1, ge=1, le=4, description="variations: how many.")
    scale: Literal[2, 4] = Field(2, description="upscale: the factor.")
    refine_strength: float = Field(
        0.0,
        ge=0,
        le=0.5,
        description="upscale: 0 resamples only (Lanczos); above it the model repaints detail "
        "at that img2img strength.",
    )


class RenderSpec(BaseModel):
    """One image the engine makes: the resolved prompt and parameters, stored in the job."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    operation: Operation
    prompt: str
    negative_prompt: str
    seed: int
    width: int
    height: int
    steps: int
    guidance: float
    sampler: Sampler
    strength: float = 1.0
    # img2img/inpaint: the source, an asset version or the job's uploaded image; the mask
    # (inpaint) is the job's too.
    source_version_id: int | None = None
    upscale: int = 1  # resample the source by this factor first
    resample_only: bool = False  # upscale without the model
    # A map restyle: the result is resized back to the map's exact pixel size (the model
    # works in multiples of 8), so the grid stays where the .dd2vtt says.
    fit: tuple[int, int] | None = None
    regenerate: int = 0  # flagged: try up to this many other seeds
    cache_key: str


class StylePresetIn(Document):
    id: str = Field(
        min_length=2,
        max_length=60,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="Lower-case id, unique in the campaign (and not a built-in one's).",
    )
    name: str = Field(min_length=1, max_length=100)
    prompt_template: str = Field(
        "{prompt}", max_length=1000, description="`{prompt}` stands for the request's prompt."
    )
    negative_prompt: str = Field("", max_length=1000)
    sampler: Sampler = "euler"
    steps: int = Field(20, ge=1, le=150)
    guidance: float = Field(7.0, ge=0, le=30)
    reference_version_ids: list[int] = Field(
        [], max_length=8, description="Asset versions that show the style (seed its centroid)."
    )


class StylePresetOut(StylePresetIn):
    campaign_id: int | None = Field(description="None for a built-in style.")
    created_by: int | None = None
    created_at: datetime | None = None


class StyleList(BaseModel):
    items: list[StylePresetOut]


class StyleScore(BaseModel):
    score: float = Field(description="1: on the campaign style's centroid; 0: far from it.")
    flagged: bool = Field(description="Below the threshold: regenerate it on request.")
    centroid_size: int = Field(description="Images the centroid was made from (0: first one).")


class GeneratedImage(BaseModel):
    version: AssetVersionOut
    seed: int
    cached: bool = Field(description="Found by its cache key: the pipeline did not run.")
    style_score: StyleScore | None = None
    tries: int = Field(1, description="Seeds rendered for it (more than 1: regenerated).")


class JobError(BaseModel):
    code: str
    detail: str


class JobOut(BaseModel):
    id: int
    state: JobState
    priority: Priority
    kind: str
    operation: str
    campaign_id: int | None
    step: int = Field(description="Denoising steps done, over all the job's images.")
    steps: int
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: JobError | None
    images: list[GeneratedImage]
    links: dict[str, str] = {}


class JobPage(BaseModel):
    items: list[JobOut]


class MapJobOut(BaseModel):
    map: MapOut = Field(description="The generator's map: PNG, layout and .dd2vtt assets.")
    restyle: JobOut | None = Field(
        None,
        description="The restyle job: its image is a new version of the map's image asset "
        "(the layout and .dd2vtt stay the generator's).",
    )


def asset_extra(spec: RenderSpec) -> dict[str, Any]:
    """What AssetMeta.extra records of a render beyond its standard fields."""
    return {
        "operation": spec.operation,
        "sampler": spec.sampler,
        "strength": spec.strength,
        "upscale": spec.upscale,
    }
