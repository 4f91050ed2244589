"""What the assets routes share: the blob store, the service runner, and the caller's
campaign standing looked up through the campaigns application's typed calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from cluster.settings import Settings
from deployments.calls.campaigns import CampaignCalls
from deployments.common.runner import ServiceRunner, signed_in
from domain.assets.blobs import BlobStore
from domain.assets.schemas import AssetLimits
from domain.assets.service import AssetService
from domain.campaigns.access import CampaignAccess
from domain.errors import NotFound, Unavailable
from domain.users.schemas import Principal

R = TypeVar("R")


@dataclass
class Bound:
    """A transaction for one caller; `service(access)` builds the asset service in it."""

    session: Session
    principal: Principal | None
    blobs: BlobStore
    limits: AssetLimits

    def service(self, access: CampaignAccess | None) -> AssetService:
        return AssetService(
            self.session, signed_in(self.principal), self.blobs, access, limits=self.limits
        )


class AssetsContext:
    def __init__(
        self,
        settings: Settings,
        runner: ServiceRunner[Bound],
        blobs: BlobStore,
        campaigns: Callable[[], CampaignCalls | None],
    ):
        self.settings = settings
        self.runner = runner
        self.blobs = blobs
        self._campaigns = campaigns

    @property
    def url_secret(self) -> str:
        return self.settings.asset_url_secret or self.settings.resolved_jwt_secret

    async def access(self, principal: Principal, campaign_id: int | None) -> CampaignAccess | None:
        """The caller's standing in the campaign; None without a campaign or membership
        (the service then answers 404, as for an asset that does not exist)."""
        if campaign_id is None:
            return None
        calls = self._campaigns()
        if calls is None:
            raise Unavailable(
                "Campaign assets need the campaigns application, which is not running; "
                "deploy it (serve_config.yaml) and retry.",
                code="campaigns_unavailable",
            )
        try:
            return await calls.access(principal, campaign_id)
        except NotFound:
            return None

    async def call(
        self,
        principal: Principal,
        fn: Callable[[AssetService], R],
        *,
        campaign_id: int | None = None,
        asset_id: int | None = None,
        version_id: int | None = None,
    ) -> R:
        """`fn(service)` with the caller's standing in the campaign concerned: given, or
        that of the asset or version named."""
        if asset_id is not None or version_id is not None:
            campaign_id = await self.runner.run(
                principal,
                lambda b: AssetService.campaign_of(
                    b.session, asset_id=asset_id, version_id=version_id
                ),
            )
        access = await self.access(signed_in(principal), campaign_id)
        return await self.runner.run(principal, lambda b: fn(b.service(access)))


def _context(request: Request) -> AssetsContext:
    return request.app.state.assets


Assets = Annotated[AssetsContext, Depends(_context)]
