"""ETags and If-Match: a write names the version it was based on."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Header

from deployments.http.auth import CurrentPrincipal
from domain.errors import InvalidRequest

_ETAG = re.compile(r'^(?:W/)?"?([0-9]{1,9})"?$')
_DESCRIPTION = 'The version you edited, as the ETag: "3"'


def if_match(
    _: CurrentPrincipal,  # authenticate first: without a token, a 401 whatever the header says
    value: Annotated[
        str | None,
        Header(alias="If-Match", description=_DESCRIPTION),
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


def document(doc: dict[str, Any]) -> None:
    """In the OpenAPI document, If-Match is required and has the ETag's pattern. In code it
    is optional and unchecked by FastAPI, so that a write without it answers 428
    `precondition_required` (RFC 6585) and a malformed one 422 `bad_if_match`."""
    for path_item in doc.get("paths", {}).values():
        for op in path_item.values():
            for param in op.get("parameters", []) if isinstance(op, dict) else []:
                if param.get("in") == "header" and param.get("name", "").lower() == "if-match":
                    param["required"] = True
                    param["schema"] = {"type": "string", "pattern": _ETAG.pattern}
                    param["description"] = f"{_DESCRIPTION}; without it, 428."
