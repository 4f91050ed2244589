"""Request helpers shared by the routers."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header, Request

from deployments.gateway.backend import Backend
from domain.errors import InvalidRequest

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')


def backend(request: Request) -> Backend:
    return request.app.state.backend


def if_match(
    value: Annotated[
        str | None,
        Header(alias="If-Match", description='The version you edited, as the ETag: "3"'),
    ] = None,
) -> int | None:
    """The version number a write is based on; None when the header is absent."""
    if value is None:
        return None
    match = _ETAG.match(value.strip())
    if not match:
        raise InvalidRequest(
            f'If-Match must be a version ETag such as "3", not {value!r}.', code="bad_if_match"
        )
    return int(match.group(1))


def etag(version: int) -> str:
    return f'"{version}"'
