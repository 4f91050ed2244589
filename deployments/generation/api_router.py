"""HTTP for generation: parse, authenticate, hand over to the Generator, shape the reply."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from deployments.generation.generator import Generator
from deployments.http.auth import CurrentPrincipal
from domain.generation.schemas import (
    CampaignQuotaIn,
    CampaignQuotaOut,
    Comparison,
    ContentKind,
    ContentRequest,
    GenerationDetail,
    GenerationOut,
    GenerationPage,
    ModifyRequest,
    RegenerateRequest,
    StoryRequest,
    ThemeAnalysis,
    ThemeRequest,
    UsageOut,
)

PREFIX = "/api/v2/llm"
router = APIRouter(prefix=PREFIX, tags=["generation"])
GenerationId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CampaignId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_GENERATES: dict[int | str, dict[str, Any]] = {
    400: {"description": "`generation_rejected`: the engine refused the request as given"},
    404: {"description": "`not_found`: no such campaign, or not yours"},
    422: {
        "description": "`validation_error`; `content_rejected` (every attempt failed the "
        "theme, policy or canon checks: see errors); `canon_conflict`; `prompt_too_long`; "
        "`max_tokens_too_large`"
    },
    429: {
        "description": "`rate_limited`, `token_quota_exceeded`, "
        "`campaign_token_quota_exceeded`: retry after Retry-After"
    },
    503: {"description": "`engine_unavailable`, `replica_unavailable`: retry after Retry-After"},
}
_SSE = {200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"}}


def _generator(request: Request) -> Generator:
    return request.app.state.generator


Gen = Annotated[Generator, Depends(_generator)]


class _Stream(StreamingResponse):
    """Closes the event stream however the response ends: a client that goes away frees
    its sequence in the engine at once."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()  # type: ignore[union-attr]


@router.post("/generate/story", responses=_GENERATES)
async def generate_story(
    body: StoryRequest, principal: CurrentPrincipal, gen: Gen
) -> GenerationOut:
    """A story beat, scene description, line of NPC dialogue or chapter recap, from the
    campaign's context as you may see it, in its voice; `context` says what the prompt held
    and what did not fit the window."""
    return await gen.story(principal, body)


