"""A replica's vLLM engine (`AsyncLLM`) and vLLM's own OpenAI serving classes around it, so the
OpenAI routes and the typed calls share one prompt renderer, one set of checks and one
continuous batch."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

from vllm.entrypoints.openai.chat_completion.protocol import (
    ChatCompletionRequest,
    ChatCompletionResponse,
)
from vllm.entrypoints.openai.chat_completion.serving import OpenAIServingChat
from vllm.entrypoints.openai.completion.protocol import CompletionRequest, CompletionResponse
from vllm.entrypoints.openai.completion.serving import OpenAIServingCompletion
from vllm.entrypoints.openai.models.protocol import BaseModelPath
from vllm.entrypoints.openai.models.serving import OpenAIServingModels
from vllm.entrypoints.serve.engine.protocol import ErrorResponse
from vllm.entrypoints.serve.exception_handling.error_response import create_error_response
from vllm.exceptions import VLLMError
from vllm.renderers.online_renderer import OnlineRenderer
from vllm.tool_parsers import ToolParserManager
from vllm.utils import random_uuid
from vllm.v1.engine.async_llm import AsyncLLM
from vllm.v1.engine.exceptions import EngineDeadError

from deployments.calls.llm import (
    Chunk,
    EngineUnavailable,
    Generation,
    GenerationFailed,
    GenerationParams,
    GenerationRejected,
    Message,
    ModelInfo,
    ModelNotServed,
    Usage,
)
from domain.errors import DomainError
from models.llm_config import LLMConfig

# What a stream of vLLM's serving classes yields: SSE events, already encoded.
Events = AsyncIterator[str]
# What vLLM raises for a request it cannot take (the builtins where it has not moved to
# VLLMError yet); anything else is a bug, a 500.
VLLM_REJECTIONS = (VLLMError, ValueError, TypeError, OverflowError, NotImplementedError)
# The parser behind a named function or `required` where the config names none: vLLM's generic
# one, whose parsing of those two is JSON decoding against the tools' schemas (its own
# pythonic syntax only matters for "auto", refused unless configured).
FORCED_TOOL_PARSER = "pythonic"


class Engine:
    def __init__(self, config: LLMConfig, model_dir: Path, max_pending: int = 256):
        self.config = config
        self.max_pending = max_pending
        self._stopped = False
        tool_parser = config.tool_call_parser or FORCED_TOOL_PARSER
        _check_tool_parser(tool_parser)  # before the engine starts, not after
        self.chat_template = config.chat_template_text()  # a missing file: before it too
        with config.engine_environment():  # its engine core and workers are new processes
            self.llm = AsyncLLM.from_engine_args(config.engine_args(model_dir))
        self.models = OpenAIServingModels(
            self.llm, [BaseModelPath(name=config.served_name, model_path=str(model_dir))]
        )
        try:
            self._serve_openai(config, tool_parser)
        except BaseException:  # a parser that does not fit the tokenizer, say
            self.llm.shutdown()
            raise

    def _serve_openai(self, config: LLMConfig, tool_parser: str) -> None:
        renderer = self._renderer()
        self.chat = self._serving_chat(renderer)
        # Requests that send tools go through a tool parser; the others keep the plain path.
        # vLLM builds no parser without enable_auto_tools, and a named function or `required`
        # needs one too: `_admit_tools` refuses "auto" where the config does not enable it.
        tool_options: dict[str, Any] = {
            "enable_auto_tools": True,
            "tool_parser": tool_parser,
            "tool_strict_level": config.tool_strict_level,
        }
        self.tool_chat = self._serving_chat(self._renderer(**tool_options), **tool_options)
        self.completion = OpenAIServingCompletion(
            self.llm, self.models, online_renderer=renderer, request_logger=None
        )

    def _renderer(self, **tool_options: Any) -> OnlineRenderer:
        renderer = OnlineRenderer(
            self.llm.model_config,
            self.llm.renderer,
            request_logger=None,
            chat_template=self.chat_template,  # None: the model folder's own
            chat_template_content_format="auto",
            **tool_options,
        )
        renderer.warmup()
        return renderer

    def _serving_chat(self, renderer: OnlineRenderer, **tool_options: Any) -> OpenAIServingChat:
        return OpenAIServingChat(
            self.llm,
            self.models,
            "assistant",
            online_renderer=renderer,
            request_logger=None,
            chat_template=self.chat_template,
            chat_template_content_format="auto",
            **tool_options,
        )

    async def healthy(self) -> bool:
        try:
            await self.llm.check_health()
        except Exception:
            return False
        return True

    def shutdown(self) -> None:
        if not self._stopped:  # a second shutdown fails once the interpreter is exiting
            self._stopped = True
            self.llm.shutdown()

    # --- the OpenAI routes ----------------------------------------------------------------

    async def chat_completion(
        self, request: ChatCompletionRequest
    ) -> ChatCompletionResponse | Events:
        self._admit()
        serving = self._admit_tools(request) if request.tools else self.chat
        # Our own request id: a client's could collide with, and so abort, another's.
        request.request_id = random_uuid()
        try:
            # No raw request: its headers would let a client pick the priority or request id.
            return _checked(await serving.create_chat_completion(request, None))
        except VLLM_REJECTIONS as exc:
            raise domain_error(exc) from exc

    async def text_completion(self, request: CompletionRequest) -> CompletionResponse | Events:
        self._admit()
        request.request_id = random_uuid()
        try:
            return _checked(await self.completion.create_completion(request, None))
        except VLLM_REJECTIONS as exc:
            raise domain_error(exc) from exc

    def _admit(self) -> None:
        """A full engine answers 503 at once: queued further, the request would only wait
        past its client's timeout (Serve's max_ongoing_requests bounds each replica too)."""
        if self.llm.get_num_unfinished_requests() >= self.max_pending:
            raise EngineUnavailable(
                f"The engine holds {self.max_pending} requests already; retry in a moment.",
                retry_after=1,
            )

    def _admit_tools(self, request: ChatCompletionRequest) -> OpenAIServingChat:
        # vLLM turns a missing tool_choice into "auto" when tools are sent.
        if request.tool_choice == "auto" and not self.config.enable_auto_tool_choice:
            raise GenerationRejected(
                f'tool_choice "auto" is not enabled for {self.config.served_name}: name the '
                'function (`{"type": "function", "function": {"name": ...}}`) or send '
                '"required" to get a call whose arguments match its schema. Operators: set '
                "the model's tool_call_parser and enable_auto_tool_choice.",
                code="tool_choice_unsupported",
                errors=[{"path": "tool_choice", "code": "unsupported", "message": "auto"}],
            )
        return self.tool_chat

    # --- the typed calls (LLMCalls) -------------------------------------------------------

    async def generate(self, messages: list[Message], params: GenerationParams) -> Generation:
        response = await self.chat_completion(self._chat_request(messages, params, stream=False))
        assert isinstance(response, ChatCompletionResponse)
        choice = response.choices[0]
        return Generation(
            text=choice.message.content or "",
            finish_reason=choice.finish_reason,
            usage=Usage.model_validate(response.usage.model_dump()),
        )

    async def stream(self, messages: list[Message], params: GenerationParams) -> AsyncIterator[str]:
        events = await self.chat_completion(self._chat_request(messages, params, stream=True))
        assert not isinstance(events, ChatCompletionResponse)
        try:
            async for event in events:
                for chunk in _data(event):
                    if "error" in chunk:
                        raise _rejection(ErrorResponse.model_validate(chunk))
                    for choice in chunk.get("choices", []):
                        if text := choice.get("delta", {}).get("content"):
                            yield text
        finally:
            await events.aclose()  # a caller that stops early frees its sequence

    async def complete(self, prompt: str, params: GenerationParams) -> Generation:
        response = await self.text_completion(self._completion_request(prompt, params, False))
        assert isinstance(response, CompletionResponse)
        choice = response.choices[0]
        return Generation(
            text=choice.text,
            finish_reason=choice.finish_reason,
            usage=Usage.model_validate(response.usage.model_dump()),
            model=self.config.served_name,
        )

    async def stream_complete(self, prompt: str, params: GenerationParams) -> AsyncIterator[Chunk]:
        events = await self.text_completion(self._completion_request(prompt, params, True))
        assert not isinstance(events, CompletionResponse)
        try:
            async for event in events:
                for data in _data(event):
                    if "error" in data:
                        raise _rejection(ErrorResponse.model_validate(data))
                    chunk = Chunk()
                    for choice in data.get("choices", []):
                        chunk.text += choice.get("text") or ""
                        chunk.finish_reason = choice.get("finish_reason") or chunk.finish_reason
                    if usage := data.get("usage"):
                        chunk.usage = Usage.model_validate(usage)
                    if chunk.text or chunk.finish_reason or chunk.usage:
                        yield chunk
        finally:
            await events.aclose()  # a caller that stops early frees its sequence

    def model_info(self) -> ModelInfo:
        return ModelInfo(name=self.config.served_name, max_model_len=self.config.max_model_len)

    def count_tokens(self, texts: list[str]) -> list[int]:
        tokenizer = self.llm.get_tokenizer()
        return [len(tokenizer.encode(text, add_special_tokens=False)) for text in texts]

    def _completion_request(
        self, prompt: str, params: GenerationParams, stream: bool
    ) -> CompletionRequest:
        body: dict[str, Any] = {
            "model": self.config.served_name,
            "prompt": prompt,
            "stream": stream,
            **params.model_dump(exclude={"json_schema"}),
        }
        if stream:  # use on every chunk: a stream cut short is counted up to there
            body["stream_options"] = {"include_usage": True, "continuous_usage_stats": True}
        if params.json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": params.json_schema},
            }
        return CompletionRequest.model_validate(body)

    def _chat_request(
        self, messages: list[Message], params: GenerationParams, *, stream: bool
    ) -> ChatCompletionRequest:
        body: dict[str, Any] = {
            "model": self.config.served_name,
            "messages": [m.model_dump() for m in messages],
            "stream": stream,
            **params.model_dump(exclude={"json_schema"}),
        }
        if params.json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": params.json_schema},
            }
        return ChatCompletionRequest.model_validate(body)


def _check_tool_parser(name: str) -> None:
    if name not in (known := ToolParserManager.list_registered()):
        raise ValueError(f"Unknown tool_call_parser {name!r}: choose one of {', '.join(known)}")


def domain_error(exc: Exception) -> DomainError:
    if isinstance(exc, EngineDeadError):
        return EngineUnavailable("The engine stopped; its replica is restarting.", retry_after=5)
    return _rejection(create_error_response(exc))


def _checked(result: Any) -> Any:
    if isinstance(result, ErrorResponse):
        raise _rejection(result)
    return result


def _rejection(error: ErrorResponse) -> DomainError:
    """vLLM's error answer as the domain error of the same meaning (problem+json over HTTP)."""
    info = error.error
    errors = (
        [{"path": info.param, "code": info.type, "message": info.message}] if info.param else []
    )
    if info.code == HTTPStatus.NOT_FOUND:
        return ModelNotServed(info.message, errors=errors)
    if info.code == HTTPStatus.SERVICE_UNAVAILABLE:
        return EngineUnavailable(info.message, retry_after=1)
    if info.code >= 500 and info.code != HTTPStatus.NOT_IMPLEMENTED:
        return GenerationFailed(info.message)
    return GenerationRejected(info.message, errors=errors)  # 400, and 501: not supported


def _data(event: str) -> list[dict[str, Any]]:
    """The JSON payloads of an SSE event (`[DONE]` has none)."""
    return [
        json.loads(line[6:])
        for line in event.splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]
