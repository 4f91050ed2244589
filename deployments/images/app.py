from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import Field
from ray import serve
from ray.serve import Application
from ray.serve.handle import DeploymentHandle
from sqlalchemy.orm import Session

from cluster.blobs import asset_limits, blob_store
from cluster.database import Database
from cluster.settings import Settings
from cluster.vectors import VectorConfig, VectorStore
from deployments.calls.assets import AssetCalls
from deployments.calls.campaigns import CampaignCalls
from deployments.calls.remote import remote
from deployments.common.config import AppConfig
from deployments.common.ingress import AppIngress, validated_args
from deployments.common.runner import ServiceRunner, signed_in
from deployments.images import api_router
from deployments.images.engine import Engine, EngineConfig, ImageEngineCalls, LocalEngine
from deployments.images.worker import JobWorker, WorkerConfig
from domain.assets.service import AssetService
from domain.campaigns.access import CampaignAccess
from domain.errors import Unavailable
from domain.images.embedding import FINGERPRINT, StyleEmbedder
from domain.images.moderation import PromptPolicy
from domain.images.schemas import ImageLimits
from domain.images.service import ImageService, ImageSettings, JobPlan, StoredImage
from domain.users.schemas import Principal
from models import registry
from models.clip_style import ClipStyle, ClipStyleConfig, collection_suffix

STYLE_COLLECTION = "image_styles"  # the fingerprint's; other embedders get their own
STYLE_INDEXES: dict[str, Any] = {"campaign_id": "integer", "style": "keyword",
                                 "visibility": "keyword"}


class StyleEmbeddingConfig(ClipStyleConfig):
    kind: Literal["fingerprint", "clip"] = Field(
        "fingerprint",
        description="`fingerprint`: palette, contrast and texture statistics (no model); "
        "`clip`: CLIP's image embedding from `model` (the other fields are for clip).",
    )


class ImagesConfig(AppConfig):
    engine: EngineConfig = EngineConfig()
    limits: ImageLimits = ImageLimits()
    worker: WorkerConfig = WorkerConfig()
    vectors: VectorConfig = VectorConfig()
    style_embedding: StyleEmbeddingConfig = StyleEmbeddingConfig()
    models_dir: Path | None = Field(
        None, description="Where models are built and looked up; default: <data dir>/models."
    )
    style_threshold: float = Field(
        0.85, ge=0, le=1, description="Images scoring below it against their style are flagged."
    )
    denylist: dict[str, list[str]] = Field(
        {}, description="More prompt-policy terms, by category (added to the built-in ones)."
    )


