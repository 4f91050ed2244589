"""Domain errors. Each has a stable `code` that the HTTP layer turns into problem+json."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"
    status = 400
    title = "Request cannot be processed"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        code: str | None = None,
        **extra: Any,
    ):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra  # more members of the problem document
        if code:
            self.code = code

    def __reduce__(self):  # keep the fields when Ray ships the error between processes
        return (_rebuild, (type(self), self.detail, self.errors, self.code, self.extra))


def _rebuild(cls: type[DomainError], detail: str, errors: list, code: str, extra: dict):
    return cls(detail, errors=errors, code=code, **extra)


class NotFound(DomainError):
    code, status, title = "not_found", 404, "Not found"


class Forbidden(DomainError):
    code, status, title = "forbidden", 403, "Not allowed"


class Unauthorized(DomainError):
    code, status, title = "unauthorized", 401, "Not authenticated"


class Conflict(DomainError):
    code, status, title = "conflict", 409, "Conflict"


class VersionConflict(Conflict):
    code, title = "version_conflict", "Stale write"


class PreconditionRequired(DomainError):
    code, status, title = "precondition_required", 428, "Precondition required"


class InvalidCharacter(DomainError):
    code, status, title = "character_invalid", 422, "Character breaks the rules"


class InvalidRequest(DomainError):
    code, status, title = "invalid_request", 422, "Invalid request"


class RateLimited(DomainError):
    code, status, title = "rate_limited", 429, "Too many requests"


class Unavailable(DomainError):
    code, status, title = "unavailable", 503, "Service unavailable"
