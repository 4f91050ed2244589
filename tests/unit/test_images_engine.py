"""The engine's batch handler (in process, the tiny seeded pipeline at 64x64): requests that
share a group run as one pipeline call; each gets its own progress and image, and a seed
gives the same image alone or in a batch."""

from __future__ import annotations

import asyncio
import io
import time

import numpy as np
import pytest
from PIL import Image

from deployments.images.engine import (
    EngineConfig,
    ImageEngine,
    Progress,
    Rendered,
    RenderFailed,
    RenderRequest,
)
from domain.images.schemas import RenderSpec
from models import tiny_sd


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> ImageEngine:
    models = tmp_path_factory.mktemp("models")
    tiny_sd.ensure(models / tiny_sd.NAME)
    return ImageEngine(EngineConfig(), models, in_serve=False)


def spec(seed: int, steps: int = 3, **kw) -> RenderSpec:
    return RenderSpec(operation="txt2img", prompt="a red dragon", negative_prompt="",
                      seed=seed, width=64, height=64, steps=steps, guidance=7.0,
                      sampler="euler", cache_key="k", **kw)


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)), dtype=np.int16)


def collect(engine: ImageEngine, requests: list[RenderRequest]) -> list[list]:
    async def run():
        per_request: list[list] = [[] for _ in requests]
        async for events in engine.run_batch(requests):
            assert len(events) == len(requests)
            for got, event in zip(per_request, events, strict=True):
                if event is not None and event is not StopIteration:
                    got.append(event)
        return per_request

    return asyncio.run(run())


def test_groups_run_as_one_call_each_with_progress(engine):
    before = engine.pipeline_calls
    requests = [RenderRequest(spec=spec(s)) for s in (1, 2, 3)]
    requests.append(RenderRequest(spec=spec(4, steps=2)))  # another group
    results = collect(engine, requests)
    assert engine.pipeline_calls == before + 2
    for events, steps, batch in zip(results, (3, 3, 3, 2), (3, 3, 3, 1), strict=True):
        assert [e.step for e in events if isinstance(e, Progress)] == list(range(1, steps + 1))
        final = events[-1]
        assert isinstance(final, Rendered) and final.batch_size == batch
        assert Image.open(io.BytesIO(final.png)).size == (64, 64)
    images = [events[-1].png for events in results]
    assert len(set(images)) == 4  # own seeds, own images


def test_a_seed_gives_the_same_image_alone_and_in_a_batch(engine):
    alone = collect(engine, [RenderRequest(spec=spec(42))])[0][-1].png
    again = collect(engine, [RenderRequest(spec=spec(42))])[0][-1].png
    assert alone == again
    batched = collect(engine, [RenderRequest(spec=spec(s)) for s in (41, 42, 43)])[1][-1].png
    # A batched matmul may round differently in the last bit; the picture is the same.
    assert np.abs(pixels(alone) - pixels(batched)).max() <= 2


def test_img2img_and_inpaint_take_their_sources(engine):
    source = collect(engine, [RenderRequest(spec=spec(7))])[0][-1].png
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 64))
    buf = io.BytesIO()
    mask.save(buf, "PNG")
    i2i = spec(7, steps=4, strength=0.5).model_copy(update={"operation": "img2img"})
    inpaint = spec(7, steps=4, strength=1.0).model_copy(update={"operation": "inpaint"})
    out = collect(engine, [RenderRequest(spec=i2i, image=source),
                           RenderRequest(spec=inpaint, image=source, mask=buf.getvalue())])
    changed = pixels(out[1][-1].png)
    # strength 0.5 of 4 steps: 2 denoising steps
    assert [e.step for e in out[0] if isinstance(e, Progress)][-1] == 2
    assert out[0][-1].png != source
    original = pixels(source)
    # Inpainting repaints the masked (left) half more than the kept (right) half.
    left = np.abs(changed[:, :32] - original[:, :32]).mean()
    right = np.abs(changed[:, 32:] - original[:, 32:]).mean()
    assert left > right


def test_a_call_stops_at_the_next_step_only_when_all_its_requests_are_cancelled(engine):
    def run(cancelled: set[int]) -> list[list]:
        requests = [RenderRequest(spec=spec(s, steps=8)) for s in (1, 2)]
        for i in cancelled:  # their callers went away (over Serve: render's cleanup)
            requests[i]._cancelled = True
        return collect(engine, requests)

    before = engine.interrupted_calls
    one = run({0})  # the other still wants its image: the call runs on
    assert all(isinstance(events[-1], Rendered) for events in one)
    assert engine.interrupted_calls == before
    both = run({0, 1})
    assert engine.interrupted_calls == before + 1
    for events in both:
        assert [e.step for e in events if isinstance(e, Progress)] == [1]
        assert isinstance(events[-1], RenderFailed) and "stopped early" in events[-1].detail


def test_closing_the_batch_early_stops_its_pipeline_call(engine):
    before = engine.interrupted_calls

    async def run() -> None:
        batch = engine.run_batch([RenderRequest(spec=spec(3, steps=40))])
        await anext(batch)  # the first step's progress
        await batch.aclose()  # in process, a cancelled job's consumer goes away like this
        deadline = time.monotonic() + 20
        while engine.interrupted_calls == before:
            assert time.monotonic() < deadline, "the pipeline ran all 40 steps"
            await asyncio.sleep(0.02)

    asyncio.run(run())
