"""Settings, read from the environment with the prefix LOREKEEPER_ (or a .env file)."""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, IPvAnyNetwork, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOREKEEPER_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    # Default: a SQLite file under data_dir. PostgreSQL: postgresql+psycopg://user@host/db
    database_url: str | None = None
    # Unset: the in-process equivalents (cache, rate limits, locks) are used.
    redis_url: str | None = None
    # Login: per username (from any address, so spraying one account is capped too) and per
    # client address (across usernames). Register: per client address.
    login_attempts_per_minute: int = Field(10, ge=1, le=10_000)
    login_attempts_per_address_per_minute: int = Field(30, ge=1, le=10_000)
    registrations_per_minute: int = Field(20, ge=1, le=10_000)
    # Proxies whose X-Forwarded-For is believed (IPs or CIDRs, comma-separated). Empty: the
    # client address is the TCP peer's, whatever the header says.
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = []
    host: str = "127.0.0.1"
    port: int = 8000
    # Unset: read or create a random secret in data_dir/jwt-secret, so tokens survive restarts.
    jwt_secret: str | None = None
    access_token_minutes: int = Field(15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(14, ge=1, le=365)
    max_body_bytes: int = Field(8 * 1024 * 1024, ge=1024)
    log_level: str = "INFO"
    # Ray: "auto"/an address joins a running cluster; unset starts one on this machine.
    ray_address: str | None = None
    ray_dashboard: bool = False
    # Logical CPUs of a local head (unset: the machine's count, at least 4). Replicas reserve
    # fractions of them; most services idle most of the time, so a small machine is
    # oversubscribed on purpose rather than leaving applications unplaced.
    ray_num_cpus: float | None = Field(None, gt=0)
    # Ray's Prometheus endpoint on this node (Serve's request, latency and replica metrics,
    # and the applications' own); HAProxy's are on RAY_SERVE_HAPROXY_METRICS_PORT.
    metrics_port: int = Field(8090, ge=1024, le=65535)
    # Serve's HTTP ingress: HAProxy in front of the replicas, or Serve's Python proxy (the
    # fallback, ~8 ms slower per request). See README, The cluster; cluster/ingress.py.
    ingress: Literal["haproxy", "proxy"] = "haproxy"
    # Where models are built, converted and looked up (models/registry.py); unset:
    # data_dir/models. Share one across data dirs to convert Gemma once.
    models_dir: Path | None = None
    # Assets (docs/storage.md): where blobs live, and the space and upload limits.
    blob_backend: Literal["local", "s3"] = "local"
    blob_dir: Path | None = None  # local backend; unset: data_dir/blobs
    blob_s3_bucket: str | None = None
    blob_s3_endpoint: str | None = None  # unset: AWS; MinIO and others: their URL
    blob_s3_access_key: str | None = None
    blob_s3_secret_key: str | None = None
    blob_s3_region: str = "us-east-1"
    asset_quota_bytes: int = Field(1024**3, ge=0)  # per campaign, and per user's private assets
    asset_max_upload_bytes: int = Field(5 * 1024**2, ge=1024)
    asset_max_upload_pixels: int = Field(40_000_000, ge=1)
    # Signed asset URLs: HMAC key (unset: the JWT secret), lifetime, and the CDN in front.
    asset_url_secret: str | None = None
    asset_url_ttl_s: int = Field(3600, ge=10, le=7 * 24 * 3600)
    asset_cdn_base_url: str | None = None

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):  # "10.0.0.0/8, ::1" rather than JSON
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir or self.data_dir / "models"

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'lorekeeper.db').resolve()}"

    @cached_property
    def resolved_jwt_secret(self) -> str:
        if self.jwt_secret:
            return self.jwt_secret
        path = self.data_dir / "jwt-secret"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:  # O_EXCL: of several replicas starting at once, exactly one writes the secret
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        for _ in range(50):  # the writer may not have finished
            if secret := path.read_text().strip():
                return secret
            time.sleep(0.1)
        raise RuntimeError(f"{path} is empty: delete it, or set LOREKEEPER_JWT_SECRET.")

    @property
    def access_ttl(self) -> timedelta:
        return timedelta(minutes=self.access_token_minutes)

    @property
    def refresh_ttl(self) -> timedelta:
        return timedelta(days=self.refresh_token_days)


@lru_cache
def get_settings() -> Settings:
    return Settings()
