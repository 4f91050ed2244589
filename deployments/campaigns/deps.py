"""What every campaign route takes: the service runner and bounded ids."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request, Response

from deployments.common.runner import ServiceRunner
from deployments.http.etags import etag
from domain.campaigns.records import MAX_ID
from domain.campaigns.services import Campaigns

PREFIX = "/api/v2/campaigns"
# Bounded so that an absurd id is a 422, not a database overflow.
CampaignId = Annotated[int, Path(ge=1, le=MAX_ID)]
RecordId = Annotated[int, Path(ge=1, le=MAX_ID)]
Number = Annotated[int, Path(ge=1, le=MAX_ID)]


def _campaigns(request: Request) -> ServiceRunner[Campaigns]:
    return request.app.state.campaigns


Service = Annotated[ServiceRunner[Campaigns], Depends(_campaigns)]


def with_etag(response: Response, out):
    response.headers["ETag"] = etag(out.version)
    return out
