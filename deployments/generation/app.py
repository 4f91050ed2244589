from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI
from pydantic import Field, model_validator
from ray import serve
from ray.serve import Application

from cluster.rate_limit import make_rate_limiter
from cluster.response_cache import make_cache
from cluster.token_usage import TokenMetrics, TokenQuota, make_ledger
from deployments.calls.campaigns import CampaignCalls
from deployments.calls.llm import LLMCalls
from deployments.calls.remote import remote
from deployments.common.config import AppConfig
from deployments.common.ingress import AppIngress, validated_args
from deployments.common.runner import ServiceRunner, signed_in
from deployments.generation import api_router
from deployments.generation.generator import Generator, Limits
from deployments.generation.remote_llm import OpenAILLM, RemoteLLMConfig
from domain.errors import Unavailable
from domain.generation.service import GenerationService

# Kept short and plain: a campaign's theme adds its own forbidden terms.
DEFAULT_POLICY = ("sexual violence", "child abuse", "self-harm instructions")


class GenerationConfig(AppConfig):
    provider: Literal["local", "remote"] = Field(
        "local", description="`local`: the `llm` application's engine; `remote`: `remote`."
    )
    remote: RemoteLLMConfig | None = None
    llm_app: str = Field("llm", description="The Serve application of the local engine.")
    campaigns_app: str = "campaigns"
    attempts: int = Field(
        3, ge=1, le=10, description="Generations per request, at most, until one passes checks."
    )
    context_tokens: int = Field(1536, ge=0, description="The most campaign notes per prompt.")
    field_chars: int = Field(
        300, ge=8, le=4000, description="Longest text field of a generated NPC, item, ..."
    )
    policy: tuple[str, ...] = Field(DEFAULT_POLICY, description="The content policy's denylist.")
    quota: TokenQuota = TokenQuota()
    campaign_tokens_per_day: int | None = Field(
        None,
        ge=1,
        description="Every campaign's daily token budget, all members together; unset: none. "
        "A campaign's DM can set a lower one (PUT /campaigns/{id}/quota).",
    )
    cache_ttl_s: int = Field(24 * 3600, ge=1)

    @model_validator(mode="after")
    def _remote_is_configured(self) -> GenerationConfig:
        if self.provider == "remote" and self.remote is None:
            raise ValueError("provider 'remote' needs `remote` (base_url, model, api_key_env)")
        return self


class GenerationIngress(AppIngress):
    """The campaign-aware generation endpoints. Calls the engine only through LLMCalls and
    campaigns only through CampaignCalls: over Serve handles in the cluster, the peers'
    ingress objects in process."""

    route_prefix = api_router.PREFIX
    config_type = GenerationConfig
    config: GenerationConfig

    def create_app(self) -> FastAPI:
        self._llm_calls: LLMCalls | None = None
        self._campaign_calls: CampaignCalls | None = None
        if self.config.provider == "remote":
            assert self.config.remote is not None
            self._llm_calls = OpenAILLM(self.config.remote)
        store = ServiceRunner(
            self.db,
            lambda session, principal: GenerationService(session, signed_in(principal)),
            threads=self.config.threads,
        )
        self.generator = Generator(
            llm=self.llm,
            campaigns=self.campaigns,
            store=store,
            cache=make_cache(self.settings, self.config.cache_ttl_s),
            ledger=make_ledger(self.settings),
            limiter=make_rate_limiter(self.settings),
            metrics=TokenMetrics("generation", enabled=self.behind_serve),
            limits=Limits(
                attempts=self.config.attempts,
                context_tokens=self.config.context_tokens,
                field_chars=self.config.field_chars,
                policy=self.config.policy,
                quota=self.config.quota,
                campaign_tokens_per_day=self.config.campaign_tokens_per_day,
            ),
        )
        app = self.new_app(
            title="Lorekeeper generation",
            description="Story, NPCs, locations, plot hooks, encounters and magic items "
            "written for a campaign, in its voice, checked against its theme and canon.",
            routers=[api_router.router],
        )
        app.state.generator = self.generator
        return app

    # In process (`compose_local`, tests) the peers are handed over; in the cluster they are
    # Serve handles, looked up on first use.
    def use_campaigns(self, campaigns: CampaignCalls) -> None:
        self._campaign_calls = campaigns

    def use_llm(self, llm: LLMCalls) -> None:
        self._llm_calls = llm

    def llm(self) -> LLMCalls:
        if self._llm_calls is None:
            self._llm_calls = self._peer(LLMCalls, self.config.llm_app)
        return self._llm_calls

    def campaigns(self) -> CampaignCalls:
        if self._campaign_calls is None:
            self._campaign_calls = self._peer(CampaignCalls, self.config.campaigns_app)
        return self._campaign_calls

    def _peer(self, api: type, name: str) -> Any:
        if not self.behind_serve:
            raise Unavailable(
                f"The {name!r} application is not running in this process; start it, or "
                "run the cluster (`make run`).",
                code="dependency_unavailable",
            )
        return remote(api, serve.get_app_handle(name))


Generation = serve.deployment(name="Generation")(serve.ingress()(GenerationIngress))


def build(args: dict[str, Any]) -> Application:
    """serve_config.yaml's builder: `args` is validated into the config object."""
    return Generation.bind(validated_args(Generation, args))
