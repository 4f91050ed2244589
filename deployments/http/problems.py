"""RFC 9457 problem+json for every error: a stable `code`, a human `detail`, no tracebacks."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cluster.logs import get_logger, request_id_var
from domain.errors import DomainError
from domain.sheet import shape_errors

log = get_logger("http")
MEDIA_TYPE = "application/problem+json"

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://lorekeeper.dev/problems/{code}",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "code": code,
        "detail": detail,
        "request_id": request_id_var.get(),
        **extra,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    if "retry_after" in exc.extra:  # 429, and 503 for a replica that went away
        headers = {"Retry-After": str(exc.extra["retry_after"])}
    return problem(
        exc.status,
        exc.code,
        exc.detail,
        title=exc.title,
        errors=exc.errors,
        headers=headers,
        **exc.extra,
    )


async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem(400, "malformed_json", "The request body is not valid JSON.")
    out = [
        {
            # Drop FastAPI's "body"/"query" prefix: the path is into what the client sent.
            "path": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
            "in": str(e["loc"][0]),
            "code": e["type"],
            "message": e["msg"],
        }
        for e in errors
    ]
    return problem(
        422,
        "validation_error",
        f"The request has {len(out)} invalid field(s); see errors for each path.",
        errors=out,
    )


async def _model_error(_: Request, exc: ValidationError) -> JSONResponse:
    # A document parsed inside a service (a stored version, a homebrew entry) failed.
    out = shape_errors(exc)
    return problem(422, "validation_error", f"{len(out)} invalid field(s).", errors=out)


async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    return problem(exc.status_code, code, str(exc.detail), headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(
        500,
        "internal_error",
        "Something went wrong on our side; retry, and report the request_id if it persists.",
        # This handler runs outside the request-ID middleware, so it sets the header itself.
        headers={"x-request-id": request_id_var.get()}
        if request.app.state.echo_request_id
        else None,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(ValidationError, _model_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
