"""What every application answers, whatever its domain: readiness and its OpenAPI document."""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel


class Readiness(BaseModel):
    ready: bool
    # Each dependency: "ok", "down" or "not configured".
    dependencies: dict[str, Literal["ok", "down", "not configured"]]


class AppCalls(Protocol):
    async def ready(self) -> Readiness: ...

    async def openapi(self) -> dict[str, Any]:
        """The application's own OpenAPI document, paths relative to its route prefix."""
        ...
