"""The LLM application's calls: text generation for the domain services (story, theme,
content), with the same engine, limits and errors as its OpenAI-compatible routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from deployments.calls.app import AppCalls
from domain.errors import DomainError
from domain.users.schemas import Principal


class Message(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class GenerationParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_tokens: int = Field(256, ge=1)
    temperature: float = Field(0.7, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    seed: int | None = None
    stop: list[str] = Field([], max_length=8)
    json_schema: dict[str, Any] | None = Field(
        None, description="The output is JSON valid against it (structured decoding)."
    )


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class Generation(BaseModel):
    text: str
    finish_reason: str | None
    usage: Usage
    model: str = ""


class Chunk(BaseModel):
    """A piece of a streamed completion; the last one carries the finish reason and usage."""

    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None


class ModelInfo(BaseModel):
    name: str
    max_model_len: int = Field(description="The context window: prompt and output, in tokens.")


class GenerationRejected(DomainError):
    """The engine refused the request as given: too long for the window, an invalid schema."""

    code, status, title = "generation_rejected", 400, "Generation request rejected"


class ModelNotServed(DomainError):
    code, status, title = "model_not_found", 404, "Model not served"


class GenerationFailed(DomainError):
    code, status, title = "generation_failed", 500, "Generation failed"


class EngineUnavailable(DomainError):
    """Stopped, restarting or overloaded: retry after `retry_after` seconds."""

    code, status, title = "engine_unavailable", 503, "Engine unavailable"


class LLMCalls(AppCalls, Protocol):
    async def model_info(self) -> ModelInfo:
        """The served model's name and window."""
        ...

    async def count_tokens(self, texts: list[str]) -> list[int]:
        """Each text's length in the model's tokens (special tokens left out)."""
        ...

    async def complete(
        self, principal: Principal, prompt: str, params: GenerationParams
    ) -> Generation:
        """The model's continuation of `prompt` (completion style: what a base model
        answers best)."""
        ...

    async def stream_complete(
        self, principal: Principal, prompt: str, params: GenerationParams
    ) -> AsyncIterator[Chunk]:
        """The continuation of `prompt` piece by piece; the last chunk has the usage.
        Closing the iterator early frees the sequence in the engine."""
        raise NotImplementedError
        yield

    async def generate(
        self, principal: Principal, messages: list[Message], params: GenerationParams
    ) -> Generation:
        """The model's whole answer to a chat."""
        ...

    async def stream(
        self, principal: Principal, messages: list[Message], params: GenerationParams
    ) -> AsyncIterator[str]:
        """The model's answer to a chat, text piece by piece as it is made."""
        raise NotImplementedError
        yield  # makes this an async generator: `remote()` streams it
