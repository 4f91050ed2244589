"""The OpenAI-compatible routes, served from the engine's own replica (one hop): vLLM's
request and response models and serving classes, the platform's tokens and problem+json."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.types import Receive, Scope, Send
from vllm.entrypoints.generate.base.protocol import StreamOptions
from vllm.entrypoints.openai.chat_completion.protocol import (
    ChatCompletionRequest,
    ChatCompletionResponse,
)
from vllm.entrypoints.openai.completion.protocol import CompletionRequest, CompletionResponse
from vllm.entrypoints.serve.engine.protocol import ModelList
from vllm.entrypoints.serve.utils.api_utils import with_cancellation

from cluster.token_usage import TokenLedger, rate_limit
from deployments.http.auth import CurrentPrincipal
from deployments.llm.engine import Engine

PREFIX = "/v1"
router = APIRouter(tags=["llm"])
_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when `stream`"},
    400: {
        "description": "`generation_rejected`: the engine cannot take the request as given "
        "(prompt and max_tokens beyond the window, an invalid schema); "
        '`tool_choice_unsupported`: tool_choice "auto" where the model has no tool-call parser'
    },
    404: {"description": "`model_not_found`: `model` names no model served here"},
    429: {"description": "`rate_limited`, `token_quota_exceeded`: retry after Retry-After"},
    503: {"description": "`engine_unavailable`: stopped or overloaded; retry after Retry-After"},
}


def _engine(request: Request) -> Engine:
    return request.app.state.engine


EngineDep = Annotated[Engine, Depends(_engine)]


class _EngineStream(StreamingResponse):
    """Closes the engine's stream however the response ends, so a client that goes away
    mid-stream frees its sequence in the engine now, not when the generator is collected."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()  # type: ignore[union-attr]


class _Accounting:
    """Per-user rate limit and daily token quota before a request, its tokens held from then
    on (max_tokens for each of its `n` choices: concurrent requests see each other), and
    replaced by what it used when it ends. A stream reports its use on every chunk (vLLM's
    continuous usage, asked for here and kept from a client that did not ask), so a stream
    the client cuts short is counted up to where it stopped."""

    def __init__(self, request: Request, principal: CurrentPrincipal):
        self.state = request.app.state
        self.principal = principal
        self.held = 0
        self.usage_asked = self.continuous_asked = False  # what the client asked for

    @property
    def ledger(self) -> TokenLedger:
        return self.state.ledger

    async def admit(self, body: ChatCompletionRequest | CompletionRequest) -> None:
        user = self.principal.user_id
        await rate_limit(self.state.limiter, self.state.quota, user)
        window = self.state.engine.config.max_model_len
        most = getattr(body, "max_completion_tokens", None) or body.max_tokens or window
        # Bounded: a hostile max_tokens or n (refused by the engine later) must not overflow.
        held = max(1, min(most, window)) * min(max(body.n or 1, 1), 1024)
        await self.ledger.reserve(user, None, held, self.state.quota.tokens_per_day, None)
        self.held = held
        if body.stream:
            asked = body.stream_options
            self.usage_asked = bool(asked and asked.include_usage)
            self.continuous_asked = bool(asked and asked.continuous_usage_stats)
            body.stream_options = StreamOptions(include_usage=True, continuous_usage_stats=True)

    async def settle(self, model: str = "", prompt: int = 0, completion: int = 0) -> None:
        """The request's tokens in place of its hold (once; none: the hold goes)."""
        held, self.held = self.held, 0
        await self.ledger.record(
            self.principal.user_id, None, model, prompt, completion, reserved=held
        )
        if prompt or completion:
            self.state.metrics.count(model, prompt, completion)

    async def answer(self, call: Awaitable[Any]) -> Any:
        try:
            result = await call
        except BaseException:
            await self.settle()
            raise
        if isinstance(result, ChatCompletionResponse | CompletionResponse):
            usage = result.usage
            await self.settle(result.model, usage.prompt_tokens, usage.completion_tokens or 0)
            return JSONResponse(result.model_dump())
        return _EngineStream(self._counted(result), media_type="text/event-stream")

    async def _counted(self, events: AsyncIterator[str]) -> AsyncIterator[str]:
        model, prompt, completions = "", 0, {}  # completions: tokens so far per choice
        try:
            async for event in events:
                if not event.startswith("data: {"):
                    yield event  # data: [DONE]
                    continue
                data = json.loads(event.removeprefix("data: "))
                usage, choices = data.get("usage"), data.get("choices")
                if not usage:  # an error event
                    yield event
                    continue
                model = data.get("model", model)
                if not choices:  # the final usage event: the totals
                    await self.settle(model, usage["prompt_tokens"], usage["completion_tokens"])
                    if self.usage_asked:
                        yield event
                    continue
                prompt = usage["prompt_tokens"]
                completions[choices[0]["index"]] = usage.get("completion_tokens") or 0
                if self.continuous_asked:
                    yield event
                else:
                    del data["usage"]
                    yield f"data: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n"
        finally:
            if self.held:  # cut short: what it had used by then
                await self.settle(model, prompt, sum(completions.values()))
            await events.aclose()  # type: ignore[attr-defined]


Accounting = Annotated[_Accounting, Depends(_Accounting)]


@router.get("/v1/models")
async def list_models(_: CurrentPrincipal, engine: EngineDep) -> ModelList:
    """The models this replica serves."""
    return await engine.models.show_available_models()


# with_cancellation: a client that disconnects before a whole answer cancels it in the engine.
@router.post("/v1/chat/completions", response_model=ChatCompletionResponse, responses=_ANSWERS)
@with_cancellation
async def create_chat_completion(
    body: ChatCompletionRequest, raw_request: Request, account: Accounting, engine: EngineDep
) -> Any:
    """OpenAI's chat completions: `stream`, `n`, `stop`, `seed`, `max_tokens`,
    `response_format` (JSON schema, by structured decoding), `tools` and usage. A named
    function in `tool_choice`, or `required`, returns a call whose arguments match the tool's
    schema on any model; `auto` where the model's tool-call parser is configured. Counted
    against your daily token quota."""
    await account.admit(body)
    return await account.answer(engine.chat_completion(body))


@router.post("/v1/completions", response_model=CompletionResponse, responses=_ANSWERS)
@with_cancellation
async def create_completion(
    body: CompletionRequest, raw_request: Request, account: Accounting, engine: EngineDep
) -> Any:
    """OpenAI's (legacy) text completions, with the same options."""
    await account.admit(body)
    return await account.answer(engine.text_completion(body))
