"""The image engine in a real Serve deployment: `@serve.batch` gathers concurrent requests
into one pipeline call, each caller's progress streams through a streaming handle, and a
caller that stops reading stops the pipeline.
Ray runs in this test process."""

from __future__ import annotations

import asyncio
import io
import time

import numpy as np
import pytest
from PIL import Image

from deployments.calls.remote import remote
from deployments.images.engine import (
    Engine,
    EngineConfig,
    ImageEngineCalls,
    Progress,
    Rendered,
    RenderRequest,
)
from domain.images.schemas import RenderSpec
from models import tiny_sd

pytestmark = pytest.mark.e2e


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)), dtype=np.int16)


def spec(seed: int, steps: int = 3) -> RenderSpec:
    return RenderSpec(operation="txt2img", prompt="a knight", negative_prompt="", seed=seed,
                      width=64, height=64, steps=steps, guidance=7.0, sampler="euler",
                      cache_key="k")


def test_concurrent_renders_share_a_batch_and_stream_progress(tmp_path_factory):
    import ray
    from ray import serve

    models = tmp_path_factory.mktemp("m")
    tiny_sd.ensure(models / tiny_sd.NAME)
    env = {"env_vars": {"OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"}}
    ray.init(num_cpus=2, include_dashboard=False, runtime_env=env)
    try:
        # A full batch runs at once; 2 s leaves a loaded machine time to gather the four
        # calls (at 0.5 s one run batched only three).
        app = Engine.options(max_ongoing_requests=8, ray_actor_options={"num_cpus": 0.5}).bind(
            EngineConfig(max_batch_size=4, batch_wait_timeout_s=2.0).model_dump(), str(models)
        )
        handle = serve.run(app, name="images-e2e", route_prefix=None)
        engine = remote(ImageEngineCalls, handle)

        async def one(seed: int, steps: int = 3) -> list:
            return [e async for e in engine.render(RenderRequest(spec=spec(seed, steps)))]

        async def run() -> list[list]:
            return list(await asyncio.gather(*(one(s) for s in range(4)), one(9, steps=2)))

        results = asyncio.run(run())
        for events in results[:4]:
            assert [e.step for e in events if isinstance(e, Progress)] == [1, 2, 3]
            assert isinstance(events[-1], Rendered) and events[-1].batch_size == 4
        assert [e.step for e in results[4] if isinstance(e, Progress)] == [1, 2]
        # The same seed alone gives the same picture as in the batch (up to float rounding).
        again = asyncio.run(one(0))[-1]
        assert again.batch_size == 1
        assert np.abs(pixels(again.png) - pixels(results[0][-1].png)).max() <= 2

        # A caller that stops reading (a cancelled job) cancels its call on the replica,
        # and the pipeline call, its only request gone, stops at the next step.
        async def abandon() -> None:
            stream = engine.render(RenderRequest(spec=spec(5, steps=150)))
            assert isinstance(await anext(stream), Progress)
            await stream.aclose()

        asyncio.run(abandon())
        deadline = time.monotonic() + 30
        while handle.stats.remote().result()["interrupted_calls"] == 0:
            assert time.monotonic() < deadline, "the pipeline ran all 150 steps"
            time.sleep(0.1)
    finally:
        serve.shutdown()
        ray.shutdown()
