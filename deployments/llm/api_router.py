"""The OpenAI-compatible routes, served from the engine's own replica (one hop): vLLM's
request and response models and serving classes, the platform's tokens and problem+json."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.types import Receive, Scope, Send
from vllm.entrypoints.openai.chat_completion.protocol import (
    ChatCompletionRequest,
    ChatCompletionResponse,
)
from vllm.entrypoints.openai.completion.protocol import CompletionRequest, CompletionResponse
from vllm.entrypoints.serve.engine.protocol import ModelList
from vllm.entrypoints.serve.utils.api_utils import with_cancellation

from deployments.http.auth import CurrentPrincipal
from deployments.llm.engine import Engine

PREFIX = "/v1"
router = APIRouter(tags=["llm"])
_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "JSON, or SSE when `stream`"},
    400: {
        "description": "`generation_rejected`: the engine cannot take the request as given "
        "(prompt and max_tokens beyond the window, an invalid schema)"
    },
    404: {"description": "`model_not_found`: `model` names no model served here"},
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


def _answer(result: Any) -> JSONResponse | StreamingResponse:
    if isinstance(result, ChatCompletionResponse | CompletionResponse):
        return JSONResponse(result.model_dump())
    return _EngineStream(result, media_type="text/event-stream")


@router.get("/v1/models")
async def list_models(_: CurrentPrincipal, engine: EngineDep) -> ModelList:
    """The models this replica serves."""
    return await engine.models.show_available_models()


# with_cancellation: a client that disconnects before a whole answer cancels it in the engine.
@router.post("/v1/chat/completions", response_model=ChatCompletionResponse, responses=_ANSWERS)
@with_cancellation
async def create_chat_completion(
    body: ChatCompletionRequest, raw_request: Request, _: CurrentPrincipal, engine: EngineDep
) -> Any:
    """OpenAI's chat completions: `stream`, `n`, `stop`, `seed`, `max_tokens`,
    `response_format` (JSON schema, by structured decoding) and usage."""
    return _answer(await engine.chat_completion(body))


@router.post("/v1/completions", response_model=CompletionResponse, responses=_ANSWERS)
@with_cancellation
async def create_completion(
    body: CompletionRequest, raw_request: Request, _: CurrentPrincipal, engine: EngineDep
) -> Any:
    """OpenAI's (legacy) text completions, with the same options."""
    return _answer(await engine.text_completion(body))
