"""The image service: turns a request into a checked, resolved plan (limits, moderation,
style, seed, cache keys), queues it as a job, and stores what the engine made (validated,
as assets, with style scores) in one transaction, so nothing is stored half-way.

The engine itself runs elsewhere (deployments/images): this module decides and records.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import math
import secrets
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from pydantic import BaseModel
from sqlalchemy.orm import Session

from domain.assets.schemas import AssetLimits, AssetMeta, AssetVersionOut
from domain.assets.service import AssetService
from domain.assets.uploads import check_upload
from domain.campaigns.access import CampaignAccess
from domain.errors import Conflict, Forbidden, InvalidRequest, NotFound
from domain.images import fingerprint
from domain.images.embedding import FINGERPRINT, StyleEmbedder
from domain.images.jobs import PRIORITY_NAMES, JobQueue
from domain.images.models import ImageJob, StyleCentroid, StyleEmbedding
from domain.images.moderation import PromptPolicy
from domain.images.schemas import (
    MAX_SEED,
    GeneratedImage,
    GenerateRequest,
    ImageLimits,
    JobError,
    JobOut,
    JobPage,
    MapGenerateRequest,
    ModifyRequest,
    RegenerateRequest,
    RenderSpec,
    StylePresetIn,
    StylePresetOut,
    StyleScore,
    asset_extra,
)
from domain.images.styles import DEFAULT_STYLE, Styles, render_prompt
from domain.images.validation import validate_output
from domain.maps.messages import MapOut
from domain.users.schemas import Principal

JOBS_PREFIX = "/api/v2/images/jobs"


@dataclass(frozen=True)
class ImageSettings:
    model: str
    limits: ImageLimits = field(default_factory=ImageLimits)
    asset_limits: AssetLimits = field(default_factory=AssetLimits)
    policy: PromptPolicy = field(default_factory=PromptPolicy)
    max_attempts: int = 3
    style_threshold: float = 0.85
    embedder: StyleEmbedder = FINGERPRINT  # the style vectors' maker (config: style_embedding)


class JobPlan(BaseModel):
    """What a job needs to run on any replica, stored in its row."""

    user_id: int
    role: str
    access_role: str | None  # the caller's campaign role when they asked
    campaign_id: int | None
    kind: str
    style: str
    model: str
    visibility: str
    parent_version_id: int | None
    specs: list[RenderSpec]
    image_b64: str | None = None  # an uploaded source
    mask_b64: str | None = None
    extra: dict[str, Any] = {}  # added to each stored version's meta.extra


@dataclass(frozen=True)
class StoredImage:
    """A stored result and its style vector, for the vector store."""

    image: GeneratedImage
    vector: list[float] | None
    payload: dict[str, Any]


class ImageService:
    def __init__(
        self,
        session: Session,
        principal: Principal,
        assets: AssetService,
        settings: ImageSettings,
        access: CampaignAccess | None = None,
    ):
        self.session = session
        self.principal = principal
        self.assets = assets
        self.settings = settings
        self.access = access
        self.jobs = JobQueue(session)
        self.styles = Styles(session)

    def with_access(self, access: CampaignAccess | None) -> ImageService:
        """The same caller, in the campaign of `access` (looked up by the caller first)."""
        assets = AssetService(self.session, self.principal, self.assets.blobs, access,
                              limits=self.assets.limits)
        return ImageService(self.session, self.principal, assets, self.settings, access)

    # --- styles ---------------------------------------------------------------------------

    def create_style(self, preset: StylePresetIn) -> StylePresetOut:
        """A campaign preset (DMs only); its reference images seed the style's centroid."""
        if self.access is None:
            raise InvalidRequest("Style presets belong to a campaign: give campaign_id.",
                                 code="campaign_required")
        out = self.styles.create(self.access, preset, self.principal.user_id)
        vectors = []
        for version_id in preset.reference_version_ids:
            version = self.assets.version(version_id)  # 404 if the DM cannot see it
            vectors.append(self.settings.embedder.embed(self.assets.blobs.get(version.sha256)))
        if vectors:
            add_to_centroid(self.session, self.access.campaign_id, preset.id, vectors,
                            self.settings.embedder.name)
        return out

    # --- submitting -----------------------------------------------------------------------

    def submit_generate(self, req: GenerateRequest) -> JobOut:
        self._check_campaign(req.campaign_id)
        limits = self.settings.limits
        width, height = req.width or limits.default_size, req.height or limits.default_size
        self._check_size(width, height)
        style = self.styles.resolve(req.style, self.access)
        steps = self._steps(req.steps or (style.steps if req.style else None))
        self.settings.policy.check(req.prompt, req.negative_prompt)
        seed = req.seed if req.seed is not None else secrets.randbelow(MAX_SEED)
        spec = self._spec(
            "txt2img",
            prompt=render_prompt(style, req.prompt),
            negative=", ".join(p for p in (style.negative_prompt, req.negative_prompt) if p),
            seed=seed,
            width=width,
            height=height,
            steps=steps,
            guidance=req.guidance if req.guidance is not None else style.guidance,
            sampler=req.sampler or style.sampler,
            kind=req.kind,
            **({"regenerate": req.regenerate_if_flagged} if req.regenerate_if_flagged else {}),
        )
        plan = self._plan(req.kind, style.id, req.campaign_id, req.visibility, None, [spec])
        return self._submit(plan, "generate", req.priority)

    def submit_regenerate(self, asset_id: int, req: RegenerateRequest) -> JobOut:
        """Another try at a flagged image, with other seeds (up to `req.tries`): the first
        that passes the style threshold (else the best) becomes a new version of the asset,
        its parent the flagged one."""
        asset = self.assets.get(asset_id)  # 404 if the caller may not see it
        version = asset.latest
        meta = version.meta
        self._check_campaign(meta.campaign_id)
        if asset.creator_id != self.principal.user_id and not (self.access and self.access.is_dm):
            raise Forbidden(
                "Only the image's creator or the campaign's DMs regenerate it.",
                code="asset_not_yours",
            )
        scored = self.session.get(StyleEmbedding, version.version_id)
        if scored is None or not scored.flagged:
            raise Conflict(
                f"Version {version.version_id} is not flagged: its style score passes, or it "
                "has none (only campaign images are scored). Use /modify for another take.",
                code="image_not_flagged",
            )
        if meta.extra.get("operation") != "txt2img" or meta.prompt is None:
            raise InvalidRequest(
                "Only generated images (txt2img) are regenerated; modify the source again "
                "with another seed instead.",
                code="regenerate_unsupported",
            )
        seed = req.seed if req.seed is not None else secrets.randbelow(MAX_SEED)
        spec = self._spec(
            "txt2img",
            prompt=meta.prompt,
            negative=meta.negative_prompt or "",
            seed=seed,
            width=meta.width,
            height=meta.height,
            steps=meta.steps,
            guidance=meta.guidance,
            sampler=meta.extra.get("sampler", "euler"),
            kind=meta.kind,
            regenerate=req.tries - 1,
            regenerate_of=version.version_id,
        )
        plan = self._plan(meta.kind, meta.style or DEFAULT_STYLE, meta.campaign_id, None,
                          version.version_id, [spec])
        return self._submit(plan, "regenerate", req.priority)

    # --- battle maps ----------------------------------------------------------------------

    def check_restyle(self, req: MapGenerateRequest) -> None:
        """Refuse a restyle before its map is made, so that nothing is stored half-way."""
        self._restyle_params(req)

    def submit_restyle(self, req: MapGenerateRequest, made: MapOut) -> JobOut:
        """img2img over the map's PNG at a low strength: a new version of the map's image
        asset, at the map's exact pixel size; its layout and .dd2vtt stay the generator's."""
        source = made.image
        self._check_campaign(source.meta.campaign_id)
        if source.creator_id != self.principal.user_id and not (self.access and self.access.is_dm):
            raise Forbidden(  # an identical map another member made: theirs to restyle
                "This map is someone else's; only its creator or the campaign's DMs restyle "
                "it. Ask for another seed to get a map of your own.",
                code="asset_not_yours",
            )
        params, style_id = self._restyle_params(req)
        source_sha = source.sha256
        spec = self._spec("img2img", kind="map", inputs=(source_sha, None),
                          source_version_id=source.version_id, **params)
        plan = self._plan("map", style_id, source.meta.campaign_id, None, source.version_id,
                          [spec])
        links = ("map", "layout_version_id", "vtt_version_id")
        plan.extra = {k: source.meta.extra[k] for k in links if k in source.meta.extra}
        return self._submit(plan, "restyle", req.priority)

    def _restyle_params(self, req: MapGenerateRequest) -> tuple[dict[str, Any], str]:
        restyle = req.restyle
        assert restyle is not None
        full = (req.width * req.grid_px, req.height * req.grid_px)
        # The UNet and VAE take multiples of 8: render at those, then fit the map's size.
        width, height = full[0] // 8 * 8, full[1] // 8 * 8
        limits = self.settings.limits
        if width > limits.max_width or height > limits.max_height:
            raise InvalidRequest(
                f"The map is {full[0]}x{full[1]} px; restyling takes at most "
                f"{limits.max_width}x{limits.max_height}. Ask for fewer cells or a smaller "
                "grid_px (the .dd2vtt scales the map to the grid anyway).",
                code="size_too_large",
                errors=[{"path": "grid_px", "code": "size_too_large", "message": "too large"}],
            )
        style = self.styles.resolve(restyle.style, self.access)
        steps = self._steps(restyle.steps or (style.steps if restyle.style else None))
        # img2img runs steps x strength of them: at least one.
        steps = max(steps, math.ceil(1 / restyle.strength))
        prompt = restyle.prompt or f"top-down battle map of a {req.kind}, seen from above"
        self.settings.policy.check(prompt, restyle.negative_prompt)
        negative = ", ".join(p for p in (style.negative_prompt, restyle.negative_prompt) if p)
        seed = restyle.seed if restyle.seed is not None else secrets.randbelow(MAX_SEED)
        params = {
            "prompt": render_prompt(style, prompt),
            "negative": negative,
            "seed": seed,
            "width": width,
            "height": height,
            "steps": steps,
            "guidance": style.guidance,
            "sampler": style.sampler,
            "strength": restyle.strength,
        }
        if full != (width, height):
            params["fit"] = full
        return params, style.id

    def submit_modify(self, req: ModifyRequest) -> JobOut:
        source, source_bytes, source_meta = self._source(req)
        campaign_id = source.meta.campaign_id if source else req.campaign_id
        self._check_campaign(campaign_id)
        with Image.open(io.BytesIO(source_bytes)) as img:
            src_w, src_h = img.size
        mask_png = self._mask(req, (src_w, src_h)) if req.operation == "inpaint" else None
        if req.operation != "inpaint" and req.mask is not None:
            raise InvalidRequest("Only inpaint takes a mask.", code="mask_not_allowed")
        scale = req.scale if req.operation == "upscale" else 1
        # The UNet and VAE take multiples of 8: a source of another size is cropped to one.
        width, height = (src_w * scale) // 8 * 8, (src_h * scale) // 8 * 8
        if req.operation == "upscale" and width * height > self.settings.limits.max_upscaled_pixels:
            raise InvalidRequest(
                f"Upscaled, the image would be {width}x{height}; the limit is "
                f"{self.settings.limits.max_upscaled_pixels} pixels. Use a smaller scale.",
                code="size_too_large",
            )
        if req.operation != "upscale":
            self._check_size(width, height)
        style = self.styles.resolve(req.style or source_meta.get("style"), self.access)
        prompt = req.prompt or source_meta.get("prompt")
        if prompt is None and req.operation in ("img2img", "inpaint"):
            raise InvalidRequest(
                f"{req.operation} needs a prompt (the source has none to reuse).",
                code="prompt_required",
            )
        prompt = prompt or ""
        self.settings.policy.check(prompt, req.negative_prompt)
        seed = req.seed if req.seed is not None else secrets.randbelow(MAX_SEED)
        steps = self._steps(req.steps or (style.steps if req.style else None))
        operation = "inpaint" if req.operation == "inpaint" else "img2img"
        strength = req.refine_strength if req.operation == "upscale" else req.strength
        count = req.count if req.operation == "variations" else 1
        kind = req.kind or source_meta.get("kind") or "scene"
        if kind not in ("portrait", "scene", "item", "token", "map"):
            kind = "scene"
        source_sha = hashlib.sha256(source_bytes).hexdigest()
        mask_sha = hashlib.sha256(mask_png).hexdigest() if mask_png else None
        specs = [
            self._spec(
                operation,
                prompt=render_prompt(style, prompt) if req.prompt else prompt,
                negative=", ".join(p for p in (style.negative_prompt, req.negative_prompt) if p),
                seed=(seed + i) % (MAX_SEED + 1),
                width=width,
                height=height,
                steps=steps,
                guidance=req.guidance if req.guidance is not None else style.guidance,
                sampler=req.sampler or style.sampler,
                strength=strength,
                source_version_id=source.version_id if source else None,
                upscale=scale,
                resample_only=req.operation == "upscale" and strength == 0,
                kind=kind,
                inputs=(source_sha, mask_sha),
            )
            for i in range(count)
        ]
        plan = self._plan(
            kind,
            style.id,
            campaign_id,
            req.visibility,
            source.version_id if source else None,
            specs,
        )
        if source is None:
            plan.image_b64 = base64.b64encode(source_bytes).decode()
        if mask_png is not None:
            plan.mask_b64 = base64.b64encode(mask_png).decode()
        return self._submit(plan, req.operation, req.priority)

    def _submit(self, plan: JobPlan, operation: str, priority: str) -> JobOut:
        job = self.jobs.submit(
            owner_id=self.principal.user_id,
            campaign_id=plan.campaign_id,
            kind=plan.kind,
            operation=operation,
            priority=priority,
            request=plan.model_dump(mode="json"),
            steps=sum(0 if s.resample_only else s.steps for s in plan.specs),
            max_attempts=self.settings.max_attempts,
        )
        cached = [self.assets.find_cached(spec.cache_key) for spec in plan.specs]
        if all(cached):
            images = [
                GeneratedImage(version=v, seed=s.seed, cached=True).model_dump(mode="json")
                for v, s in zip(cached, plan.specs, strict=True)
                if v is not None
            ]
            self.jobs.complete_at_once(job, images)
        return job_out(job)

    # --- reading --------------------------------------------------------------------------

    def job(self, job_id: int) -> JobOut:
        return job_out(self._own_job(job_id))

    def cancel(self, job_id: int) -> JobOut:
        return job_out(self.jobs.cancel(self._own_job(job_id)))

    def list_jobs(self, limit: int, state: str | None) -> JobPage:
        jobs = self.jobs.list_for(self.principal.user_id, limit, state)
        return JobPage(items=[job_out(j) for j in jobs])

    def _own_job(self, job_id: int) -> ImageJob:
        job = self.jobs.get(job_id)
        if job.owner_id != self.principal.user_id and self.principal.role != "admin":
            raise NotFound(f"No image job {job_id}.", code="job_not_found")
        return job

    # --- running (the worker, as the job's owner) -----------------------------------------

    def inputs(self, plan: JobPlan) -> tuple[bytes | None, bytes | None]:
        """The source image and mask of a modification, as bytes."""
        source = None
        if plan.image_b64 is not None:
            source = base64.b64decode(plan.image_b64)
        elif plan.parent_version_id is not None:
            version = self.assets.version(plan.parent_version_id)
            source = self.assets.blobs.get(version.sha256)
        mask = base64.b64decode(plan.mask_b64) if plan.mask_b64 else None
        return source, mask

    def cached(self, spec: RenderSpec) -> AssetVersionOut | None:
        return self.assets.find_cached(spec.cache_key)

    def preview_score(self, plan: JobPlan, png: bytes) -> StyleScore | None:
        """What `png` would score against its campaign style now (nothing is written)."""
        if plan.campaign_id is None:
            return None
        value, flagged, size = self._consistency(plan, self.settings.embedder.embed(png))
        return StyleScore(score=round(value, 4), flagged=flagged, centroid_size=size)

    def store(
        self,
        job_id: int,
        worker: str,
        plan: JobPlan,
        outputs: list[bytes | AssetVersionOut],
        tries: list[int] | None = None,
    ) -> list[StoredImage] | None:
        """Validate and store every output of the job, score its style and mark the job
        succeeded, all in the caller's transaction. None: the worker lost the job's lease
        (another worker owns it now), so the caller must roll back."""
        stored: list[StoredImage] = []
        tries = tries or [1] * len(outputs)
        for spec, output, tried in zip(plan.specs, outputs, tries, strict=True):
            if isinstance(output, AssetVersionOut):
                image = GeneratedImage(version=output, seed=spec.seed, cached=True)
                stored.append(StoredImage(image, None, {}))
                continue
            validate_output(output, *(spec.fit or (spec.width, spec.height)))
            width, height = spec.fit or (spec.width, spec.height)
            meta = AssetMeta(
                kind=plan.kind,  # type: ignore[arg-type]
                prompt=spec.prompt,
                negative_prompt=spec.negative_prompt or None,
                seed=spec.seed,
                steps=spec.steps,
                guidance=spec.guidance,
                model=plan.model,
                style=plan.style,
                width=width,
                height=height,
                campaign_id=plan.campaign_id,
                visibility=plan.visibility,
                cache_key=spec.cache_key,
                extra={**plan.extra, **asset_extra(spec)},
            )
            version = self.assets.add(output, "image/png", meta, plan.parent_version_id)
            vector = self.settings.embedder.embed(output)
            score = self._score(version.version_id, plan, vector)
            image = GeneratedImage(version=version, seed=spec.seed, cached=False,
                                   style_score=score, tries=tried)
            payload = {
                "campaign_id": plan.campaign_id or 0,
                "style": plan.style,
                "visibility": version.meta.visibility,
                "version_id": version.version_id,
                "kind": plan.kind,
            }
            stored.append(StoredImage(image, vector, payload))
        result = [s.image.model_dump(mode="json") for s in stored]
        return stored if self.jobs.succeed(job_id, worker, result) else None

    def _score(self, version_id: int, plan: JobPlan, vector: list[float]) -> StyleScore | None:
        """The image's consistency with its campaign style's centroid; images that pass join
        the centroid. Images without a campaign are not scored."""
        if plan.campaign_id is None:
            return None
        value, flagged, size = self._consistency(plan, vector, lock=True)
        self.session.add(
            StyleEmbedding(
                version_id=version_id,
                campaign_id=plan.campaign_id,
                style=plan.style,
                embedder=self.settings.embedder.name,
                score=value,
                flagged=flagged,
            )
        )
        if not flagged:
            add_to_centroid(self.session, plan.campaign_id, plan.style, [vector],
                            self.settings.embedder.name)
        return StyleScore(score=round(value, 4), flagged=flagged, centroid_size=size)

    def _consistency(
        self, plan: JobPlan, vector: list[float], lock: bool = False
    ) -> tuple[float, bool, int]:
        """(score, flagged, centroid size) of a style vector against its campaign style."""
        key = (plan.campaign_id, plan.style)
        row = self.session.get(StyleCentroid, key, with_for_update=lock)
        if row is not None and row.embedder != self.settings.embedder.name:
            row = None  # another embedder's centroid: this one starts the style afresh
        centroid = [t / row.count for t in row.total] if row is not None and row.count else None
        value = fingerprint.consistency(vector, centroid)
        return value, value < self.settings.style_threshold, row.count if row else 0

    # --- checks and plans -----------------------------------------------------------------

    def _check_campaign(self, campaign_id: int | None) -> None:
        if campaign_id is not None and (
            self.access is None or self.access.campaign_id != campaign_id
        ):
            raise NotFound(f"No campaign {campaign_id} of yours.", code="campaign_not_found")

    def _check_size(self, width: int, height: int) -> None:
        limits = self.settings.limits
        if width > limits.max_width or height > limits.max_height:
            raise InvalidRequest(
                f"{width}x{height} is over this server's limit of {limits.max_width}x"
                f"{limits.max_height}; ask for a smaller image and upscale it after.",
                code="size_too_large",
                errors=[{"path": "width", "code": "size_too_large", "message": "too large"}],
            )

    def _steps(self, steps: int | None) -> int:
        limits = self.settings.limits
        steps = steps or limits.default_steps
        if steps > limits.max_steps:
            raise InvalidRequest(
                f"{steps} steps is over this server's limit of {limits.max_steps}.",
                code="steps_out_of_range",
                errors=[{"path": "steps", "code": "steps_out_of_range", "message": "too many"}],
            )
        return steps

    def _visibility(self, requested: str | None, campaign_id: int | None) -> str:
        if campaign_id is None or self.access is None:
            return requested or "dm"  # unused without a campaign: private to the creator
        if self.access.is_dm:
            return requested or "dm"
        visibility = requested or f"player:{self.principal.user_id}"
        if visibility not in self.access.visible():
            raise Forbidden(
                f"Players make images they can see themselves ({', '.join(self.access.visible())}"
                f"); {visibility!r} is for the DMs to set.",
                code="visibility_not_allowed",
            )
        return visibility

    def _plan(
        self,
        kind: str,
        style: str,
        campaign_id: int | None,
        visibility: str | None,
        parent_version_id: int | None,
        specs: list[RenderSpec],
    ) -> JobPlan:
        return JobPlan(
            user_id=self.principal.user_id,
            role=self.principal.role,
            access_role=self.access.role if self.access else None,
            campaign_id=campaign_id,
            kind=kind,
            style=style,
            model=self.settings.model,
            visibility=self._visibility(visibility, campaign_id),
            parent_version_id=parent_version_id,
            specs=specs,
        )

    def _spec(
        self,
        operation: str,
        *,
        prompt: str,
        negative: str,
        kind: str,
        inputs: tuple[str | None, str | None] = (None, None),
        regenerate_of: int | None = None,
        **params: Any,
    ) -> RenderSpec:
        key_doc = {
            "model": self.settings.model,
            "operation": operation,
            "kind": kind,
            "prompt": prompt,
            "negative": negative,
            "inputs": inputs,
            **{k: v for k, v in params.items() if k != "source_version_id"},
        }
        if regenerate_of is not None:  # another take, never the flagged one from the cache
            key_doc["regenerate_of"] = regenerate_of
        digest = hashlib.sha256(json.dumps(key_doc, sort_keys=True).encode()).hexdigest()
        return RenderSpec(
            operation=operation,  # type: ignore[arg-type]
            prompt=prompt,
            negative_prompt=negative,
            cache_key=f"img1:{digest}",
            **params,
        )

    def _source(self, req: ModifyRequest) -> tuple[AssetVersionOut | None, bytes, dict[str, Any]]:
        if (req.source_version_id is None) == (req.image is None):
            raise InvalidRequest(
                "Send exactly one of source_version_id (an asset version) and image (base64).",
                code="source_required",
            )
        if req.source_version_id is not None:
            version = self.assets.version(req.source_version_id)
            if not version.content_type.startswith("image/"):
                raise InvalidRequest(
                    f"Version {version.version_id} is {version.content_type}, not an image.",
                    code="source_not_image",
                )
            meta = version.meta.model_dump()
            return version, self.assets.blobs.get(version.sha256), meta
        data = _b64(req.image or "", "image")
        check_upload(
            data,
            AssetMeta(kind="upload", campaign_id=req.campaign_id),
            self.settings.asset_limits,
        )
        return None, data, {}

    def _mask(self, req: ModifyRequest, size: tuple[int, int]) -> bytes:
        if req.mask is None:
            raise InvalidRequest("inpaint needs a mask (base64 image).", code="mask_required")
        data = _b64(req.mask, "mask")
        check_upload(data, AssetMeta(kind="upload"), self.settings.asset_limits)
        with Image.open(io.BytesIO(data)) as img:
            if img.size != size:
                raise InvalidRequest(
                    f"The mask is {img.size[0]}x{img.size[1]}; it must be the source's size, "
                    f"{size[0]}x{size[1]}.",
                    code="mask_size_mismatch",
                    errors=[{"path": "mask", "code": "mask_size_mismatch", "message": "size"}],
                )
            buf = io.BytesIO()
            img.convert("L").save(buf, "PNG")
        return buf.getvalue()


