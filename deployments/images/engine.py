"""The image engine: one diffusion pipeline per replica behind `@serve.batch`.

Requests that arrive within `batch_wait_timeout_s` of each other form a batch (up to
`max_batch_size`); inside it, those that share operation, size, steps, sampler, guidance
and strength run as one pipeline call (the model is the replica's). `render` streams each
request's step progress, then its PNG: over Serve through a streaming handle
(`remote(ImageEngineCalls, handle)`), in process by iterating it.
"""

from __future__ import annotations

import asyncio
import io
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from ray import serve

from cluster.settings import get_settings
from domain.errors import DomainError
from domain.images.schemas import RenderSpec
from models import registry
from models.diffusion import Diffusion, DiffusionConfig, Group, Interrupted, Item


class EngineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    diffusion: DiffusionConfig = DiffusionConfig()
    max_batch_size: int = Field(8, ge=1, le=64, description="1 turns batching off.")
    batch_wait_timeout_s: float = Field(
        0.05, ge=0, le=5, description="How long a batch waits for more requests."
    )


class RenderRequest(BaseModel):
    spec: RenderSpec
    image: bytes | None = None  # img2img/inpaint source (PNG or any Pillow format)
    mask: bytes | None = None
    # Set in the replica when the caller went away before its image (a cancelled job);
    # the batch handler holds the same object.
    _cancelled: bool = PrivateAttr(False)


class Progress(BaseModel):
    step: int
    steps: int


class Rendered(BaseModel):
    png: bytes
    batch_size: int = Field(description="Images made by the same pipeline call.")


class RenderFailed(DomainError):
    code, status, title = "render_failed", 500, "The pipeline failed"


Event = Progress | Rendered


class ImageEngineCalls(Protocol):
    async def render(self, request: RenderRequest) -> AsyncIterator[Event]:
        """Step progress, then the image."""
        raise NotImplementedError
        yield  # an async generator: `remote()` streams it


def _group(spec: RenderSpec) -> Group:
    return Group(
        operation=spec.operation,
        width=spec.width,
        height=spec.height,
        steps=spec.steps,
        guidance=spec.guidance,
        sampler=spec.sampler,
        strength=spec.strength,
    )


