"""LLMCalls over any OpenAI-compatible server (vLLM's own, a hosted provider) with the
official `openai` SDK: set `provider: remote` and the generation application's domain code
runs unchanged against it. Structured outputs send `response_format` with a completion,
which vLLM accepts; a provider that does not answers 400 `generation_rejected`."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import openai
from pydantic import BaseModel, Field

from deployments.calls.app import Readiness
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
from domain.users.schemas import Principal


class RemoteLLMConfig(BaseModel):
    base_url: str = Field(description="The server's OpenAI base URL, e.g. http://host:8000/v1")
    model: str
    api_key_env: str = Field(
        "LOREKEEPER_LLM_API_KEY",
        description="The environment variable that holds the API key (from a secret).",
    )
    max_model_len: int = Field(4096, ge=64, description="The model's window, in tokens.")
    chars_per_token: float = Field(
        3.0, gt=0, description="Token counts are estimated from text length: no tokenizer here."
    )
    timeout_s: float = Field(120, gt=0)


class OpenAILLM:
    """Implements `deployments.calls.llm.LLMCalls`."""

    def __init__(self, config: RemoteLLMConfig):
        self.config = config
        self.client = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=os.environ.get(config.api_key_env) or "unset",
            timeout=config.timeout_s,
            max_retries=0,  # the caller decides; a retry would double a slow request
        )

    async def ready(self) -> Readiness:
        try:
            await self.client.models.list()
            engine = "ok"
        except openai.OpenAIError:
            engine = "down"
        return Readiness(ready=engine == "ok", dependencies={"engine": engine})

    async def openapi(self) -> dict[str, Any]:
        return {}

    async def model_info(self) -> ModelInfo:
        return ModelInfo(name=self.config.model, max_model_len=self.config.max_model_len)

    async def count_tokens(self, texts: list[str]) -> list[int]:
        return [int(len(text) / self.config.chars_per_token) + 1 for text in texts]

    async def complete(
        self, principal: Principal, prompt: str, params: GenerationParams
    ) -> Generation:
        with _errors():
            out = await self.client.completions.create(**self._completion(prompt, params))
        choice = out.choices[0]
        return Generation(
            text=choice.text,
            finish_reason=choice.finish_reason,
            usage=_usage(out.usage),
            model=self.config.model,
        )

    async def stream_complete(
        self, principal: Principal, prompt: str, params: GenerationParams
    ) -> AsyncIterator[Chunk]:
        with _errors():
            stream = await self.client.completions.create(
                **self._completion(prompt, params),
                stream=True,
                stream_options={"include_usage": True},
            )
        try:
            with _errors():
                async for event in stream:
                    chunk = Chunk(usage=_usage(event.usage) if event.usage else None)
                    for choice in event.choices:
                        chunk.text += choice.text or ""
                        chunk.finish_reason = choice.finish_reason or chunk.finish_reason
                    if chunk.text or chunk.finish_reason or chunk.usage:
                        yield chunk
        finally:
            await stream.close()  # closing the connection aborts the request on the server

    async def generate(
        self, principal: Principal, messages: list[Message], params: GenerationParams
    ) -> Generation:
        with _errors():
            out = await self.client.chat.completions.create(**self._chat(messages, params))
        choice = out.choices[0]
        return Generation(
            text=choice.message.content or "",
            finish_reason=choice.finish_reason,
            usage=_usage(out.usage),
            model=self.config.model,
        )

    async def stream(
        self, principal: Principal, messages: list[Message], params: GenerationParams
    ) -> AsyncIterator[str]:
        with _errors():
            stream = await self.client.chat.completions.create(
                **self._chat(messages, params), stream=True
            )
        try:
            with _errors():
                async for event in stream:
                    for choice in event.choices:
                        if choice.delta.content:
                            yield choice.delta.content
        finally:
            await stream.close()

    def _sampling(self, params: GenerationParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.config.model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if params.stop:
            body["stop"] = params.stop
        return body

    def _completion(self, prompt: str, params: GenerationParams) -> dict[str, Any]:
        body = {**self._sampling(params), "prompt": prompt}
        if params.json_schema is not None:
            body["extra_body"] = {"response_format": _response_format(params.json_schema)}
        return body

    def _chat(self, messages: list[Message], params: GenerationParams) -> dict[str, Any]:
        body = {**self._sampling(params), "messages": [m.model_dump() for m in messages]}
        if params.json_schema is not None:
            body["response_format"] = _response_format(params.json_schema)
        return body


def _response_format(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}


def _usage(usage: Any) -> Usage:
    if usage is None:
        return Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0)
    return Usage(
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        total_tokens=usage.total_tokens,
    )


class _errors:
    """The SDK's errors as the domain errors LLMCalls promises."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, _type: type | None, exc: BaseException | None, _tb: object) -> bool:
        if exc is None or isinstance(exc, DomainError):
            return False
        if isinstance(exc, openai.APIStatusError):
            message = f"The remote model answered {exc.status_code}: {exc.message}"
            if exc.status_code == 404:
                raise ModelNotServed(message) from exc
            if exc.status_code in (429, 503):
                retry = exc.response.headers.get("retry-after", "1")
                wait = int(retry) if retry.isdigit() else 1
                raise EngineUnavailable(message, retry_after=wait) from exc
            if exc.status_code < 500:
                raise GenerationRejected(message) from exc
            raise GenerationFailed(message) from exc
        if isinstance(exc, openai.APIConnectionError | openai.APITimeoutError):
            raise EngineUnavailable(
                f"The remote model is not answering ({exc}); retry shortly.", retry_after=5
            ) from exc
        return False
