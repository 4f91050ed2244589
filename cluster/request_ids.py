"""Request ids: echoed only when safe, so the X-Request-ID header always equals the body's
`request_id` and never carries markup.

Serve's own RequestIdMiddleware (proxy and direct ingress) echoes whatever id a client sends.
`middlewares()` runs outside it (Serve calls it through RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH)
and replaces an unsafe or missing id with a fresh one before Serve and our apps see it.
"""

from __future__ import annotations

import re
import uuid

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

HEADER = b"x-request-id"
_SAFE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def safe_request_id(given: str | None) -> str:
    """The client's id when it is short and plain, else a new one."""
    return given if given and _SAFE.match(given) else uuid.uuid4().hex


class SafeRequestId:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = [v for k, v in scope["headers"] if k.lower() == HEADER]
            value = given[0].decode("latin-1") if len(given) == 1 else None
            rid = safe_request_id(value)
            if rid != value:
                headers = [(k, v) for k, v in scope["headers"] if k.lower() != HEADER]
                scope = {**scope, "headers": [*headers, (HEADER, rid.encode())]}
        await self.app(scope, receive, send)


def middlewares() -> list[Middleware]:
    return [Middleware(SafeRequestId)]