class ImageEngine:
    """Implements ImageEngineCalls."""

    def __init__(
        self,
        config: EngineConfig | dict[str, Any],
        models_dir: str | Path | None = None,
        *,
        in_serve: bool = True,
    ):
        config = EngineConfig.model_validate(config)
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self.config = config
        models = Path(models_dir) if models_dir else get_settings().data_dir / "models"
        # A replica builds the tiny model on first use (atomically: rivals may race).
        model_dir = registry.resolve_image(config.diffusion.model, models)
        self.diffusion = Diffusion(model_dir, config.diffusion)
        # serve.batch needs a replica's context: in process (tests, serve-local) each
        # request is its own batch.
        self.in_serve = in_serve
        self.pipeline_calls = 0  # how often the pipeline ran (tests, metrics)
        self.interrupted_calls = 0  # of which stopped early: all their callers cancelled
        if in_serve:
            self._batch.set_max_batch_size(config.max_batch_size)
            self._batch.set_batch_wait_timeout_s(config.batch_wait_timeout_s)

    async def render(self, request: RenderRequest) -> AsyncIterator[Event]:
        if self.in_serve:
            events = self._batch(request)
        else:
            events = (e[0] async for e in self.run_batch([request]) if e[0] is not StopIteration)
        rendered = False
        try:
            async for event in events:
                if isinstance(event, RenderFailed):
                    raise event
                if event is not None:
                    rendered = isinstance(event, Rendered)
                    yield event
        finally:
            # Over Serve a cancelled call lands here (the batch goes on without it): its
            # pipeline call stops at the next step once all of its requests are cancelled.
            if not rendered:
                request._cancelled = True

    async def stats(self) -> dict[str, int]:
        """Pipeline calls so far, and how many of them stopped early (tests, metrics)."""
        return {"pipeline_calls": self.pipeline_calls, "interrupted_calls": self.interrupted_calls}

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.05)
    async def _batch(
        self, requests: list[RenderRequest]
    ) -> AsyncIterator[list[Event | RenderFailed | type[StopIteration] | None]]:
        async for events in self.run_batch(requests):
            yield events

    async def run_batch(
        self, requests: list[RenderRequest]
    ) -> AsyncIterator[list[Event | RenderFailed | type[StopIteration] | None]]:
        """Yields, for every request of the batch in order, its next event: None while
        another group runs, StopIteration once it has its image."""
        groups: dict[Group, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(_group(request.spec), []).append(index)
        finished: set[int] = set()
        loop = asyncio.get_running_loop()
        for group, members in groups.items():
            events: asyncio.Queue[Progress] = asyncio.Queue()

            def on_step(step: int, steps: int, q: asyncio.Queue[Progress] = events) -> None:
                loop.call_soon_threadsafe(q.put_nowait, Progress(step=step, steps=steps))

            batch = [requests[i] for i in members]
            abandoned = threading.Event()  # this generator was closed or cancelled

            def should_stop(
                batch: list[RenderRequest] = batch, abandoned: threading.Event = abandoned
            ) -> bool:
                return abandoned.is_set() or all(r._cancelled for r in batch)

            work = asyncio.ensure_future(
                asyncio.to_thread(self._run, group, batch, on_step, should_stop)
            )
            getter: asyncio.Future[Progress] | None = None
            try:
                while not work.done() or not events.empty():
                    getter = asyncio.ensure_future(events.get())
                    await asyncio.wait({getter, work}, return_when=asyncio.FIRST_COMPLETED)
                    if not getter.done():
                        getter.cancel()
                        continue
                    progress = getter.result()
                    yield [
                        progress if i in members else StopIteration if i in finished else None
                        for i in range(len(requests))
                    ]
            finally:
                if getter is not None:
                    getter.cancel()
                if not work.done():
                    abandoned.set()  # nobody will read the images: stop at the next step
                    work.add_done_callback(lambda f: f.cancelled() or f.exception())
            try:
                outputs: list[Event | RenderFailed] = list(work.result())
            except Exception as exc:  # the group fails; the batch's other groups go on
                outputs = [RenderFailed(f"The pipeline failed: {exc}")] * len(members)
            results = dict(zip(members, outputs, strict=True))
            yield [
                results.get(i, StopIteration if i in finished else None)
                for i in range(len(requests))
            ]
            finished.update(members)

    def _run(
        self, group: Group, batch: list[RenderRequest], on_step: Any, should_stop: Any = None
    ) -> list[Rendered]:
        from PIL import Image

        def image(data: bytes | None, mode: str) -> Image.Image | None:
            if data is None:
                return None
            with Image.open(io.BytesIO(data)) as img:
                img = img.convert(mode)
            if img.size != (group.width, group.height):
                img = img.resize((group.width, group.height), Image.Resampling.LANCZOS)
            return img

        items = [
            Item(
                prompt=r.spec.prompt,
                negative_prompt=r.spec.negative_prompt,
                seed=r.spec.seed,
                image=image(r.image, "RGB"),
                mask=image(r.mask, "L"),
            )
            for r in batch
        ]
        self.pipeline_calls += 1
        try:
            images = self.diffusion.run(group, items, on_step, should_stop)
        except Interrupted:
            self.interrupted_calls += 1
            raise
        return [Rendered(png=png_bytes(img), batch_size=len(batch)) for img in images]


def png_bytes(image: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


Engine = serve.deployment(name="ImageEngine")(ImageEngine)


class LocalEngine:
    """An in-process engine (tests, serve-local), loaded with the first render so that
    composing the applications stays fast."""

    def __init__(self, config: EngineConfig, models_dir: Path):
        self.config = config
        self.models_dir = models_dir
        self._engine: ImageEngine | None = None
        self._lock = asyncio.Lock()

    async def engine(self) -> ImageEngine:
        async with self._lock:
            if self._engine is None:
                self._engine = await asyncio.to_thread(
                    ImageEngine, self.config, self.models_dir, in_serve=False
                )
        return self._engine

    async def render(self, request: RenderRequest) -> AsyncIterator[Event]:
        async for event in (await self.engine()).render(request):
            yield event
