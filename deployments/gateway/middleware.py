"""Pure-ASGI middleware: request IDs, body-size limit and one JSON log line per request."""

from __future__ import annotations

import re
import time
import uuid

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cluster.logs import get_logger, request_id_var
from deployments.gateway.problems import problem

log = get_logger("access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class BodyTooLarge(HTTPException):
    """Raised while the body streams in; FastAPI passes HTTPExceptions to the handlers."""

    def __init__(self, limit: int):
        super().__init__(
            413,
            f"The request body is over {limit} bytes; send less (bulk calls take "
            "at most 1,000 characters).",
        )


class RequestContext:
    def __init__(self, app: ASGIApp, max_body_bytes: int, echo_header: bool = True):
        self.app = app
        self.max_body = max_body_bytes
        self.echo_header = echo_header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = given if _SAFE_ID.match(given) else uuid.uuid4().hex
        request_id_var.set(rid)
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            if message["type"] == "http.response.start" and self.echo_header:
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            exc = BodyTooLarge(self.max_body)
            await problem(413, "payload_too_large", exc.detail)(scope, receive, send_with_id)
        else:
            received = 0

            async def counted_receive() -> Message:
                nonlocal received
                message = await receive()
                received += len(message.get("body", b""))
                if received > self.max_body:  # chunked bodies have no Content-Length
                    raise BodyTooLarge(self.max_body)
                return message

            try:
                await self.app(scope, counted_receive, send_with_id)
            finally:
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "ms": round((time.perf_counter() - start) * 1000, 2),
                    },
                )