class ImagesIngress(AppIngress):
    """The images application: requests, jobs, styles; the engine is its own deployment
    (over Serve) or an object in this process (tests, serve-local)."""

    route_prefix = api_router.PREFIX
    config_type = ImagesConfig
    config: ImagesConfig

    def __init__(
        self,
        config: ImagesConfig | dict[str, Any],
        settings: Settings | None = None,
        db: Database | None = None,
        engine: DeploymentHandle | None = None,
    ):
        self._engine_handle = engine
        super().__init__(config, settings, db)

    def create_app(self) -> FastAPI:
        config = self.config
        models_dir = config.models_dir or self.settings.data_dir / "models"
        if self._engine_handle is not None:
            self.engine: ImageEngineCalls = remote(ImageEngineCalls, self._engine_handle)
        else:
            self.engine = LocalEngine(config.engine, models_dir)
        self.embedder = style_embedder(config.style_embedding, models_dir)
        self.style_collection = style_collection(self.embedder)
        self.image_settings = ImageSettings(
            model=config.engine.diffusion.model,
            limits=config.limits,
            asset_limits=asset_limits(self.settings),
            policy=PromptPolicy(config.denylist),
            max_attempts=config.worker.max_attempts,
            style_threshold=config.style_threshold,
            embedder=self.embedder,
        )
        self.blobs = blob_store(self.settings)
        self._vectors: VectorStore | None = None  # opened with the first image stored
        self.campaigns: CampaignCalls | None = None  # in process: use_campaigns; Serve: by name
        self.assets: AssetCalls | None = None  # in process: use_assets; Serve: by name
        self.images = ServiceRunner(self.db, self._service, threads=config.threads)
        self.worker = JobWorker(
            self.db, self.engine, self._plan_service, config.worker, self._add_vectors
        )
        app = self.new_app(
            title="Lorekeeper images",
            description="Portraits, scenes, items and tokens from a diffusion pipeline: "
            "generation, modification, jobs with live progress, campaign styles.",
            routers=[api_router.router],
        )
        app.state.images = self
        self._start_worker_if_running()
        return app

    # --- wiring ---------------------------------------------------------------------------

    def _service(
        self, session: Session, principal: Principal | None, access: CampaignAccess | None = None
    ) -> ImageService:
        principal = signed_in(principal)
        assets = AssetService(session, principal, self.blobs, access,
                              limits=self.image_settings.asset_limits)
        return ImageService(session, principal, assets, self.image_settings, access)

    def _plan_service(self, session: Session, plan: JobPlan) -> ImageService:
        """The service as the job's owner, with the campaign role they had when asking."""
        principal = Principal(user_id=plan.user_id, role=plan.role)  # type: ignore[arg-type]
        access = None
        if plan.campaign_id is not None and plan.access_role is not None:
            access = CampaignAccess(plan.campaign_id, plan.user_id, plan.access_role)  # type: ignore[arg-type]
        return self._service(session, principal, access)

    @property
    def vectors(self) -> VectorStore:
        if self._vectors is None:
            store = VectorStore.open(self.config.vectors, self.settings.data_dir / "vectors")
            store.ensure_collection(self.style_collection, self.embedder.dim, STYLE_INDEXES)
            store.optimize_in_background(self.style_collection)
            self._vectors = store
        return self._vectors

    def _add_vectors(self, stored: list[StoredImage]) -> None:
        points = [(s.image.version.version_id, s.vector, s.payload) for s in stored if s.vector]
        if points:
            self.vectors.upsert(self.style_collection, points)

    def _start_worker_if_running(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # started with the first request instead
        self.worker.start()

    def ensure_worker(self) -> None:
        self.worker.start()

    def use_campaigns(self, calls: CampaignCalls) -> None:
        """In process (tests, serve-local): the campaigns ingress itself."""
        self.campaigns = calls

    def use_assets(self, calls: AssetCalls) -> None:
        """In process (tests, serve-local): the assets ingress itself."""
        self.assets = calls

    def asset_calls(self) -> AssetCalls:
        """The assets application (maps are made and stored there)."""
        if self.assets is None and self.behind_serve:
            self.assets = remote(AssetCalls, serve.get_app_handle("assets"))
        if self.assets is None:
            raise Unavailable(
                "Maps need the assets application, which is not running here; deploy it "
                "(serve_config.yaml) and retry.",
                code="assets_unavailable",
            )
        return self.assets

    async def access(self, principal: Principal, campaign_id: int | None) -> CampaignAccess | None:
        """The caller's standing in the campaign (404 if not a member), from the campaigns
        application."""
        if campaign_id is None:
            return None
        if self.campaigns is None and self.behind_serve:
            self.campaigns = remote(CampaignCalls, serve.get_app_handle("campaigns"))
        if self.campaigns is None:
            raise Unavailable(
                "Campaign images need the campaigns application, which is not running here.",
                code="campaigns_unavailable",
            )
        return await self.campaigns.access(principal, campaign_id)

    async def check_health(self) -> None:
        """Serve calls it every few seconds: a restarted replica's queue loops start here
        even before its first request."""
        self.ensure_worker()


def style_embedder(config: StyleEmbeddingConfig, models_dir: Path) -> StyleEmbedder:
    """The configured style embedder; a CLIP folder is found (or tiny-clip built) now, so a
    wrong path stops the application at start, and its weights load with the first image."""
    if config.kind == "fingerprint":
        return FINGERPRINT
    return ClipStyle(registry.resolve_clip(config.model, models_dir), config)


def style_collection(embedder: StyleEmbedder) -> str:
    """One vector collection per embedder: vectors of different makers (and sizes) never
    share one."""
    if embedder.name == FINGERPRINT.name:
        return STYLE_COLLECTION
    return f"{STYLE_COLLECTION}_{collection_suffix(embedder.name)}"


Images = serve.deployment(name="Images")(serve.ingress()(ImagesIngress))


def build(args: dict[str, Any]) -> Application:
    """serve_config.yaml's builder: `args` is validated into the config object; the engine
    is a deployment of its own (its replicas, CPUs or GPU in serve_config.yaml)."""
    config = ImagesConfig.model_validate(validated_args(Images, args))
    models_dir = str(config.models_dir) if config.models_dir else None
    engine = Engine.bind(config.engine.model_dump(), models_dir)
    return Images.bind(config.model_dump(mode="json"), engine=engine)
