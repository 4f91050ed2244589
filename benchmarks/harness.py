"""Small load-test harness: start a server in a subprocess, hit it, report latencies."""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    name: str
    concurrency: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def row(self) -> str:
        return (
            f"| {self.name} | {self.concurrency} | {self.requests} | {self.p50_ms:.1f} | "
            f"{self.p99_ms:.1f} | {self.rps:.0f} | {self.errors} |"
        )


HEADER = (
    "| server | concurrency | requests | p50 ms | p99 ms | req/s | errors |\n"
    "|---|---|---|---|---|---|---|"
)


class Server:
    """A `lorekeeper` command in its own process group, stopped with SIGINT like Ctrl-C."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path):
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "lorekeeper.cli", *args],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, url: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early; see {self.log.name}")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise TimeoutError(f"{url} not ready after {timeout}s; see {self.log.name}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


async def load(
    name: str,
    make_request: Callable[[httpx.AsyncClient], asyncio.Future],
    concurrency: int,
    total: int,
    base_url: str,
) -> Result:
    """`total` requests from `concurrency` workers; latency of each, wall time overall."""
    latencies: list[float] = []
    errors = 0
    remaining = total
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                start = time.perf_counter()
                response = await make_request(client)
                latencies.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - began
    latencies.sort()
    return Result(
        name=name,
        concurrency=concurrency,
        requests=len(latencies),
        seconds=seconds,
        p50_ms=statistics.median(latencies),
        p99_ms=latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        errors=errors,
    )
