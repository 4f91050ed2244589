"""One engine for the whole LLM suite: the LLM ingress built in process with the tiny model,
served by a real uvicorn on 127.0.0.1 (the OpenAI SDK needs a socket). Its event loop is the
engine's, so typed calls run there too (`LLMServer.call`)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from cluster.settings import Settings
from domain.users.schemas import Principal
from domain.users.tokens import issue_access_token
from tests.support import free_port

SECRET = "llm-test-secret-" + "x" * 32
MODEL = "tiny-llama"
MAX_MODEL_LEN = 1024  # room for the tools that chatml-tools puts in the prompt


@dataclass
class LLMServer:
    ingress: Any  # deployments.llm.LLMIngress: imported only where vLLM is
    base_url: str
    token: str
    loop: asyncio.AbstractEventLoop

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory) -> Iterator[LLMServer]:
    import uvicorn

    from cluster.token_usage import TokenQuota
    from deployments.llm import LLMAppConfig, LLMIngress
    from models.llm_config import LLMConfig

    settings = Settings(data_dir=tmp_path_factory.mktemp("llm"), jwt_secret=SECRET)
    # chatml-tools: the tiny model's own ChatML template, plus tools (tests/llm/test_llm_tools.py)
    llm = LLMConfig(
        model=MODEL,
        max_model_len=MAX_MODEL_LEN,
        kv_cache_gib=0.25,
        max_num_seqs=16,
        chat_template="chatml-tools",
    )
    # The suite sends more requests a minute than a user may.
    quota = TokenQuota(requests_per_minute=100_000)
    ingress = LLMIngress(LLMAppConfig(llm=llm, quota=quota), settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            ingress.http, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
        )
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "uvicorn did not start"
        threading.Event().wait(0.05)
    token = issue_access_token(Principal(1, "player"), SECRET, timedelta(minutes=30))
    llm_server = LLMServer(ingress, f"http://127.0.0.1:{port}", token, loop)
    yield llm_server

    async def stop_engine() -> None:  # on its own loop: it cancels the engine's tasks there
        ingress.engine.shutdown()

    llm_server.call(stop_engine())
    server.should_exit = True
    thread.join(10)
    loop.close()


class OnEngineLoop:
    """The LLM ingress's LLMCalls, called from any event loop: each step runs on the loop
    that owns the engine (the test server's), as a Serve handle would run it on the
    replica's. How the generation application reaches the tiny model in process."""

    def __init__(self, server: LLMServer):
        self.target = server.ingress
        self.loop = server.loop

    async def _on_loop(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def _each(self, stream: Any) -> Any:
        async def step() -> Any:
            return await stream.__anext__()

        try:
            while True:
                try:
                    item = await self._on_loop(step())
                except StopAsyncIteration:
                    return
                yield item
        finally:
            await self._on_loop(stream.aclose())

    async def ready(self) -> Any:
        return await self._on_loop(self.target.ready())

    async def openapi(self) -> Any:
        return await self._on_loop(self.target.openapi())

    async def model_info(self) -> Any:
        return await self._on_loop(self.target.model_info())

    async def count_tokens(self, texts: list[str]) -> Any:
        return await self._on_loop(self.target.count_tokens(texts))

    async def complete(self, principal: Any, prompt: str, params: Any) -> Any:
        return await self._on_loop(self.target.complete(principal, prompt, params))

    async def generate(self, principal: Any, messages: Any, params: Any) -> Any:
        return await self._on_loop(self.target.generate(principal, messages, params))

    def stream_complete(self, principal: Any, prompt: str, params: Any) -> Any:
        return self._each(self.target.stream_complete(principal, prompt, params))

    def stream(self, principal: Any, messages: Any, params: Any) -> Any:
        return self._each(self.target.stream(principal, messages, params))
