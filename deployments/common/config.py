"""The config object of an application: serve_config.yaml's `args`, validated by Serve (the
builder's annotation) and by `lorekeeper run` before anything starts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AppConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    threads: int = Field(
        16,
        ge=1,
        le=256,
        description="Worker threads for blocking work (database, hashing) per replica; keep "
        "it within the database pool and max_ongoing_requests.",
    )
