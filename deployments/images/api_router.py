"""HTTP for images: parse, authorise, hand over to the image service and the job worker,
shape the reply (201 with the images when a request ran at once, 202 with its job when it
was queued; the job's progress as JSON or a server-sent event stream)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from deployments.calls.assets import AssetCalls
from deployments.common.runner import ServiceRunner
from deployments.http.auth import CurrentPrincipal
from deployments.images.worker import JobWorker
from domain.assets.service import AssetService
from domain.campaigns.access import CampaignAccess
from domain.images.jobs import FINAL
from domain.images.schemas import (
    MAX_ID,
    GenerateRequest,
    JobOut,
    JobPage,
    JobState,
    MapGenerateRequest,
    MapJobOut,
    ModifyRequest,
    RegenerateRequest,
    StyleList,
    StylePresetIn,
    StylePresetOut,
)
from domain.images.service import ImageService
from domain.images.styles import Styles
from domain.users.schemas import Principal

PREFIX = "/api/v2/images"
router = APIRouter(prefix=PREFIX, tags=["images"])
JobId = Annotated[int, Path(ge=1, le=MAX_ID)]
AssetId = Annotated[int, Path(ge=1, le=MAX_ID)]
CampaignId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
_JOB_ANSWERS: dict[int | str, dict[str, Any]] = {
    201: {"model": JobOut, "description": "Done at once: the job with its images."},
    202: {"model": JobOut, "description": "Queued: follow `links.self` or `links.events`."},
    404: {"description": "`not_found`: the campaign, style or source image is not one you see"},
}


class ImagesIngress(Protocol):
    """What the routes use of deployments.images.app.ImagesIngress."""

    config: Any
    images: ServiceRunner[ImageService]
    worker: JobWorker

    def ensure_worker(self) -> None: ...

    def asset_calls(self) -> AssetCalls: ...

    async def access(
        self, principal: Principal, campaign_id: int | None
    ) -> CampaignAccess | None: ...


async def _ingress(request: Request) -> ImagesIngress:
    ingress: ImagesIngress = request.app.state.images
    ingress.ensure_worker()  # in process the loops start with the first request
    return ingress


Ingress = Annotated[ImagesIngress, Depends(_ingress)]


async def _answer(
    ingress: ImagesIngress,
    principal: Principal,
    job: JobOut,
    mode: str,
    work: int,
    response: Response,
) -> JobOut:
    """Run a small request now (or wait for it), else answer 202."""
    config = ingress.config
    small = mode == "sync" or (mode == "auto" and work <= config.limits.sync_max_work)
    if job.state == "queued" and small:
        job = await ingress.worker.run_one(job.id) or job
        deadline = asyncio.get_running_loop().time() + config.worker.sync_timeout_s
        while job.state not in FINAL and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.1)  # another loop took it first: wait for it
            job = await ingress.images.run(principal, lambda s, j=job.id: s.job(j))
    response.status_code = 201 if job.state in FINAL else 202
    response.headers["Location"] = job.links["self"]
    return job


def _work(width: int, height: int, steps: int, count: int = 1) -> int:
    return width * height * steps * count


@router.post("/generate", status_code=202, responses=_JOB_ANSWERS)
async def generate(
    body: GenerateRequest, principal: CurrentPrincipal, ingress: Ingress, response: Response
) -> JobOut:
    """A portrait, scene, item or token. Small requests answer 201 with the image; larger
    ones 202 with a job. A repeated identical request (model, prompt, seed, parameters)
    answers the stored image without running the pipeline."""
    access = await ingress.access(principal, body.campaign_id)
    job = await ingress.images.run(
        principal, lambda s: s.with_access(access).submit_generate(body)
    )
    limits = ingress.config.limits
    work = _work(body.width or limits.default_size, body.height or limits.default_size,
                 body.steps or limits.default_steps)
    return await _answer(ingress, principal, job, body.mode, work, response)


@router.post("/modify", status_code=202, responses=_JOB_ANSWERS)
async def modify(
    body: ModifyRequest, principal: CurrentPrincipal, ingress: Ingress, response: Response
) -> JobOut:
    """img2img (with `strength`), inpaint (with a `mask` the source's size), variations
    (`count` new versions) or upscale (Lanczos, optionally refined by the model). The
    results are new versions of the source asset."""
    campaign_id = body.campaign_id
    if body.source_version_id is not None:
        campaign_id = await ingress.images.run(
            principal,
            lambda s: AssetService.campaign_of(s.session, version_id=body.source_version_id),
        )
    access = await ingress.access(principal, campaign_id)
    job = await ingress.images.run(principal, lambda s: s.with_access(access).submit_modify(body))
    work = job.steps * ingress.config.limits.default_size**2
    return await _answer(ingress, principal, job, body.mode, work, response)


@router.post(
    "/generate/map",
    status_code=201,
    responses={
        200: {"model": MapJobOut, "description": "An identical request's stored map."},
        201: {"model": MapJobOut, "description": "The map (and its restyle, done)."},
        202: {"model": MapJobOut, "description": "The map; its restyle is queued."},
        404: {"description": "`not_found`: the campaign is not one you belong to"},
    },
)
async def generate_map(
    body: MapGenerateRequest, principal: CurrentPrincipal, ingress: Ingress, response: Response
) -> MapJobOut:
    """A battle map from the procedural generator (the assets application makes and stores
    its PNG, JSON layout and .dd2vtt). With `restyle`, the diffusion model repaints the PNG
    (img2img at a low strength, at the map's exact size) as a new version of the map's image
    asset; the layout and .dd2vtt stay the generator's. Meaningful with a real model: the
    default tiny one paints test patterns."""
    access = await ingress.access(principal, body.campaign_id)
    if body.restyle is not None:  # refused before anything is stored
        await ingress.images.run(principal, lambda s: s.with_access(access).check_restyle(body))
    made = await ingress.asset_calls().generate_map(principal, body.map_create())
    response.status_code = 200 if made.cached else 201
    if body.restyle is None:
        return MapJobOut(map=made)
    job = await ingress.images.run(
        principal, lambda s: s.with_access(access).submit_restyle(body, made)
    )
    work = job.steps * (made.image.meta.width or 0) * (made.image.meta.height or 0)
    job = await _answer(ingress, principal, job, body.mode, work, response)
    return MapJobOut(map=made, restyle=job)


@router.post(
    "/{asset_id}/regenerate",
    status_code=202,
    responses={**_JOB_ANSWERS, 409: {"description": "`image_not_flagged`"}},
)
async def regenerate(
    asset_id: AssetId,
    principal: CurrentPrincipal,
    ingress: Ingress,
    response: Response,
    body: RegenerateRequest | None = None,
) -> JobOut:
    """Another take at a flagged image (its style score is below the threshold): other
    seeds, up to `tries`; the first that passes (else the best) is a new version of the
    asset, its parent the flagged one."""
    body = body or RegenerateRequest()
    campaign_id = await ingress.images.run(
        principal, lambda s: AssetService.campaign_of(s.session, asset_id=asset_id)
    )
    access = await ingress.access(principal, campaign_id)
    job = await ingress.images.run(
        principal, lambda s: s.with_access(access).submit_regenerate(asset_id, body)
    )
    work = job.steps * ingress.config.limits.default_size**2 * body.tries
    return await _answer(ingress, principal, job, body.mode, work, response)


_NO_CAMPAIGN = {404: {"description": "`not_found`: the campaign is not one you belong to"}}


@router.get("/styles", responses=_NO_CAMPAIGN)
async def list_styles(
    principal: CurrentPrincipal, ingress: Ingress, campaign_id: CampaignId = None
) -> StyleList:
    """The built-in styles, and with `campaign_id` the campaign's own presets."""
    access = await ingress.access(principal, campaign_id)
    items = await ingress.images.run(principal, lambda s: Styles(s.session).list(access))
    return StyleList(items=items)


@router.post(
    "/styles",
    status_code=201,
    responses={**_NO_CAMPAIGN, 409: {"description": "`style_exists`: the campaign has it"}},
)
async def create_style(
    body: StylePresetIn,
    principal: CurrentPrincipal,
    ingress: Ingress,
    campaign_id: Annotated[int, Query(ge=1, le=MAX_ID)],
) -> StylePresetOut:
    """A campaign style preset (the campaign's DMs only). Its reference images, if any,
    seed the style's centroid for the consistency score."""
    access = await ingress.access(principal, campaign_id)
    assert access is not None
    return await ingress.images.run(
        principal, lambda s: s.with_access(access).create_style(body)
    )


@router.get("/jobs")
async def list_jobs(
    principal: CurrentPrincipal,
    ingress: Ingress,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    state: JobState | None = None,
) -> JobPage:
    """Your jobs, newest first."""
    return await ingress.images.run(principal, lambda s: s.list_jobs(limit, state))


@router.get("/jobs/{job_id}")
async def get_job(job_id: JobId, principal: CurrentPrincipal, ingress: Ingress) -> JobOut:
    """State, step progress (`step` of `steps`), attempts, error, and the images."""
    return await ingress.images.run(principal, lambda s: s.job(job_id))


@router.post(
    "/jobs/{job_id}/cancel",
    responses={409: {"description": "`job_finished`: only queued or running jobs cancel"}},
)
async def cancel_job(job_id: JobId, principal: CurrentPrincipal, ingress: Ingress) -> JobOut:
    """A queued job is cancelled at once; a running one at its next progress report."""
    return await ingress.images.run(principal, lambda s: s.cancel(job_id))


@router.get(
    "/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "`job` events (a JobOut each) until the job ends."}},
)
async def job_events(job_id: JobId, principal: CurrentPrincipal, ingress: Ingress) -> Any:
    """The job's state live, as server-sent events: one `job` event each time its state or
    step changes, the last one when it has ended."""
    first = await ingress.images.run(principal, lambda s: s.job(job_id))  # 404 before 200
    return StreamingResponse(
        _events(ingress, principal, first),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(ingress: ImagesIngress, principal: Principal, job: JobOut) -> AsyncIterator[str]:
    last = None
    interval = ingress.config.worker.progress_interval_s / 2
    while True:
        seen = (job.state, job.step, job.attempts)
        if seen != last:
            last = seen
            yield f"event: job\nid: {job.step}\ndata: {json.dumps(job.model_dump(mode='json'))}\n\n"
        if job.state in FINAL:
            return
        await asyncio.sleep(interval)
        job = await ingress.images.run(principal, lambda s, j=job.id: s.job(j))
