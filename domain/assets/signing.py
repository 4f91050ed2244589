"""Signed, expiring URLs: an HMAC of the path and expiry time, so a CDN or a browser can
fetch a blob without a token, and only until the expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from domain.errors import Forbidden


def signature(secret: str, path: str, expires: int) -> str:
    mac = hmac.new(secret.encode(), f"{path}\n{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def sign(secret: str, path: str, ttl_s: int, base_url: str = "", now: float | None = None) -> str:
    expires = int((time.time() if now is None else now) + ttl_s)
    return f"{base_url.rstrip('/')}{path}?exp={expires}&sig={signature(secret, path, expires)}"


def verify(secret: str, path: str, expires: int | None, sig: str | None) -> None:
    """Raises 403 with `url_signature_invalid` or `url_expired`."""
    if expires is None or not sig:
        raise Forbidden(
            "This URL needs exp and sig query parameters: get a signed URL from "
            "POST /api/v2/assets/versions/{id}/signed-urls.",
            code="url_signature_missing",
        )
    # As bytes: compare_digest refuses str with non-ASCII characters, and a forged sig may
    # hold any.
    given = sig.encode("utf-8", "replace")
    if not hmac.compare_digest(signature(secret, path, expires).encode(), given):
        raise Forbidden(
            "The URL's signature does not match; ask for a new signed URL.",
            code="url_signature_invalid",
        )
    if expires < time.time():
        raise Forbidden("The signed URL has expired; ask for a new one.", code="url_expired")
