"""ETags and If-Match: a write names the version it was based on."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header

from domain.errors import InvalidRequest

_ETAG = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')


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


IfMatch = Annotated[int | None, Depends(if_match)]


def etag(version: int) -> str:
    return f'"{version}"'
