from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from ray import serve
from ray.serve import Application

from cluster.blobs import asset_limits, blob_store
from deployments.assets import api_router, maps_router
from deployments.assets.context import AssetsContext, Bound
from deployments.calls.campaigns import CampaignCalls
from deployments.calls.remote import remote
from deployments.common.config import AppConfig
from deployments.common.ingress import AppIngress, validated_args
from deployments.common.runner import ServiceRunner
from domain.maps.messages import MapCreate, MapOut
from domain.users.schemas import Principal


class AssetsConfig(AppConfig):
    pass


class AssetsIngress(AppIngress):
    """The storage service: assets, versions, downloads, signed URLs, battle maps.
    Implements `deployments.calls.assets.AssetCalls`."""

    route_prefix = api_router.PREFIX
    config_type = AssetsConfig
    config: AssetsConfig
    campaigns_app = "campaigns"  # whose CampaignCalls.access says who sees what

    def create_app(self) -> FastAPI:
        blobs = blob_store(self.settings)
        limits = asset_limits(self.settings)
        runner = ServiceRunner(
            self.db,
            lambda session, principal: Bound(session, principal, blobs, limits),
            threads=self.config.threads,
        )
        self._campaigns: CampaignCalls | None = None
        self.context = AssetsContext(self.settings, runner, blobs, self._campaign_calls)
        app = self.new_app(
            title="Lorekeeper assets",
            description="Versioned, deduplicated images and files of campaigns; battle maps.",
            routers=[api_router.router, maps_router.router],
        )
        app.state.assets = self.context
        return app

    async def generate_map(self, principal: Principal, req: MapCreate) -> MapOut:
        return await maps_router.generate(self.context, principal, req)

    def use_campaigns(self, calls: CampaignCalls) -> None:
        """In process (tests, serve-local): the campaigns ingress itself."""
        self._campaigns = calls

    def _campaign_calls(self) -> CampaignCalls | None:
        if self._campaigns is None and self.behind_serve:
            try:
                self._campaigns = remote(CampaignCalls, serve.get_app_handle(self.campaigns_app))
            except Exception:  # not deployed (yet): campaign assets answer 503
                return None
        return self._campaigns


Assets = serve.deployment(name="Assets")(serve.ingress()(AssetsIngress))


def build(args: dict[str, Any]) -> Application:
    """serve_config.yaml's builder: `args` is validated into the config object."""
    return Assets.bind(validated_args(Assets, args))
