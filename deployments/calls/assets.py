"""The assets application's calls: what other applications may ask of the storage service
(the images application proxies its /generate/map here)."""

from __future__ import annotations

from typing import Protocol

from deployments.calls.app import AppCalls
from domain.maps.messages import MapCreate, MapOut
from domain.users.schemas import Principal


class AssetCalls(AppCalls, Protocol):
    async def generate_map(self, principal: Principal, req: MapCreate) -> MapOut:
        """A battle map generated (or the stored one of an identical request) and stored as
        the caller's assets: PNG, JSON layout and .dd2vtt. 404 for a campaign that is not
        the caller's; 403 for a visibility a player may not set."""
        ...