def add_to_centroid(
    session: Session, campaign_id: int, style: str, vectors: list[list[float]], embedder: str
) -> None:
    """Add `embedder`'s vectors to the style's running sum. A centroid that another
    embedder made (the config switched) is started again: vectors of two embedders never
    mix, and switching back starts again too."""
    row = session.get(StyleCentroid, (campaign_id, style), with_for_update=True)
    if row is None:
        row = StyleCentroid(campaign_id=campaign_id, style=style, embedder=embedder,
                            total=[], count=0)
        session.add(row)
    if row.embedder != embedder or not row.count:
        row.embedder, row.total, row.count = embedder, [0.0] * len(vectors[0]), 0
    total = list(row.total)
    for vector in vectors:
        total = [t + v for t, v in zip(total, vector, strict=True)]
    row.total, row.count = total, row.count + len(vectors)
    session.flush()


def _b64(value: str, name: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(
            f"`{name}` is not valid base64; send the file's bytes base64-encoded.",
            code="upload_not_base64",
        ) from None


def job_out(job: ImageJob) -> JobOut:
    return JobOut(
        id=job.id,
        state=job.state,  # type: ignore[arg-type]
        priority=PRIORITY_NAMES[job.priority],  # type: ignore[arg-type]
        kind=job.kind,
        operation=job.operation,
        campaign_id=job.campaign_id,
        step=job.step,
        steps=job.steps,
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error=JobError(**job.error) if job.error else None,
        images=[GeneratedImage.model_validate(i) for i in job.result],
        links={"self": f"{JOBS_PREFIX}/{job.id}", "events": f"{JOBS_PREFIX}/{job.id}/events"},
    )
