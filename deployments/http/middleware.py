"""Pure-ASGI middleware every application mounts: request ids, limits on headers and bodies
(size, JSON depth, NUL bytes), security headers and one JSON log line per request."""

from __future__ import annotations

import re
import time
from itertools import accumulate

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cluster.logs import get_logger, request_id_var
from cluster.request_ids import HEADER as REQUEST_ID
from cluster.request_ids import safe_request_id
from deployments.http.problems import problem

log = get_logger("access")

MAX_HEADER_BYTES = 16 * 1024  # all request headers together, as HAProxy's default buffer
MAX_JSON_DEPTH = 64
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff")]


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest, counted in C-speed passes (no recursion)."""
    brackets = _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS)
    return max(accumulate(_STEP[b] for b in brackets), default=0)


def _has_nul(raw: bytes, *, url: bool = False) -> bool:
    """A NUL, raw or JSON-escaped; in a path or query also percent-encoded (in a body, "%00"
    is plain text)."""
    return b"\x00" in raw or b"\\u0000" in raw or (url and b"%00" in raw)


class RequestContext:
    def __init__(self, app: ASGIApp, max_body_bytes: int, echo_header: bool = True):
        self.app = app
        self.max_body = max_body_bytes
        self.echo_header = echo_header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        given = next((v for k, v in headers if k.lower() == REQUEST_ID), b"")
        rid = safe_request_id(given.decode("latin-1"))
        request_id_var.set(rid)
        start = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = list(_SECURITY_HEADERS)
                if self.echo_header:  # behind Serve, its RequestIdMiddleware echoes the id
                    extra.append((REQUEST_ID, rid.encode()))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            rejection = _check_head(scope, self.max_body)
            if rejection is None and scope["method"] in ("POST", "PUT", "PATCH"):
                body, rejection = await _read_body(receive, self.max_body, _textual(scope))
                receive = _replay(body, receive)
            if rejection is not None:
                await rejection(scope, receive, send_with_headers)
            else:
                await self.app(scope, receive, send_with_headers)
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


def _check_head(scope: Scope, max_body: int):
    headers = scope["headers"]
    if sum(len(k) + len(v) for k, v in headers) > MAX_HEADER_BYTES:
        return problem(
            431,
            "headers_too_large",
            f"The request headers are over {MAX_HEADER_BYTES} bytes together; send fewer "
            "or shorter ones.",
        )
    raw_path = scope.get("raw_path") or scope["path"].encode()
    if _has_nul(raw_path, url=True) or _has_nul(scope.get("query_string", b""), url=True):
        return _nul_problem()
    length = next((v for k, v in headers if k.lower() == b"content-length"), None)
    if length is not None and length.isdigit() and int(length) > max_body:
        return _too_large(max_body)
    return None


def _textual(scope: Scope) -> bool:
    """JSON, text or a form: the bodies whose NULs and depth are checked here. Binary bodies
    (an image upload) hold NULs legitimately; a JSON route never parses them (FastAPI reads
    JSON only from a JSON content type), so the routes that take them check them."""
    value = next((v for k, v in scope["headers"] if k.lower() == b"content-type"), b"")
    kind = value.split(b";", 1)[0].strip().lower()
    return (
        not kind
        or kind in (b"application/json", b"application/x-www-form-urlencoded")
        or kind.endswith(b"+json")
        or kind.startswith(b"text/")
    )


async def _read_body(receive: Receive, max_body: int, textual: bool = True):
    """The whole body (chunked bodies have no Content-Length), checked before any route."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body:
            return b"", _too_large(max_body)
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    if not textual:
        return body, None
    if _has_nul(body):
        return body, _nul_problem()
    if json_depth(body) > MAX_JSON_DEPTH:
        return body, problem(
            400,
            "json_too_deep",
            f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels; flatten it.",
        )
    return body, None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: wait for the disconnect

    return replay


def _too_large(limit: int):
    return problem(
        413,
        "payload_too_large",
        f"The request body is over {limit} bytes; send less (bulk calls take at most 1,000 "
        "characters).",
    )


def _nul_problem():
    return problem(
        422,
        "nul_byte",
        "The request contains a NUL character (\\u0000 or %00); remove it from names, reasons "
        "and other text.",
    )
