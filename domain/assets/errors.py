"""The storage service's own refusals (413s: a body or a campaign's space is too big)."""

from __future__ import annotations

from domain.errors import DomainError


class TooLarge(DomainError):
    """An upload over the size or pixel limit, or a write past the campaign's quota."""

    code, status, title = "payload_too_large", 413, "Too large"


class UnsupportedMediaType(DomainError):
    """A raw upload whose Content-Type is not one of the image types taken."""

    code, status, title = "unsupported_media_type", 415, "Unsupported media type"
