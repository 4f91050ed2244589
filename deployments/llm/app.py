from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import Field
from ray import serve
from ray.serve import Application
from vllm.exceptions import VLLMError

from cluster.rate_limit import make_rate_limiter
from cluster.settings import Settings
from cluster.token_usage import TokenMetrics, TokenQuota, make_ledger
from deployments.calls.app import Readiness
from deployments.calls.llm import Chunk, Generation, GenerationParams, Message, ModelInfo
from deployments.common.config import AppConfig
from deployments.common.ingress import AppIngress, validated_args
from deployments.llm import api_router
from deployments.llm.engine import Engine, domain_error
from domain.errors import DomainError
from domain.users.schemas import Principal
from models import registry
from models.llm_config import LLMConfig


class LLMAppConfig(AppConfig):
    llm: LLMConfig = LLMConfig()
    models_dir: Path | None = Field(
        None,
        description="Where models are built and looked up; default: the "
        "LOREKEEPER_MODELS_DIR setting, else <data dir>/models.",
    )
    quota: TokenQuota = Field(TokenQuota(), description="Per user, on /v1.")
    max_pending: int = Field(
        256,
        ge=1,
        description="Requests in the engine (running and waiting) beyond which a new one is "
        "answered 503 `engine_unavailable` with Retry-After rather than queued.",
    )


class LLMIngress(AppIngress):
    """Owns the replica's vLLM engine and serves the OpenAI routes from it; implements
    `deployments.calls.llm.LLMCalls`."""

    route_prefix = api_router.PREFIX
    config_type = LLMAppConfig
    config: LLMAppConfig
    uses_database = False
    composed_locally = False

    @classmethod
    def prepare(cls, config: AppConfig, settings: Settings) -> None:
        assert isinstance(config, LLMAppConfig)
        registry.resolve(config.llm.model, config.models_dir or settings.resolved_models_dir)

    def create_app(self) -> FastAPI:
        models_dir = self.config.models_dir or self.settings.resolved_models_dir
        model_dir = registry.resolve(self.config.llm.model, models_dir)
        self.engine = Engine(self.config.llm, model_dir, max_pending=self.config.max_pending)
        app = self.new_app(
            title="Lorekeeper LLM",
            description="OpenAI-compatible text generation (vLLM); send an access token as "
            "the API key.",
            routers=[api_router.router],
        )
        app.state.engine = self.engine
        app.state.quota = self.config.quota
        app.state.ledger = make_ledger(self.settings)
        app.state.limiter = make_rate_limiter(self.settings)
        app.state.metrics = TokenMetrics("v1", enabled=self.behind_serve)

        async def vllm_error(request: Request, exc: Exception) -> Response:
            # vLLM's request models check some fields by raising its own errors, not
            # pydantic's: answer them as the domain error of the same meaning.
            return await app.exception_handlers[DomainError](request, domain_error(exc))

        app.add_exception_handler(VLLMError, vllm_error)
        return app

    def __del__(self) -> None:  # Serve calls it when the replica stops
        if engine := getattr(self, "engine", None):
            engine.shutdown()

    async def ready(self) -> Readiness:
        readiness = await super().ready()
        engine = "ok" if await self.engine.healthy() else "down"
        return Readiness(
            ready=readiness.ready and engine == "ok",
            dependencies={**readiness.dependencies, "engine": engine},
        )

    async def generate(
        self, principal: Principal, messages: list[Message], params: GenerationParams
    ) -> Generation:
        return await self.engine.generate(messages, params)

    async def stream(
        self, principal: Principal, messages: list[Message], params: GenerationParams
    ) -> AsyncIterator[str]:
        async for text in self.engine.stream(messages, params):
            yield text

    async def model_info(self) -> ModelInfo:
        return self.engine.model_info()

    async def count_tokens(self, texts: list[str]) -> list[int]:
        return self.engine.count_tokens(texts)

    async def complete(
        self, principal: Principal, prompt: str, params: GenerationParams
    ) -> Generation:
        return await self.engine.complete(prompt, params)

    async def stream_complete(
        self, principal: Principal, prompt: str, params: GenerationParams
    ) -> AsyncIterator[Chunk]:
        stream = self.engine.stream_complete(prompt, params)
        try:
            async for chunk in stream:
                yield chunk
        finally:
            await stream.aclose()  # type: ignore[attr-defined]


LLM = serve.deployment(name="LLM")(serve.ingress()(LLMIngress))


def build(args: dict[str, Any]) -> Application:
    """serve_config.yaml's builder: `args` is validated into the config object."""
    return LLM.bind(validated_args(LLM, args))
