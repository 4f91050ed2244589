"""Gateway latency: GET /api/v2/characters/{id} through Ray Serve vs. bare uvicorn.

Both servers run the same gateway and domain code, each on its own SQLite file, started
as subprocesses of this script; the load generator shares the machine with them.

    .venv/bin/python -m benchmarks.gateway_latency [--requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.harness import HEADER, ROOT, Result, Server, load
from domain.characters.examples import EXAMPLE_2024

SERVE_PORT, UVICORN_PORT = 8100, 8101


def setup_user_and_character(base: str) -> tuple[dict[str, str], int]:
    creds = {"username": "bench", "password": "benchmark-password"}
    httpx.post(f"{base}/api/v2/auth/register", json=creds, timeout=30)
    token = httpx.post(f"{base}/api/v2/auth/login", json=creds, timeout=30).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    r = httpx.post(f"{base}/api/v2/characters", json=EXAMPLE_2024, headers=headers, timeout=30)
    r.raise_for_status()
    return headers, r.json()["id"]


def bulk_validate_seconds(base: str, headers: dict[str, str], n: int = 1000) -> float:
    body = {"characters": [EXAMPLE_2024] * n}
    httpx.post(f"{base}/api/v2/characters/bulk/validate", json=body, headers=headers, timeout=60)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        r = httpx.post(
            f"{base}/api/v2/characters/bulk/validate", json=body, headers=headers, timeout=60
        )
        r.raise_for_status()
        assert len(r.json()["items"]) == n
        best = min(best, time.perf_counter() - start)
    return best


async def measure(name: str, base: str, total: int) -> list[Result]:
    headers, cid = setup_user_and_character(base)
    path = f"/api/v2/characters/{cid}"
    results = []
    for concurrency in (1, 32):
        await load(name, lambda c: c.get(path, headers=headers), concurrency, total // 10, base)
        results.append(
            await load(name, lambda c: c.get(path, headers=headers), concurrency, total, base)
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lk-bench-"))

    results: list[Result] = []
    bulk: dict[str, float] = {}
    for name, cmd, port in (
        ("serve", ["run", "--config", str(ROOT / "serve_config.yaml")], SERVE_PORT),
        ("uvicorn", ["serve-local"], UVICORN_PORT),
    ):
        env = {
            "LOREKEEPER_DATA_DIR": str(work / name),
            "LOREKEEPER_PORT": str(port),
            "LOREKEEPER_LOG_LEVEL": "WARNING",
        }
        server = Server(cmd, env, work / f"{name}.log")
        base = f"http://127.0.0.1:{port}"
        try:
            print(f"starting {name}...", flush=True)
            server.wait_ready(base)
            results += asyncio.run(measure(name, base, args.requests))
            headers, _ = setup_user_and_character(base)
            bulk[name] = bulk_validate_seconds(base, headers)
        finally:
            server.stop()

    print(HEADER)
    for r in results:
        print(r.row())
    by = {(r.name, r.concurrency): r for r in results}
    for c in (1, 32):
        s, u = by[("serve", c)], by[("uvicorn", c)]
        print(
            f"concurrency {c}: serve/uvicorn p50 {s.p50_ms / u.p50_ms:.2f}x, "
            f"p99 {s.p99_ms / u.p99_ms:.2f}x, req/s {s.rps / u.rps:.2f}x"
        )
    for name, seconds in bulk.items():
        print(f"POST /bulk/validate of 1,000 characters via {name}: {seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
