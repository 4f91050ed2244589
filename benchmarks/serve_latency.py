"""Serve against bare uvicorn, same run: what each ingress setting costs and buys.

For each server the same requests, after a warm-up: `GET /api/v2/characters/{id}` (JWT check,
one database read, rules validation and derived values) and `GET /healthz` (a trivial route:
the floor), at concurrency 1 and 32; then `POST /api/v2/characters/bulk/validate` with 1,000
characters (best of 3). Servers, each started as a subprocess on its own SQLite file:

- uvicorn: `lorekeeper serve-local`, every application in one process (the baseline);
- haproxy: `lorekeeper run`, the default (HAProxy ingress, throughput-optimized Serve);
- haproxy-direct: the same cluster, but the requests go straight to the ingress replica's own
  HTTP port (direct ingress, no HAProxy in between): the floor HAProxy adds to;
- proxy: `LOREKEEPER_INGRESS=proxy`, Serve's Python proxy (throughput profile on);
- proxy-defaults: Serve's Python proxy with Serve's default profile (throughput profile off).

Then the resident memory of the idle default cluster. The load generator shares the 2 cores.

    .venv/bin/python -m benchmarks.serve_latency [--requests 2000] [--only haproxy,uvicorn]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks.harness import HEADER, Result, Server, load
from domain.characters.examples import EXAMPLE_2024
from tests.support import cluster_env

SERVERS: dict[str, tuple[list[str], dict[str, str]]] = {
    "uvicorn": (["serve-local"], {}),
    "haproxy": (["run"], {"LOREKEEPER_INGRESS": "haproxy"}),
    "proxy": (["run"], {"LOREKEEPER_INGRESS": "proxy"}),
    "proxy-defaults": (
        ["run"],
        {"LOREKEEPER_INGRESS": "proxy", "RAY_SERVE_THROUGHPUT_OPTIMIZED": "0"},
    ),
}


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
    url = f"{base}/api/v2/characters/bulk/validate"
    httpx.post(url, json=body, headers=headers, timeout=60)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        r = httpx.post(url, json=body, headers=headers, timeout=60)
        r.raise_for_status()
        assert len(r.json()["items"]) == n
        best = min(best, time.perf_counter() - start)
    return best


async def measure(
    name: str, base: str, total: int, headers: dict[str, str], cid: int, floor: bool = True
) -> list[Result]:
    routes = [("character", f"/api/v2/characters/{cid}", headers)]
    if floor:
        routes.append(("healthz", "/healthz", {}))
    results = []
    for route, path, hdrs in routes:
        for concurrency in (1, 32):
            label = f"{name} {route}"
            request = lambda c, p=path, h=hdrs: c.get(p, headers=h)  # noqa: E731
            await load(label, request, concurrency, total // 10, base)  # warm-up
            results.append(await load(label, request, concurrency, total, base))
    return results


def replica_port(app: str) -> int:
    """The direct-ingress HTTP port (30000-31000) of `app`'s ingress replica, from `ss`."""
    pids = {
        entry
        for entry in os.listdir("/proc")
        if entry.isdigit() and f"ServeReplica:{app}:".encode() in _cmdline(entry)
    }
    listing = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    for line in listing.splitlines():
        port = int(line.split()[3].rsplit(":", 1)[1])
        if 30000 <= port <= 31000 and any(f"pid={pid}," in line for pid in pids):
            return port
    raise RuntimeError(f"no direct-ingress port for {app!r}")


def _cmdline(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--only", default=",".join(SERVERS), help="comma-separated servers")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="lkb-"))
    results: list[Result] = []
    bulk: dict[str, float] = {}
    memory_mb: float | None = None
    for name in args.only.split(","):
        cmd, extra = SERVERS[name]
        env = cluster_env(work / name, LOREKEEPER_LOG_LEVEL="WARNING", **extra)
        server = Server(cmd, env, work / f"{name}.log")
        base = f"http://127.0.0.1:{env['LOREKEEPER_PORT']}"
        try:
            print(f"starting {name}...", flush=True)
            server.wait_ready(base)
            headers, cid = setup_user_and_character(base)
            results += asyncio.run(measure(name, base, args.requests, headers, cid))
            bulk[name] = bulk_validate_seconds(base, headers)
            if name == "haproxy":
                time.sleep(5)
                memory_mb = tree_rss_mb(server.proc.pid)
                # The characters replica's own port: no HAProxy, no other hop.
                direct = f"http://127.0.0.1:{replica_port('characters')}"
                results += asyncio.run(
                    measure(f"{name}-direct", direct, args.requests, headers, cid, floor=False)
                )
        finally:
            server.stop()

    print(HEADER)
    for r in results:
        print(r.row())
    by = {(r.name, r.concurrency): r for r in results}
    for r in results:
        server, route = r.name.split(" ")
        base_r = by.get((f"uvicorn {route}", r.concurrency))
        if base_r is None or server == "uvicorn":
            continue
        print(
            f"{r.name} c={r.concurrency}: p50 +{r.p50_ms - base_r.p50_ms:.1f} ms "
            f"({r.p50_ms / base_r.p50_ms:.2f}x), req/s {r.rps / base_r.rps:.2f}x of uvicorn"
        )
    for name, seconds in bulk.items():
        print(f"POST /bulk/validate of 1,000 characters via {name}: {seconds * 1000:.0f} ms")
    if memory_mb is not None:
        print(f"lorekeeper run (haproxy) idle RSS, all processes: {memory_mb:.0f} MB")


if __name__ == "__main__":
    main()
