"""The generation pipeline of every domain endpoint: quotas, the campaign's context as the
user may see it, a prompt that fits the window, the model (through LLMCalls, with the
response cache), validation with a bounded number of regenerations, the record of the output
and its token accounting. Also the reads of that record, with the DM rights the campaigns
service grants."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from cluster.rate_limit import RateLimiter
from cluster.response_cache import ResponseCache, cache_key
from cluster.token_usage import (
    Spend,
    TokenLedger,
    TokenMetrics,
    TokenQuota,
    admit,
    admit_campaign,
    held,
)
from deployments.calls.campaigns import CampaignCalls
from deployments.calls.llm import Generation, GenerationParams, LLMCalls, ModelInfo, Usage
from deployments.common.runner import ServiceRunner
from domain.campaigns.access import CampaignAccess
from domain.campaigns.content import CONTENT_TYPES, NPC, Content, Location
from domain.campaigns.context import CampaignContext
from domain.errors import DomainError, Forbidden, InvalidRequest, NotFound
from domain.generation import context as context_manager
from domain.generation import prompts
from domain.generation.schemas import (
    CampaignQuotaOut,
    CampaignScoped,
    ContentRequest,
    ContextReport,
    GenerationOut,
    ModifyRequest,
    RegenerateRequest,
    Sampling,
    StoryRequest,
    ThemeAnalysis,
    ThemeRequest,
    ThemeVerdict,
)
from domain.generation.service import GenerationService, NewGeneration
from domain.generation.validation import (
    CanonConflict,
    Violation,
    check_content,
    check_text,
    dead_npcs,
    find_terms,
    parse_content,
    until_valid,
)
from domain.users.schemas import Principal

# A base model rambles on past what was asked (into another heading, another passage):
# an answer ends at its first blank line, a line of dialogue at its closing quote.
STOP = {"dialogue": ['"', "\n\n"], "default": ["\n\n", "\nTask:"]}
_MARGIN = 8  # tokens kept free for the model's own special tokens
R = TypeVar("R")


@dataclass(frozen=True)
class Limits:
    attempts: int  # the regeneration budget
    context_tokens: int  # the most the campaign notes may take
    field_chars: int  # maxLength given to the model for each text field of a schema
    policy: tuple[str, ...]  # the content policy's denylist
    quota: TokenQuota
    campaign_tokens_per_day: int | None = None  # every campaign's default budget


@dataclass
class _Prepared:
    ctx: CampaignContext
    access: CampaignAccess
    info: ModelInfo
    budget: int | None  # the campaign's daily tokens
    prompt: str
    report: ContextReport | None


class Generator:
    def __init__(
        self,
        llm: Callable[[], LLMCalls],
        campaigns: Callable[[], CampaignCalls],
        store: ServiceRunner[GenerationService],
        cache: ResponseCache,
        ledger: TokenLedger,
        limiter: RateLimiter,
        metrics: TokenMetrics,
        limits: Limits,
    ):
        self._llm, self._campaigns = llm, campaigns
        self.store, self.cache, self.ledger, self.limiter = store, cache, ledger, limiter
        self.metrics, self.limits = metrics, limits
        self._info: tuple[float, ModelInfo] | None = None

    # --- endpoints --------------------------------------------------------------------------

    async def story(
        self, principal: Principal, req: StoryRequest, parent_id: int | None = None
    ) -> GenerationOut:
        prep = await self._prepare_story(principal, req)
        params = _params(req, STOP["dialogue" if req.kind == "dialogue" else "default"])

        def check(gen: tuple[Generation, bool]) -> list[Violation]:
            return check_text(gen[0].text, prep.ctx, self.limits.policy)

        (gen, cached), attempts = await until_valid(
            lambda n: self._complete(principal, req.campaign_id, prep, _retry(params, n), n),
            check,
            self.limits.attempts,
        )
        return await self._record(
            principal, req, req.kind, prep, gen, params, parent_id, cached=cached, attempts=attempts
        )

    async def stream_story(self, principal: Principal, req: StoryRequest) -> AsyncIterator[str]:
        """Everything that can fail on the request fails here, before the first event; the
        events follow: `token`, `discard` (an attempt failed the checks: drop its tokens),
        and `done` (the stored output) or `error` (a problem document)."""
        prep = await self._prepare_story(principal, req)
        params = _params(req, STOP["dialogue" if req.kind == "dialogue" else "default"])
        return self._stream_events(principal, req, prep, params)

    async def _stream_events(
        self, principal: Principal, req: StoryRequest, prep: _Prepared, params: GenerationParams
    ) -> AsyncIterator[str]:
        for n in range(self.limits.attempts):
            attempt = _retry(params, n)
            # A deterministic answer is cached as its pieces, under a key of its own (the
            # non-streamed answer keeps its text only), and replayed event for event.
            key = (
                cache_key(prep.info.name, prep.prompt, {**attempt.model_dump(), "stream": True})
                if _deterministic(attempt)
                else None
            )
            hit = await self.cache.get(key) if key else None
            pieces: list[str] = []
            if hit is not None:
                replay = _Replay.model_validate_json(hit)
                for text in replay.pieces:
                    pieces.append(text)
                    yield _event("token", {"text": text})
                usage = _no_usage()
            else:
                usage = None
                try:
                    async with self._held(principal, req.campaign_id, prep, attempt, n) as spend:
                        stream = self._llm().stream_complete(principal, prep.prompt, attempt)
                        try:
                            async for chunk in stream:
                                if text := clean(chunk.text):
                                    pieces.append(text)
                                    yield _event("token", {"text": text})
                                if chunk.usage:  # on every chunk: so far
                                    usage = chunk.usage
                                    self._used(spend, prep.info.name, usage)
                        finally:
                            await stream.aclose()  # type: ignore[attr-defined]  # frees it
                except DomainError as exc:  # the engine's, or a quota spent meanwhile
                    yield _event("error", _problem(exc))
                    return
                # Only here does an answer count as complete: a client that left, or an
                # engine error, ended the generator above.
                if key:
                    await self.cache.put(key, _Replay(pieces=pieces).model_dump_json())
            gen = Generation(
                text="".join(pieces),
                finish_reason=None,
                usage=usage or _no_usage(),
                model=prep.info.name,
            )
            cached = hit is not None
            violations = check_text(gen.text, prep.ctx, self.limits.policy)
            if not violations:
                out = await self._record(
                    principal, req, req.kind, prep, gen, params, None, cached=cached, attempts=n + 1
                )
                yield _event("done", out.model_dump(mode="json"))
                return
            yield _event(
                "discard", {"attempt": n + 1, "errors": [v.as_error() for v in violations]}
            )
        yield _event(
            "error",
            {
                "status": 422,
                "code": "content_rejected",
                "detail": f"Every one of {self.limits.attempts} attempts broke the campaign's "
                "rules; change the instructions and try again.",
            },
        )

    async def content(
        self, principal: Principal, kind: str, req: ContentRequest, parent_id: int | None = None
    ) -> GenerationOut:
        schema = CONTENT_TYPES[kind]
        if req.save and kind not in ("npc", "location"):
            raise InvalidRequest(
                f"Only NPCs and locations can be saved, not {kind}s.", code="not_saveable"
            )
        ctx, access, info, budget = await self._campaign(principal, req)
        if req.save and not access.is_dm:
            raise Forbidden("Only the campaign's DMs may save generated content into it.")
        notes, report = await self._notes(
            ctx,
            access,
            info,
            req,
            "",
            req.instructions,
            prompts.content(ctx, "", kind, req.instructions),
        )
        prep = _Prepared(
            ctx, access, info, budget, prompts.content(ctx, notes, kind, req.instructions), report
        )
        json_schema = generation_schema(schema, self.limits.field_chars)
        params = _params(req, [], json_schema)

        def check(gen: tuple[Generation, bool]) -> list[Violation]:
            item, violations = parse_content(gen[0].text, schema)
            return violations or check_content(item, ctx, self.limits.policy)  # type: ignore[arg-type]

        (gen, cached), attempts = await until_valid(
            lambda n: self._complete(principal, req.campaign_id, prep, _retry(params, n), n),
            check,
            self.limits.attempts,
        )
        item, _ = parse_content(gen.text, schema)
        gen = gen.model_copy(update={"text": item.model_dump_json()})  # type: ignore[union-attr]
        saved = await self._save(principal, req, item) if req.save else None  # type: ignore[arg-type]
        return await self._record(
            principal,
            req,
            kind,
            prep,
            gen,
            params,
            parent_id,
            cached=cached,
            attempts=attempts,
            saved_id=saved,
        )

    async def analyze_theme(self, principal: Principal, req: ThemeRequest) -> ThemeAnalysis:
        scope = CampaignScoped(
            campaign_id=req.campaign_id, max_tokens=120, temperature=0, seed=req.seed
        )
        ctx, access, info, budget = await self._campaign(principal, scope)
        prompt = prompts.theme_check(ctx, req.text)
        await self._fits(prompt, scope.max_tokens, info)
        prep = _Prepared(ctx, access, info, budget, prompt, None)
        verdict_schema = generation_schema(ThemeVerdict, self.limits.field_chars)
        params = _params(scope, [], verdict_schema)

        def check(gen: tuple[Generation, bool]) -> list[Violation]:
            return parse_content(gen[0].text, ThemeVerdict)[1]

        (gen, cached), attempts = await until_valid(
            lambda n: self._complete(principal, req.campaign_id, prep, _retry(params, n), n),
            check,
            self.limits.attempts,
        )
        verdict, _ = parse_content(gen.text, ThemeVerdict)
        assert isinstance(verdict, ThemeVerdict)
        forbidden = find_terms(req.text, ctx.theme.forbids)
        score, reasons = verdict.score, list(verdict.reasons)
        if forbidden:  # what the theme forbids decides, whatever the model thought
            score = min(score, 0.2)
            reasons.insert(0, "It has what the theme forbids: " + ", ".join(forbidden) + ".")
        result = {"score": score, "reasons": reasons, "forbidden": forbidden}
        gen = gen.model_copy(update={"text": json.dumps(result)})
        out = await self._record(
            principal,
            scope,
            "theme",
            prep,
            gen,
            params,
            None,
            cached=cached,
            attempts=attempts,
            request=req.model_dump(mode="json"),
        )
        return ThemeAnalysis(**result, generation_id=out.id)

    async def modify(
        self, principal: Principal, req: ModifyRequest, parent_id: int | None = None
    ) -> GenerationOut:
        ctx, access, info, budget = await self._campaign(principal, req)
        prompt = prompts.modify(
            ctx,
            req.text,
            theme=req.theme,
            tone=req.tone,
            reading_level=req.reading_level,
            length=req.length,
        )
        await self._fits(prompt, req.max_tokens, info)
        prep = _Prepared(ctx, access, info, budget, prompt, None)
        params = _params(req, STOP["default"])

        def check(gen: tuple[Generation, bool]) -> list[Violation]:
            return check_text(gen[0].text, ctx, self.limits.policy)

        (gen, cached), attempts = await until_valid(
            lambda n: self._complete(principal, req.campaign_id, prep, _retry(params, n), n),
            check,
            self.limits.attempts,
        )
        return await self._record(
            principal, req, "modify", prep, gen, params, parent_id, cached=cached, attempts=attempts
        )

    async def regenerate(
        self, principal: Principal, generation_id: int, req: RegenerateRequest
    ) -> GenerationOut:
        old = await self.records(
            principal, lambda s: s.get(generation_id, to_write=True), ids=(generation_id,)
        )
        body = dict(old.params.get("request") or {})
        body["seed"] = req.seed if req.seed is not None else random.randrange(2**31)
        if req.temperature is not None:
            body["temperature"] = req.temperature
        if old.kind in prompts.STORY_TASKS:
            return await self.story(principal, StoryRequest.model_validate(body), old.id)
        if old.kind in CONTENT_TYPES:
            body["save"] = False  # a regeneration is a draft: save it explicitly
            request = ContentRequest.model_validate(body)
            return await self.content(principal, old.kind, request, old.id)
        if old.kind == "modify":
            return await self.modify(principal, ModifyRequest.model_validate(body), old.id)
        raise InvalidRequest(
            f"A {old.kind} output cannot be regenerated; ask again instead.",
            code="not_regeneratable",
        )

    async def usage(
        self, principal: Principal, everyone: bool, campaign_id: int | None = None
    ) -> dict[str, Any]:
        if everyone and principal.role != "admin":
            raise Forbidden("Only admins see everyone's token use.")
        rows = await self.ledger.rows(None if everyone else principal.user_id)
        return {
            "rows": [r.model_dump() | {"total_tokens": r.total_tokens} for r in rows],
            "used_today": await self.ledger.used_today(principal.user_id),
            "tokens_per_day": self.limits.quota.tokens_per_day,
            "cache": await self.cache.stats() if principal.role == "admin" else None,
            "campaign": None
            if campaign_id is None
            else await self.campaign_quota(principal, campaign_id),
        }

    # --- the record of outputs, and campaign budgets ---------------------------------------

    async def records(
        self,
        principal: Principal,
        call: Callable[[GenerationService], R],
        *,
        campaign_id: int | None = None,
        ids: Collection[int] = (),
    ) -> R:
        """`call` on the record of outputs, with the caller's DM rights in the campaigns the
        request involves: `campaign_id` (a list's filter) and those of the outputs `ids` that
        are someone else's. Asked of the campaigns service only for those: reading one's own
        outputs costs no call."""
        involved = set() if campaign_id is None else {campaign_id}
        if ids:
            involved |= await self.store.run(principal, lambda s: s.foreign_campaigns(ids))
        dm_of = await self._dm_of(principal, involved) if principal.role != "admin" else set()
        return await self.store.run(principal, lambda s: call(s.as_dm_of(frozenset(dm_of))))

    async def campaign_quota(self, principal: Principal, campaign_id: int) -> CampaignQuotaOut:
        """The campaign's budget and use today, for its members (404 for anyone else)."""
        await self._campaigns().access(principal, campaign_id)
        own = await self.store.run(principal, lambda s: s.campaign_quota(campaign_id))
        return CampaignQuotaOut(
            campaign_id=campaign_id,
            tokens_per_day=self._campaign_budget(own),
            campaign_tokens_per_day=own,
            default_tokens_per_day=self.limits.campaign_tokens_per_day,
            used_today=await self.ledger.campaign_used_today(campaign_id),
        )

    async def set_campaign_quota(
        self, principal: Principal, campaign_id: int, tokens_per_day: int | None
    ) -> CampaignQuotaOut:
        """A DM sets (None: removes) the campaign's own budget; 404 for non-members, 403
        for its players."""
        dm_of = await self._dm_of(principal, {campaign_id}, strict=True)
        await self.store.run(
            principal,
            lambda s: s.as_dm_of(frozenset(dm_of)).set_campaign_quota(campaign_id, tokens_per_day),
        )
        return await self.campaign_quota(principal, campaign_id)

    async def _dm_of(
        self, principal: Principal, campaign_ids: set[int], *, strict: bool = False
    ) -> set[int]:
        """Those of `campaign_ids` the caller DMs; one where they are no member counts as
        none (`strict`: is the 404 it is)."""

        async def is_dm(campaign_id: int) -> bool:
            try:
                return (await self._campaigns().access(principal, campaign_id)).is_dm
            except NotFound:
                if strict:
                    raise
                return False

        ids = sorted(campaign_ids)
        return {c for c, dm in zip(ids, await asyncio.gather(*map(is_dm, ids)), strict=True) if dm}

    def _campaign_budget(self, own: int | None) -> int | None:
        """A DM may lower the default budget, not raise it above the operator's."""
        budgets = [b for b in (own, self.limits.campaign_tokens_per_day) if b is not None]
        return min(budgets) if budgets else None

    # --- the steps --------------------------------------------------------------------------

    async def _prepare_story(self, principal: Principal, req: StoryRequest) -> _Prepared:
        ctx, access, info, budget = await self._campaign(principal, req)
        if req.kind == "dialogue":
            if not req.speaker:
                raise InvalidRequest(
                    "A dialogue needs a `speaker`: the NPC who speaks.", code="speaker_required"
                )
            dead = {n.name.lower() for n in dead_npcs(ctx)}
            if req.speaker.strip().lower() in dead:
                raise CanonConflict(
                    f"{req.speaker} is dead in this campaign and cannot speak; "
                    "pick another speaker."
                )
        empty = prompts.story(ctx, "", req.kind, req.instructions, req.speaker)
        notes, report = await self._notes(
            ctx, access, info, req, req.speaker or "", req.instructions, empty
        )
        prompt = prompts.story(ctx, notes, req.kind, req.instructions, req.speaker)
        return _Prepared(ctx, access, info, budget, prompt, report)

    async def _campaign(
        self, principal: Principal, req: CampaignScoped
    ) -> tuple[CampaignContext, CampaignAccess, ModelInfo, int | None]:
        await admit(self.ledger, self.limiter, self.limits.quota, principal.user_id)
        campaigns = self._campaigns()
        # The campaign first: an unknown one is a 404 even while the engine is away.
        access, ctx = await asyncio.gather(
            campaigns.access(principal, req.campaign_id),
            campaigns.context(
                principal, req.campaign_id, req.chapter_id, req.character_ids or None
            ),
        )
        # After `access`: only members learn of the campaign's budget.
        own = await self.store.run(principal, lambda s: s.campaign_quota(req.campaign_id))
        budget = self._campaign_budget(own)
        await admit_campaign(self.ledger, req.campaign_id, budget)
        info = await self.model_info()
        if req.max_tokens >= info.max_model_len - _MARGIN:
            raise InvalidRequest(
                f"max_tokens {req.max_tokens} leaves no room for a prompt in the model's "
                f"window of {info.max_model_len} tokens; ask for fewer.",
                code="max_tokens_too_large",
            )
        return ctx, access, info, budget

    async def _notes(
        self,
        ctx: CampaignContext,
        access: CampaignAccess,
        info: ModelInfo,
        req: Sampling,
        speaker: str,
        focus_text: str,
        empty_prompt: str,
    ) -> tuple[str, ContextReport]:
        """The campaign notes that fit what the window leaves after the prompt's fixed part
        and the answer."""
        fixed = await self._fits(empty_prompt, req.max_tokens, info)
        budget = min(self.limits.context_tokens, info.max_model_len - req.max_tokens - fixed)
        items = [*ctx.items, *ctx.characters, *ctx.recent_events]
        if ctx.chapter:
            items.append(ctx.chapter)
        texts = [context_manager.line(i) + "\n" for i in items]
        texts += [f"{title}:\n" for _, title in context_manager.SECTIONS]
        counts = dict(zip(texts, await self._llm().count_tokens(texts), strict=True))
        focus = context_manager.Focus(
            text=focus_text, character_ids=getattr(req, "character_ids", []), speaker=speaker
        )
        done = context_manager.assemble(
            ctx,
            lambda s: counts.get(s, len(s) // 3 + 1),
            max(0, budget - 4),
            focus=focus,
            may_see=access.can_see,
        )
        report = ContextReport(
            included=done.included,
            left_out=done.left_out,
            tokens=done.tokens,
            budget=max(0, budget),
        )
        return done.text, report

    async def _fits(self, prompt: str, max_tokens: int, info: ModelInfo) -> int:
        """The prompt's tokens; 422 `prompt_too_long` if the answer cannot follow it."""
        (tokens,) = await self._llm().count_tokens([prompt])
        if tokens + max_tokens + _MARGIN > info.max_model_len:
            raise InvalidRequest(
                f"The prompt takes {tokens} tokens and the answer up to {max_tokens}: more "
                f"than the model's window of {info.max_model_len}. Shorten the text or the "
                "campaign's style examples, or lower max_tokens.",
                code="prompt_too_long",
            )
        return tokens

    async def model_info(self) -> ModelInfo:
        # Asked once a minute: a redeployed LLM application may serve another model.
        if self._info is None or time.monotonic() - self._info[0] > 60:
            self._info = (time.monotonic(), await self._llm().model_info())
        return self._info[1]

    async def _complete(
        self,
        principal: Principal,
        campaign_id: int,
        prep: _Prepared,
        params: GenerationParams,
        attempt: int,
    ) -> tuple[Generation, bool]:
        deterministic = _deterministic(params)
        key = cache_key(prep.info.name, prep.prompt, params.model_dump())
        if deterministic and (hit := await self.cache.get(key)):
            return Generation.model_validate_json(hit), True
        async with self._held(principal, campaign_id, prep, params, attempt) as spend:
            gen = await self._llm().complete(principal, prep.prompt, params)
            self._used(spend, gen.model, gen.usage)
        gen.text = clean(gen.text)
        if deterministic:
            await self.cache.put(key, gen.model_dump_json())
        return gen, False

    def _held(
        self,
        principal: Principal,
        campaign_id: int,
        prep: _Prepared,
        params: GenerationParams,
        attempt: int,
    ) -> AbstractAsyncContextManager[Spend]:
        """An attempt's max_tokens held against today's quotas while it runs. The request's
        first attempt is checked against them (429 if another request spent them since it
        was admitted); its regenerations came with it."""
        first = attempt == 0
        return held(
            self.ledger,
            principal.user_id,
            campaign_id,
            params.max_tokens,
            self.limits.quota.tokens_per_day if first else None,
            prep.budget if first else None,
            self.metrics,
        )

    @staticmethod
    def _used(spend: Spend, model: str, usage: Usage) -> None:
        spend.used(model, usage.prompt_tokens, usage.completion_tokens)

    async def _save(self, principal: Principal, req: ContentRequest, item: Content) -> int:
        campaigns = self._campaigns()
        if isinstance(item, NPC):
            return await campaigns.save_npc(principal, req.campaign_id, item, req.visibility)
        assert isinstance(item, Location)
        return await campaigns.save_location(principal, req.campaign_id, item, req.visibility)

    async def _record(
        self,
        principal: Principal,
        req: CampaignScoped,
        kind: str,
        prep: _Prepared,
        gen: Generation,
        params: GenerationParams,
        parent_id: int | None,
        *,
        cached: bool,
        attempts: int,
        saved_id: int | None = None,
        request: dict[str, Any] | None = None,
    ) -> GenerationOut:
        stored = params.model_dump(exclude={"json_schema"})
        stored["request"] = request or req.model_dump(mode="json")
        new = NewGeneration(
            kind=kind,
            prompt=prep.prompt,
            model=gen.model or prep.info.name,
            params=stored,
            output=gen.text,
            prompt_tokens=0 if cached else gen.usage.prompt_tokens,
            completion_tokens=0 if cached else gen.usage.completion_tokens,
            campaign_id=req.campaign_id,
            chapter_id=req.chapter_id,
            character_id=req.character_ids[0] if len(req.character_ids) == 1 else None,
            extra={
                "cached": cached,
                "attempts": attempts,
                "context": prep.report,
                "saved_id": saved_id,
            },
        )
        return await self.store.run(principal, lambda s: s.record(new, parent_id))


def clean(text: str) -> str:
    """A model can write NUL, which no PostgreSQL text holds and no reader wants."""
    return text.replace("\x00", "")


def generation_schema(model: type[BaseModel], field_chars: int) -> dict[str, Any]:
    """The model's JSON schema for the engine: every string capped at `field_chars` and every
    list at 5 items, so that an answer fits max_tokens; string patterns left out (xgrammar
    takes few regex features: the model's own validation checks them, and a miss is
    regenerated)."""

    def cap(node: Any) -> Any:
        if isinstance(node, dict):
            node = {k: cap(v) for k, v in node.items() if k != "pattern"}
            if node.get("type") == "string" and "enum" not in node:
                node["maxLength"] = min(node.get("maxLength", field_chars), field_chars)
            if node.get("type") == "array":
                node["maxItems"] = min(node.get("maxItems", 5), 5)
            return node
        if isinstance(node, list):
            return [cap(v) for v in node]
        return node

    return cap(model.model_json_schema())


def _params(
    req: Sampling, stop: list[str], json_schema: dict[str, Any] | None = None
) -> GenerationParams:
    return GenerationParams(
        max_tokens=req.max_tokens,
        temperature=req.temperature,
        top_p=req.top_p,
        seed=req.seed,
        stop=stop,
        json_schema=json_schema,
    )


def _retry(params: GenerationParams, attempt: int) -> GenerationParams:
    """Attempt `attempt`'s parameters: another seed, and some randomness even for a greedy
    request (greedy decoding would only repeat the rejected answer)."""
    if attempt == 0:
        return params
    seed = (params.seed if params.seed is not None else random.randrange(2**31)) + attempt
    return params.model_copy(update={"seed": seed, "temperature": max(params.temperature, 0.7)})


class _Replay(BaseModel):
    """A streamed answer in the cache: its token events' texts."""

    pieces: list[str]


def _deterministic(params: GenerationParams) -> bool:
    return params.temperature == 0 or params.seed is not None


def _no_usage() -> Usage:
    return Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0)


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


def _problem(exc: DomainError) -> dict[str, Any]:
    return {"status": exc.status, "code": exc.code, "detail": exc.detail, "errors": exc.errors}
