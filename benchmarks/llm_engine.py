"""The LLM application's engine on this machine: startup, then streamed generation at
concurrency 1 and N, straight from the engine (`AsyncLLM.generate`) and through the
application's own HTTP route (`POST /v1/completions`, SSE, uvicorn on 127.0.0.1).

    .venv/bin/python -m benchmarks.llm_engine --model tiny-llama --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import uvicorn
from vllm import SamplingParams

from cluster.settings import Settings
from deployments.llm import LLMAppConfig, LLMIngress
from domain.users.schemas import Principal
from domain.users.tokens import issue_access_token
from models.llm_config import LLMConfig
from tests.support import free_port

PROMPT = "The party met at the old inn by the river, where the innkeeper told them"
SECRET = "bench-secret-" + "x" * 32


async def engine_stream(ingress: LLMIngress, tokens: int, seed: int) -> tuple[float, int]:
    """Time to first token and tokens made, straight from the engine."""
    params = SamplingParams(max_tokens=tokens, ignore_eos=True, temperature=1.0, seed=seed)
    start, first, made = time.perf_counter(), 0.0, 0
    async for out in ingress.engine.llm.generate(PROMPT, params, request_id=f"bench-{seed}"):
        first = first or time.perf_counter() - start
        made = len(out.outputs[0].token_ids)
    return first, made


async def http_stream(client: httpx.AsyncClient, model: str, tokens: int, seed: int):
    body = {
        "model": model, "prompt": PROMPT, "max_tokens": tokens, "stream": True,
        "ignore_eos": True, "temperature": 1.0, "seed": seed,
        "stream_options": {"include_usage": True},
    }  # fmt: skip
    start, first, made = time.perf_counter(), 0.0, 0
    async with client.stream("POST", "/v1/completions", json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("data: {") and '"text":"' in line:
                first = first or time.perf_counter() - start
            if '"usage":{' in line and '"completion_tokens"' in line:
                made = int(line.split('"completion_tokens":')[1].split(",")[0].split("}")[0])
    return first, made


async def run(name: str, make, concurrency: int) -> str:
    start = time.perf_counter()
    results = await asyncio.gather(*(make(seed) for seed in range(concurrency)))
    wall = time.perf_counter() - start
    ttft = statistics.median(r[0] for r in results) * 1000
    made = sum(r[1] for r in results)
    return f"| {name} | {concurrency} | {ttft:.0f} | {made} | {made / wall:.0f} |"


async def measure(ingress: LLMIngress, url: str, token: str, args) -> list[str]:
    model = ingress.config.llm.served_name
    headers = {"Authorization": f"Bearer {token}"}
    rows = []
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=600) as client:
        sample = await client.post(
            "/v1/completions",
            json={"model": model, "prompt": PROMPT, "max_tokens": 24, "temperature": 0},
        )
        rows.append(f"sample (greedy): {PROMPT}|{sample.json()['choices'][0]['text']!r}")
        for concurrency in (1, args.concurrency):
            rows.append(
                await run("engine", lambda s: engine_stream(ingress, args.tokens, s), concurrency)
            )
            rows.append(
                await run("http", lambda s: http_stream(client, model, args.tokens, s), concurrency)
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="tiny-llama")
    parser.add_argument("--models-dir", type=Path, default=Path("data/models"))
    parser.add_argument("--tokens", type=int, default=128, help="output tokens per request")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-model-len", type=int, default=1024)
    parser.add_argument("--dtype", default="auto")
    args = parser.parse_args()

    settings = Settings(data_dir=Path(tempfile.mkdtemp()), jwt_secret=SECRET)
    llm = LLMConfig(
        model=args.model,
        dtype=args.dtype,
        max_model_len=args.max_model_len,
        max_num_seqs=max(16, args.concurrency),
    )
    start = time.perf_counter()
    ingress = LLMIngress(LLMAppConfig(llm=llm, models_dir=args.models_dir), settings)
    print(f"engine startup ({args.model}, model folder ready): {time.perf_counter() - start:.1f} s")

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(ingress.http, host="127.0.0.1", port=port, lifespan="off", log_level="error")
    )
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    token = issue_access_token(Principal(1, "admin"), SECRET, timedelta(hours=1))
    future = asyncio.run_coroutine_threadsafe(
        measure(ingress, f"http://127.0.0.1:{port}", token, args), loop
    )
    print(f"{args.tokens} output tokens per request, prompt {len(PROMPT.split())} words")
    sample, *rows = future.result()
    print(sample)
    print("| path | concurrency | median TTFT ms | output tokens | output tok/s |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))

    async def stop() -> None:
        ingress.engine.shutdown()

    asyncio.run_coroutine_threadsafe(stop(), loop).result()
    server.should_exit = True


if __name__ == "__main__":
    main()
