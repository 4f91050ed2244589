"""/docs needs no network: the page, and everything it names, comes from the portal itself.
(README, API: the same page checked in headless Chromium, every request seen.)"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

ORIGIN = "http://testserver"
TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png", ".json": "json"}


class _References(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def _same_origin_path(url: str) -> str:
    """The path of `url` as the page resolves it; fails for any other origin (a CDN)."""
    parts = urlsplit(urljoin(f"{ORIGIN}/docs", url))
    assert f"{parts.scheme}://{parts.netloc}" == ORIGIN, f"/docs loads {url} from elsewhere"
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_docs_load_only_from_the_portal(client):
    r = client.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    refs = _References()
    refs.feed(r.text)
    # Swagger UI's script reads the document from `url:` in the page's own script.
    spec_urls = re.findall(r"""\burl:\s*['"]([^'"]+)['"]""", r.text)
    assert spec_urls, "no OpenAPI url in the page"
    urls = refs.urls + spec_urls
    assert any(u.endswith(".js") for u in urls) and any(u.endswith(".css") for u in urls)
    for url in urls:
        path = _same_origin_path(url)
        got = client.get(path)
        assert got.status_code == 200, (url, got.status_code)
        suffix = next((s for s in TYPES if urlsplit(path).path.endswith(s)), ".json")
        assert TYPES[suffix] in got.headers["content-type"], (url, got.headers["content-type"])
