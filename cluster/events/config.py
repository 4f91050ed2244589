"""The hub's tuning, from the environment with the prefix LOREKEEPER_EVENTS_."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOREKEEPER_EVENTS_", extra="ignore")

    # A delivery that failed this many times goes to the dead letters with its last error.
    max_deliveries: int = Field(5, ge=1, le=100)
    # Redelivery backoff: base * 2^(deliveries-1), capped.
    retry_base_ms: int = Field(1000, ge=1)
    retry_max_ms: int = Field(60_000, ge=1)
    # A consumer that holds a delivery this long without an answer is taken for dead.
    lease_s: float = Field(30, gt=0)
    batch: int = Field(100, ge=1, le=10_000)
    # A consumer handles a fetched batch in one transaction (a savepoint per event), closed
    # after this long: it holds its rows' locks no longer than that.
    tx_ms: int = Field(250, ge=1, le=60_000)
    # How often an idle relay or consumer looks again (Redis consumers block this long).
    poll_ms: int = Field(50, ge=1, le=10_000)
    # Redis Streams are trimmed to about this many entries (the outbox keeps every event:
    # `lorekeeper events replay` recovers what a slow group lost to trimming).
    stream_maxlen: int = Field(100_000, ge=100)
    redis_prefix: str = "lorekeeper:events:"
    heartbeat_s: float = Field(5, gt=0)
    # The circuit breaker around each consumer's handlers: this many downstream failures in
    # a row open it; after reset_s one delivery is tried again.
    breaker_failures: int = Field(5, ge=1)
    breaker_reset_s: float = Field(10, gt=0)

    def backoff_s(self, deliveries: int) -> float:
        """The wait before delivery number `deliveries + 1`."""
        exponent = max(0, deliveries - 1)
        return min(self.retry_max_ms, self.retry_base_ms * 2 ** min(exponent, 30)) / 1000
