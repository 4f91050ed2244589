"""Does /docs render with no network? Serves every application with `lorekeeper serve-local`
on a free port, loads /docs in headless Chromium (Debian's `chromium`) over the DevTools
protocol with every other host unresolvable, and prints every request the page made and the
operations Swagger UI shows; writes a PNG of them.

    .venv/bin/python scripts/docs_offline_check.py [--host lorekeeper.test] [--png out.png]

`--host`: a name mapped to 127.0.0.1 (Swagger UI treats localhost specially: it never shows
the online validator badge there, so a real name is the stricter check). Exits 1 if any
request left the server or no operation rendered.
"""

import argparse
import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parent.parent


# What Swagger UI rendered: tags, operations ("GET /path"), the title, any error box.
_PAGE_FACTS = """JSON.stringify({
  tags: [...document.querySelectorAll('.opblock-tag')].map(e => e.getAttribute('data-tag')),
  ops: [...document.querySelectorAll('.opblock')].map(e =>
    e.querySelector('.opblock-summary-method').textContent + ' ' +
    e.querySelector('.opblock-summary-path').getAttribute('data-path')),
  title: (document.querySelector('.info .title') || {}).textContent,
  errors: [...document.querySelectorAll('.errors-wrapper')].map(e => e.textContent)
})"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer")


async def cdp(ws_url: str, origin: str, out_png: str) -> dict:
    requests: list[dict] = []
    failed: list[dict] = []
    msg_id = 0
    pending: dict[int, asyncio.Future] = {}
    loaded = asyncio.Event()

    async with websockets.connect(ws_url, max_size=64 * 1024 * 1024) as ws:

        async def reader():
            async for raw in ws:
                m = json.loads(raw)
                if "id" in m and m["id"] in pending:
                    pending.pop(m["id"]).set_result(m)
                elif m.get("method") == "Network.requestWillBeSent":
                    p = m["params"]
                    requests.append({"url": p["request"]["url"], "type": p.get("type")})
                elif m.get("method") == "Network.loadingFailed":
                    failed.append(m["params"])
                elif m.get("method") == "Page.loadEventFired":
                    loaded.set()

        task = asyncio.create_task(reader())

        async def call(method, **params):
            nonlocal msg_id
            msg_id += 1
            fut = asyncio.get_running_loop().create_future()
            pending[msg_id] = fut
            await ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
            return (await asyncio.wait_for(fut, 60)).get("result", {})

        await call("Network.enable")
        await call("Page.enable")
        await call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=1500,
            deviceScaleFactor=1,
            mobile=False,
        )
        await call("Page.navigate", url=f"{origin}/docs")
        await asyncio.wait_for(loaded.wait(), 60)
        # Swagger UI fetches /openapi.json after load and renders: wait for the operations.
        count = 0
        for _ in range(120):
            r = await call(
                "Runtime.evaluate",
                expression="document.querySelectorAll('.opblock').length",
                returnByValue=True,
            )
            count = r["result"]["value"]
            if count:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)
        r = await call(
            "Runtime.evaluate",
            expression=_PAGE_FACTS,
            returnByValue=True,
        )
        page = json.loads(r["result"]["value"])
        r = await call(
            "Runtime.evaluate",
            expression="document.documentElement.scrollHeight",
            returnByValue=True,
        )
        height = r["result"]["value"]
        await call(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        await asyncio.sleep(1)
        r = await call(
            "Runtime.evaluate",
            expression="(document.querySelector('section.models') || document.body)"
            ".getBoundingClientRect().top + window.scrollY",
            returnByValue=True,
        )
        ops_end = int(r["result"]["value"])  # every operation, not the schemas below
        shot = await call(
            "Page.captureScreenshot",
            format="png",
            clip={"x": 0, "y": 0, "width": 1280, "height": ops_end, "scale": 0.75},
        )
        with open(out_png, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        task.cancel()
    return {"requests": requests, "failed": failed, "page": page, "count": count}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--png", default="api-docs-offline.png")
    args = parser.parse_args()
    api, devtools = free_port(), free_port()
    origin = f"http://{args.host}:{api}"
    data = tempfile.mkdtemp(prefix="lk-docs-")
    env = {**os.environ, "LOREKEEPER_DATA_DIR": data, "LOREKEEPER_LOG_LEVEL": "WARNING"}
    env.pop("LOREKEEPER_DATABASE_URL", None)
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/lorekeeper"), "serve-local", "--port", str(api)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    browser = None
    try:
        wait_http(f"http://127.0.0.1:{api}/healthz", 120)
        profile = tempfile.mkdtemp(prefix="lk-chromium-")
        browser = subprocess.Popen(
            [
                "chromium",
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                # No network but this machine: any other host fails to resolve.
                f"--host-resolver-rules=MAP {args.host} 127.0.0.1, MAP * ~NOTFOUND, "
                "EXCLUDE 127.0.0.1",
                f"--user-data-dir={profile}",
                f"--remote-debugging-port={devtools}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_http(f"http://127.0.0.1:{devtools}/json/version", 60)
        with urllib.request.urlopen(f"http://127.0.0.1:{devtools}/json/list") as r:
            targets = json.load(r)
        ws_url = next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"]
        result = asyncio.run(cdp(ws_url, origin, args.png))
    finally:
        for proc in (browser, server):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    elsewhere = [r["url"] for r in result["requests"] if not r["url"].startswith(origin + "/")]
    print(json.dumps(result, indent=1))
    print(
        f"{len(result['requests'])} requests, {len(elsewhere)} elsewhere; "
        f"{result['count']} operations under {result['page']['tags']}; {args.png}"
    )
    return 1 if elsewhere or result["failed"] or not result["count"] else 0


if __name__ == "__main__":
    sys.exit(main())
