"""RFC 9457 problem+json for every error: a stable `code`, a human `detail`, no tracebacks."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from cluster.logs import get_logger, request_id_var
from domain.errors import DomainError
from domain.sheet import shape_errors

log = get_logger("http")
MEDIA_TYPE = "application/problem+json"

_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


class Problem(BaseModel):
    """An RFC 9457 problem document: the body of every error answer. Some codes add members
    (`current_version` for `version_conflict`, `retry_after` for `rate_limited`)."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(description="https://lorekeeper.dev/problems/<code>")
    title: str
    status: int
    code: str = Field(description="Stable, for programs: `validation_error`, `not_found`, ...")
    detail: str = Field(description="For people: what went wrong and how to fix it.")
    request_id: str = Field(description="Also in the X-Request-ID header and every log line.")
    errors: list[dict[str, Any]] = Field(
        [],
        description="Validation errors `{path, code, message, fix?}` (for `bulk_invalid`, the "
        "failed items `{index, ok, errors}`); absent when there are none.",
    )


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


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    headers = exc.headers
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        headers = {**(headers or {}), "Allow": allowed}
    return problem(exc.status_code, code, str(exc.detail), headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method the path answers (RFC 9110): Starlette's 405 names only the methods of
    the first route whose path matched, and FastAPI makes a route per method."""
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    allowed = [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]
    return ", ".join(allowed)


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


# --- OpenAPI: the problem answers of every operation ------------------------------------

_SCHEMA_REF = {"$ref": "#/components/schemas/Problem"}
_DESCRIPTIONS = {
    400: "`malformed_json`, `json_too_deep`: the body is not JSON the API can read",
    401: "`unauthorized`: no access token, or an expired or invalid one",
    403: "`forbidden`: your role lacks the permission",
    404: "`not_found`: no such resource, or one you may not see",
    409: "Conflicts with the current state: `version_conflict` (with `current_version`)",
    413: "`payload_too_large`: the body is over LOREKEEPER_MAX_BODY_BYTES",
    422: "`validation_error` (with `errors`), `nul_byte`, or a rule of this operation",
    428: "`precondition_required`: send If-Match with the version you edited",
    429: "`rate_limited`: retry after Retry-After seconds",
    431: "`headers_too_large`: the request headers are over 16 KiB together",
    500: "`internal_error`: a bug on our side; report the request_id",
    503: "`database_unavailable`: retry shortly",
}
_WRITES = ("post", "put", "patch")


def document(doc: dict[str, Any], *, uses_database: bool) -> None:
    """Every operation of an OpenAPI document lists the problem answers it can give,
    derived from what it takes: any request (422, 431, 500), a token (401, 403), an id or
    slug in the path (404), a body (400, 413), If-Match (409, 428), the database (503). A
    route adds others with `responses={409: {"description": ...}}`; each gets the Problem
    schema and content type."""
    for path_item in doc.get("paths", {}).values():
        for method, op in path_item.items():
            if method in ("parameters", "summary", "description", "servers"):
                continue
            responses = op.setdefault("responses", {})
            for status in _statuses(method, op, uses_database):
                responses.setdefault(str(status), {})
            op["responses"] = responses = dict(sorted(responses.items()))
            for status, response in responses.items():
                if not status.isdigit() or int(status) < 400:
                    continue
                if status == "422" or not response.get("content"):
                    # FastAPI's own 422 (HTTPValidationError) is not what we send.
                    response["content"] = {MEDIA_TYPE: {"schema": _SCHEMA_REF}}
                if response.get("description") in (None, "", "Validation Error"):
                    code = int(status)
                    response["description"] = _DESCRIPTIONS.get(code, HTTPStatus(code).phrase)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for unused in ("HTTPValidationError", "ValidationError"):  # FastAPI's, replaced above
        schemas.pop(unused, None)


def _statuses(method: str, op: dict[str, Any], uses_database: bool) -> list[int]:
    params = op.get("parameters", [])
    found = [422, 431, 500]
    if op.get("security"):
        found += [401, 403]
    # An enum (a ruleset, a table) that does not match is a 422; an id or slug may be absent.
    if any(p.get("in") == "path" and "enum" not in p.get("schema", {}) for p in params):
        found.append(404)
    if method in _WRITES:  # the middleware reads every such body before any route
        found += [400, 413]
    if any(p.get("in") == "header" and p.get("name", "").lower() == "if-match" for p in params):
        found += [409, 428]
    if uses_database:
        found.append(503)
    return sorted(found)
