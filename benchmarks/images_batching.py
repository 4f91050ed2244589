"""Image engine throughput in Ray Serve: `@serve.batch` against `max_batch_size=1`, in the
same run, at concurrency 1 and 8 (images/s, p50/p99 latency, the ratio); then the job
queue: how long jobs wait against how long they take, with 8 queue loops on the batched
engine.

    .venv/bin/python -m benchmarks.images_batching [--requests 32] [--size 64] [--steps 4]

Starts its own local Ray (2 CPUs); the tiny seeded pipeline; prints a Markdown table and
JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def _spec(seed: int, size: int, steps: int) -> Any:
    from domain.images.schemas import RenderSpec

    return RenderSpec(operation="txt2img", prompt="a red dragon", negative_prompt="",
                      seed=seed, width=size, height=size, steps=steps, guidance=7.0,
                      sampler="euler", cache_key=f"bench-{seed}")


async def _load(engine: Any, concurrency: int, requests: int, size: int, steps: int) -> dict:
    from deployments.images.engine import Rendered, RenderRequest

    latencies: list[float] = []
    batch_sizes: list[int] = []
    queue = list(range(requests))

    async def client() -> None:
        while queue:
            seed = queue.pop()
            start = time.perf_counter()
            async for event in engine.render(RenderRequest(spec=_spec(seed, size, steps))):
                if isinstance(event, Rendered):
                    batch_sizes.append(event.batch_size)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    seconds = time.perf_counter() - start
    latencies.sort()
    return {
        "concurrency": concurrency,
        "requests": requests,
        "images_per_s": requests / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "mean_batch": statistics.mean(batch_sizes),
    }


async def _queue(engine: Any, data_dir: Path, jobs: int, size: int, steps: int) -> dict:
    """Jobs through the database queue, run by 8 loops against the batched engine."""
    from sqlalchemy import select

    from cluster import migrate
    from cluster.database import Database
    from cluster.settings import Settings
    from deployments.images.app import ImagesConfig, ImagesIngress
    from domain.images.models import ImageJob
    from domain.images.schemas import GenerateRequest
    from domain.users.models import User
    from domain.users.schemas import Principal

    url = f"sqlite:///{data_dir / 'bench.db'}"
    migrate.upgrade(url)
    db = Database(url)
    settings = Settings(data_dir=data_dir, database_url=url, jwt_secret="b" * 40)
    with db.session() as s:
        user = User(username="bench", password_hash="x", role="dm")
        s.add(user)
        s.flush()
        principal = Principal(user_id=user.id, role="dm")
    config = ImagesConfig.model_validate({"worker": {"concurrent_jobs": 8, "poll_s": 0.05,
                                                     "progress_interval_s": 0.5}})
    ingress = ImagesIngress(config, settings, db)
    ingress.engine = ingress.worker.engine = engine
    ids = []
    start = time.perf_counter()
    for seed in range(jobs):
        req = GenerateRequest(kind="token", prompt="a goblin", seed=seed, width=size,
                              height=size, steps=steps, mode="async", priority="batch")
        job = await ingress.images.run(principal, lambda s, r=req: s.submit_generate(r))
        ids.append(job.id)
    ingress.worker.start()
    while True:
        with db.session() as s:
            rows = s.scalars(select(ImageJob).where(ImageJob.id.in_(ids))).all()
            if all(r.state in ("succeeded", "failed") for r in rows):
                break
        await asyncio.sleep(0.2)
    seconds = time.perf_counter() - start
    await ingress.worker.stop()
    waits = sorted((r.started_at - r.created_at).total_seconds() for r in rows)
    service = sorted((r.finished_at - r.started_at).total_seconds() for r in rows)
    return {
        "jobs": jobs,
        "failed": sum(r.state == "failed" for r in rows),
        "jobs_per_s": jobs / seconds,
        "queue_wait_p50_ms": statistics.median(waits) * 1000,
        "queue_wait_max_ms": waits[-1] * 1000,
        "service_p50_ms": statistics.median(service) * 1000,
        "service_max_ms": service[-1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=32)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=24)
    args = parser.parse_args()

    import ray
    from ray import serve

    from deployments.calls.remote import remote
    from deployments.images.engine import Engine, EngineConfig, ImageEngineCalls
    from models import tiny_sd

    data_dir = Path(tempfile.mkdtemp(prefix="lk-images-bench-"))
    tiny_sd.ensure(data_dir / "models" / tiny_sd.NAME)
    env = {"env_vars": {"OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"}}
    ray.init(num_cpus=2, include_dashboard=False, runtime_env=env, log_to_driver=False)
    results: dict[str, Any] = {"size": args.size, "steps": args.steps, "modes": {}}
    try:
        engines = {}
        for name, batch in (("batched", 8), ("unbatched", 1)):
            app = Engine.options(
                name=f"ImageEngine-{name}", max_ongoing_requests=16,
                ray_actor_options={"num_cpus": 0.5},
            ).bind(EngineConfig(max_batch_size=batch, batch_wait_timeout_s=0.05).model_dump(),
                   str(data_dir / "models"))
            handle = serve.run(app, name=f"engine-{name}", route_prefix=None)
            engines[name] = remote(ImageEngineCalls, handle)

        async def run_all() -> None:
            for name, engine in engines.items():
                await _load(engine, 2, 4, args.size, args.steps)  # warm up
                results["modes"][name] = [
                    await _load(engine, c, args.requests, args.size, args.steps) for c in (1, 8)
                ]
            results["queue"] = await _queue(engines["batched"], data_dir, args.jobs, args.size,
                                            args.steps)

        asyncio.run(run_all())
    finally:
        serve.shutdown()
        ray.shutdown()
    batched, unbatched = results["modes"]["batched"], results["modes"]["unbatched"]
    results["ratio_c1"] = batched[0]["images_per_s"] / unbatched[0]["images_per_s"]
    results["ratio_c8"] = batched[1]["images_per_s"] / unbatched[1]["images_per_s"]
    print("| engine | concurrency | images/s | p50 ms | p99 ms | mean batch |")
    print("|---|---|---|---|---|---|")
    for name, rows in results["modes"].items():
        for r in rows:
            print(f"| {name} | {r['concurrency']} | {r['images_per_s']:.2f} | "
                  f"{r['p50_ms']:.0f} | {r['p99_ms']:.0f} | {r['mean_batch']:.1f} |")
    print(f"batched/unbatched images/s: c1 {results['ratio_c1']:.2f}x, "
          f"c8 {results['ratio_c8']:.2f}x")
    q = results["queue"]
    print(f"queue: {q['jobs']} jobs, {q['jobs_per_s']:.2f} jobs/s, wait p50 "
          f"{q['queue_wait_p50_ms']:.0f} ms (max {q['queue_wait_max_ms']:.0f}), service p50 "
          f"{q['service_p50_ms']:.0f} ms (max {q['service_max_ms']:.0f})")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
