"""Sending a blob over HTTP: strong ETags (the sha256), conditional GETs, single byte
ranges (RFC 9110) with 416 for one that misses the blob, and streamed bodies."""

from __future__ import annotations

import re

import anyio
from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from deployments.http.problems import problem
from domain.assets.blobs import BlobMissing, BlobStore
from domain.errors import Unavailable

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
IMMUTABLE = "public, max-age=31536000, immutable"
PRIVATE_IMMUTABLE = "private, max-age=31536000, immutable"


def byte_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """(start, end) inclusive; None: serve it all (no range, or one we may ignore, such as
    several ranges); False: unsatisfiable (416)."""
    match = _RANGE.match(header.replace(" ", ""))
    if not match or match.groups() == ("", ""):
        return None  # RFC 9110: a Range the server does not understand is ignored
    first, last = match.groups()
    if first == "":  # the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            return False
        return max(0, size - n), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or (last != "" and int(last) < start):
        return False
    return start, end


def _matches(header: str, etag: str) -> bool:
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


async def send_blob(
    request: Request,
    blobs: BlobStore,
    sha: str,
    size: int,
    content_type: str,
    cache_control: str,
    filename: str | None = None,
) -> Response:
    etag = f'"{sha}"'
    headers = {"ETag": etag, "Cache-Control": cache_control, "Accept-Ranges": "bytes"}
    if filename:
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if (inm := request.headers.get("if-none-match")) and _matches(inm, etag):
        return Response(status_code=304, headers=headers)
    status, start, end = 200, 0, size - 1
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if wanted and (if_range is None or if_range.strip() == etag):
        chosen = byte_range(wanted, size)
        if chosen is False:
            return problem(
                416,
                "range_not_satisfiable",
                f"The range {wanted!r} is outside the content's {size} bytes; ask for "
                f"bytes=0-{max(size - 1, 0)} or less.",
                headers={"Content-Range": f"bytes */{size}"},
            )
        if chosen is not None:
            status, (start, end) = 206, chosen
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(max(0, end - start + 1))
    try:  # open before answering: a missing blob is a clear 503, not a cut-off body
        chunks = await anyio.to_thread.run_sync(blobs.open_range, sha, start, end)
    except BlobMissing:
        raise blob_missing(sha) from None
    return StreamingResponse(chunks, status_code=status, headers=headers, media_type=content_type)


def blob_missing(sha: str) -> Unavailable:
    return Unavailable(
        f"The stored bytes of this asset ({sha}) are missing; an operator should run "
        "`lorekeeper storage verify` and restore from a backup.",
        code="blob_missing",
    )