@router.post(
    "/generate/story/stream", responses={**_GENERATES, **_SSE}, response_class=StreamingResponse
)
async def stream_story(body: StoryRequest, principal: CurrentPrincipal, gen: Gen) -> Any:
    """The same, streamed as server-sent events: `token` {text}; `discard` {attempt,
    errors} when an attempt failed the checks (drop its tokens: another follows); then `done`
    (the stored output) or `error` (a problem document). A seeded or temperature-0 answer
    that streamed to its end is cached: asked again, it is replayed event for event without
    the engine (`cached` in `done`)."""
    events = await gen.stream_story(principal, body)
    return _Stream(events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


@router.post("/generate/{kind}", responses=_GENERATES)
async def generate_content(
    kind: ContentKind, body: ContentRequest, principal: CurrentPrincipal, gen: Gen
) -> GenerationOut:
    """An NPC, location, plot hook, encounter or magic item as JSON valid against its
    schema (`content`), by structured decoding. With `save` (DMs), an NPC or location is
    also stored in the campaign (`saved_id`)."""
    return await gen.content(principal, kind, body)


@router.post("/analyze/theme", responses=_GENERATES)
async def analyze_theme(body: ThemeRequest, principal: CurrentPrincipal, gen: Gen) -> ThemeAnalysis:
    """How well a text fits the campaign's theme: a score from 0 to 1 with reasons; what
    the theme forbids caps the score at 0.2."""
    return await gen.analyze_theme(principal, body)


@router.post("/modify/content", responses=_GENERATES)
async def modify_content(
    body: ModifyRequest, principal: CurrentPrincipal, gen: Gen
) -> GenerationOut:
    """Rewrite a text toward a theme, tone, reading level or length."""
    return await gen.modify(principal, body)


@router.get("/generations")
async def list_generations(
    principal: CurrentPrincipal,
    gen: Gen,
    campaign_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    kind: Annotated[str | None, Query(max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> GenerationPage:
    """Your outputs, newest first (an admin sees everyone's); with `campaign_id` of a
    campaign you DM, every member's outputs for it."""
    return await gen.records(
        principal,
        lambda s: s.list(campaign_id=campaign_id, kind=kind, limit=limit, offset=offset),
        campaign_id=campaign_id,
    )


@router.get("/generations/{generation_id}")
async def get_generation(
    generation_id: GenerationId, principal: CurrentPrincipal, gen: Gen
) -> GenerationDetail:
    """One output with the prompt that made it: yours, or one for a campaign you DM."""
    return await gen.records(principal, lambda s: s.get(generation_id), ids=(generation_id,))


@router.get("/generations/{generation_id}/versions")
async def list_versions(
    generation_id: GenerationId, principal: CurrentPrincipal, gen: Gen
) -> list[GenerationOut]:
    """Every version of the output's lineage, oldest first."""
    return await gen.records(principal, lambda s: s.versions(generation_id), ids=(generation_id,))


@router.post("/generations/{generation_id}/regenerate", status_code=201, responses=_GENERATES)
async def regenerate(
    generation_id: GenerationId,
    principal: CurrentPrincipal,
    gen: Gen,
    body: RegenerateRequest | None = None,
) -> GenerationOut:
    """The same request again (another seed unless given): the next version of its lineage.
    Yours only (403 `forbidden` for a DM's read-only view of a player's)."""
    return await gen.regenerate(principal, generation_id, body or RegenerateRequest())


@router.get("/generations/{generation_id}/compare/{other_id}")
async def compare(
    generation_id: GenerationId, other_id: GenerationId, principal: CurrentPrincipal, gen: Gen
) -> Comparison:
    """A unified diff of two outputs and the parameters that differ."""
    return await gen.records(
        principal, lambda s: s.compare(generation_id, other_id), ids=(generation_id, other_id)
    )


@router.post("/generations/{generation_id}/restore", status_code=201)
async def restore(
    generation_id: GenerationId, principal: CurrentPrincipal, gen: Gen
) -> GenerationOut:
    """Make this output the lineage's newest version again (a new version, no tokens).
    Yours only (403 `forbidden` for a DM's read-only view of a player's)."""
    return await gen.records(principal, lambda s: s.restore(generation_id), ids=(generation_id,))


@router.get("/campaigns/{campaign_id}/quota")
async def campaign_quota(
    campaign_id: CampaignId, principal: CurrentPrincipal, gen: Gen
) -> CampaignQuotaOut:
    """The campaign's daily token budget and what its members used today (members only)."""
    return await gen.campaign_quota(principal, campaign_id)


@router.put("/campaigns/{campaign_id}/quota", responses={403: {}, 404: {}})
async def set_campaign_quota(
    campaign_id: CampaignId, body: CampaignQuotaIn, principal: CurrentPrincipal, gen: Gen
) -> CampaignQuotaOut:
    """Set the campaign's own daily token budget (its DMs only); `null` removes it. It
    can lower the application's default, not raise it."""
    return await gen.set_campaign_quota(principal, campaign_id, body.tokens_per_day)


@router.get("/usage", responses={404: {"description": "`not_found`: not a campaign of yours"}})
async def usage(
    principal: CurrentPrincipal,
    gen: Gen,
    everyone: Annotated[bool, Query(description="Every user's (admins only).")] = False,
    campaign_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="A campaign of yours: its budget.")
    ] = None,
) -> UsageOut:
    """Tokens used per campaign and model, today's total against your daily quota,
    (admins) the response cache's hits and misses, and with `campaign_id` that campaign's
    budget and use today."""
    return UsageOut.model_validate(await gen.usage(principal, everyone, campaign_id))
