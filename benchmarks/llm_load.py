"""Load harness for the LLM, in the manner of `vllm bench serve`: streamed completions at a
fixed concurrency or with Poisson arrivals, a bounded number of requests; per request TTFT,
TPOT, ITL and end-to-end latency; per run request and output-token throughput and the mean,
median and p99 of each latency. One run compares, on the same model and engine config:

- `serve`: the project's path (Ray Serve, HAProxy ingress, the LLM replica's /v1 route);
- `bare`: vLLM's own OpenAI server (`python -m vllm.entrypoints.openai.api_server`);
- `transformers`: plain `model.generate` in this process (batches of the concurrency);

and writes JSON, a markdown table and a PNG plot (matplotlib, if installed), with the
ratios: Serve/bare TTFT at concurrency 1 (goal <= 1.2) and output throughput at the highest
concurrency (goal >= 0.9), vLLM/transformers throughput at each concurrency.

    .venv/bin/python -m benchmarks.llm_load --model tiny-llama --requests 32
    .venv/bin/python -m benchmarks.llm_load --model gemma-3-270m --dtype float32 \\
        --max-model-len 1024 --output-tokens 64 --requests 64
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import yaml

from cluster.settings import Settings
from domain.users.schemas import Principal
from domain.users.tokens import issue_access_token
from models import registry, tiny_llama
from models.llm_config import LLMConfig
from tests.support import cluster_env, free_port

WORDS = tiny_llama.CORPUS.split()
TARGETS = ("bare", "serve", "transformers")
OPTIONAL_TARGETS = ("ray-serve-llm",)  # only when named in --targets


@dataclass
class Result:
    ok: bool
    ttft: float = 0.0
    e2e: float = 0.0
    itl: list[float] = field(default_factory=list)
    output_tokens: int = 0
    error: str = ""

    @property
    def tpot(self) -> float | None:
        if self.output_tokens < 2:
            return None
        return (self.e2e - self.ttft) / (self.output_tokens - 1)


@dataclass
class Endpoint:
    url: str
    model: str
    headers: dict[str, str]


def prompts(count: int, words: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(words)) for _ in range(count)]


# --- one streamed request ---------------------------------------------------------------------


async def stream_one(
    client: httpx.AsyncClient, end: Endpoint, prompt: str, tokens: int, seed: int
) -> Result:
    body = {
        "model": end.model,
        "prompt": prompt,
        "max_tokens": tokens,
        "stream": True,
        "ignore_eos": True,
        "temperature": 1.0,
        "seed": seed,
        "stream_options": {"include_usage": True},
    }
    start = time.perf_counter()
    last, result = start, Result(ok=False)
    try:
        async with client.stream("POST", end.url, json=body, headers=end.headers) as response:
            if response.status_code != 200:
                result.error = f"{response.status_code}: {(await response.aread())[:200]!r}"
                return result
            async for line in response.aiter_lines():
                if not line.startswith("data: {"):
                    continue
                data = json.loads(line[6:])
                now = time.perf_counter()
                if any(c.get("text") for c in data.get("choices", [])):
                    if result.ttft == 0.0:
                        result.ttft = now - start
                    else:
                        result.itl.append(now - last)  # a chunk may hold several tokens
                    last = now
                if data.get("usage"):
                    result.output_tokens = data["usage"]["completion_tokens"]
    except httpx.HTTPError as exc:
        result.error = repr(exc)
        return result
    result.e2e = time.perf_counter() - start
    result.ok = result.output_tokens > 0
    return result


async def load(
    end: Endpoint,
    texts: list[str],
    tokens: int,
    concurrency: int,
    rate: float | None,
    seed: int,
) -> tuple[list[Result], float]:
    """Every prompt once: `concurrency` at a time, or arriving as a Poisson process of
    `rate` requests a second (still at most `concurrency` in flight)."""
    gate = asyncio.Semaphore(concurrency)
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=600, limits=limits) as client:

        async def one(i: int, prompt: str) -> Result:
            async with gate:
                return await stream_one(client, end, prompt, tokens, seed + i)

        start = time.perf_counter()
        tasks = []
        for i, prompt in enumerate(texts):
            tasks.append(asyncio.create_task(one(i, prompt)))
            if rate:
                await asyncio.sleep(rng.expovariate(rate))
        results = await asyncio.gather(*tasks)
        return results, time.perf_counter() - start


def summarize(results: list[Result], duration: float) -> dict[str, Any]:
    ok = [r for r in results if r.ok]

    def stats(values: list[float]) -> dict[str, float | None]:
        if not values:
            return {"mean": None, "median": None, "p99": None}
        ordered = sorted(values)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        ms = 1000
        return {
            "mean": statistics.fmean(values) * ms,
            "median": statistics.median(values) * ms,
            "p99": p99 * ms,
        }

    tokens = sum(r.output_tokens for r in ok)
    return {
        "completed": len(ok),
        "failed": len(results) - len(ok),
        "errors": sorted({r.error for r in results if r.error})[:3],
        "duration_s": duration,
        "request_throughput": len(ok) / duration if duration else 0.0,
        "output_throughput": tokens / duration if duration else 0.0,
        "output_tokens": tokens,
        "ttft_ms": stats([r.ttft for r in ok]),
        "tpot_ms": stats([t for r in ok if (t := r.tpot) is not None]),
        "itl_ms": stats([x for r in ok for x in r.itl]),
        "e2e_ms": stats([r.e2e for r in ok]),
    }


# --- the targets --------------------------------------------------------------------------------


class BareVLLM:
    """vLLM's own OpenAI server, a separate process, on the same engine config."""

    def __init__(self, config: LLMConfig, model_dir: Path):
        self.config, self.model_dir = config, model_dir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Endpoint:
        port = free_port()
        env = dict(os.environ)
        self.config.apply_env(env)
        if self.config.accelerator == "cpu":
            env.setdefault(
                "VLLM_CPU_KVCACHE_SPACE", str(max(1, int(self.config.kv_cache_gib or 1)))
            )
        # Open for the server's life: its output, for when it fails to start.
        self.log = tempfile.NamedTemporaryFile(prefix="vllm-bare-", suffix=".log", delete=False)  # noqa: SIM115
        command = [
            sys.executable,
            "-m",
            "vllm.entrypoints.openai.api_server",
            *self.config.server_args(self.model_dir, "127.0.0.1", port),
        ]
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=self.log)
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/v1/models", {}, lambda: self.process.poll() is None, self.log.name)
        return Endpoint(f"{base}/v1/completions", self.config.served_name, {})

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()


class ServePath:
    """The project's path: Ray Serve, its HTTP ingress (HAProxy by default), the LLM
    application's replica serving /v1 with the platform's bearer token."""

    def __init__(self, config: LLMConfig, models_dir: Path, data_dir: Path):
        self.config, self.models_dir, self.data_dir = config, models_dir, data_dir

    def start(self) -> Endpoint:
        from cluster.ray_runtime import deploy_config, start_ray

        env = cluster_env(self.data_dir, LOREKEEPER_JWT_SECRET="bench-" + "x" * 40)
        self.saved_env = dict(os.environ)  # start_ray adds the cluster's; stop takes them off
        os.environ.update(env)  # Ray's workers inherit them
        settings = Settings()
        app = {
            "name": "llm",
            "route_prefix": "/v1",
            "import_path": "deployments.llm:build",
            "args": {
                "llm": self.config.model_dump(mode="json"),
                "models_dir": str(self.models_dir),
                "quota": {"tokens_per_day": None, "requests_per_minute": 100_000},
            },
            "runtime_env": {"env_vars": {"HF_HUB_OFFLINE": "1"}},  # as serve_config.yaml
            "deployments": [
                {
                    "name": "LLM",
                    "max_ongoing_requests": self.config.max_num_seqs,
                    "ray_actor_options": {"num_cpus": 1},
                    "num_replicas": 1,
                }
            ],
        }
        path = self.data_dir / "serve_config.yaml"
        path.write_text(
            yaml.safe_dump(
                {
                    "proxy_location": "HeadOnly",
                    "logging_config": {"log_level": "WARNING", "enable_access_log": False},
                    "applications": [app],
                }
            )
        )
        start_ray(settings)
        deploy_config(path, settings, timeout_s=900)
        token = issue_access_token(
            Principal(1, "admin"), settings.resolved_jwt_secret, timedelta(hours=6)
        )
        base = f"http://127.0.0.1:{settings.port}"
        headers = {"Authorization": f"Bearer {token}"}
        wait_ready(f"{base}/v1/models", headers, lambda: True, "Serve")
        return Endpoint(f"{base}/v1/completions", self.config.served_name, headers)

    def stop(self) -> None:
        stop_ray(self.saved_env)


class RayServeLLM:
    """Ray Serve LLM's own layer (`ray.serve.llm.build_openai_app`: its OpenAI router
    deployment in front of an `LLMServer` replica) on the same engine config and engine
    environment, behind the same ingress: the layer the project's deployment was chosen
    against (docs/llm.md). Needs pyarrow beside Ray (`pip install pyarrow`)."""

    def __init__(self, config: LLMConfig, model_dir: Path, data_dir: Path):
        self.config, self.model_dir, self.data_dir = config, model_dir, data_dir

    def start(self) -> Endpoint:
        from ray import serve
        from ray.serve.llm import LLMConfig as RayLLMConfig
        from ray.serve.llm import build_openai_app

        settings = self._start_cluster()
        engine = self.config.engine_args(self.model_dir)
        kwargs = {
            name: getattr(engine, name)
            for name in ("max_model_len", "dtype", "kv_cache_memory_bytes", "max_num_seqs")
        }
        kwargs.update(
            enforce_eager=self.config.enforce_eager,
            seed=self.config.seed,
            structured_outputs_config={"backend": "xgrammar"},
            **self.config.engine_kwargs,
        )
        llm = RayLLMConfig(
            model_loading_config={
                "model_id": self.config.served_name,
                "model_source": str(self.model_dir),
            },
            accelerator_config={"kind": self.config.accelerator},
            engine_kwargs=kwargs,
            runtime_env={"env_vars": self.config.env()},
            deployment_config={
                "max_ongoing_requests": self.config.max_num_seqs,
                "ray_actor_options": {"num_cpus": 1},
            },
        )
        ingress = {"ray_actor_options": {"num_cpus": 0}}  # the issue's measured setup
        app = build_openai_app({"llm_configs": [llm], "ingress_deployment_config": ingress})
        serve.run(app, name="ray-llm", route_prefix="/", blocking=False)
        base = f"http://127.0.0.1:{settings.port}"
        wait_ready(f"{base}/v1/models", {}, lambda: True, "Serve (Ray Serve LLM)")
        return Endpoint(f"{base}/v1/completions", self.config.served_name, {})

    def _start_cluster(self) -> Settings:
        from ray import serve

        from cluster import ray_runtime

        env = cluster_env(self.data_dir, LOREKEEPER_JWT_SECRET="bench-" + "x" * 40)
        self.saved_env = dict(os.environ)
        os.environ.update(env)
        settings = Settings()
        # The engine's environment as for the other targets: Ray Serve LLM's replica hands
        # its own to vLLM's processes, and libgomp's default policy is no variable at all,
        # which a runtime env cannot express: this cluster goes without the PASSIVE default.
        os.environ.pop("OMP_WAIT_POLICY", None)
        with mock.patch.dict(ray_runtime.LEAN_ENV):
            del ray_runtime.LEAN_ENV["OMP_WAIT_POLICY"]
            ray_runtime.start_ray(settings)
        serve.start(http_options={"host": "127.0.0.1", "port": settings.port})
        return settings

    def stop(self) -> None:
        stop_ray(self.saved_env)


def stop_ray(saved_env: dict[str, str]) -> None:
    """Serve and Ray down, and this process's environment as it was before they started."""
    import ray
    from ray import serve

    serve.shutdown()
    ray.shutdown()
    os.environ.clear()
    os.environ.update(saved_env)


def wait_ready(url: str, headers: dict[str, str], alive: Callable[[], bool], log: str) -> None:
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"The server exited while starting; see {log}")
        try:
            if httpx.get(url, headers=headers, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} not ready after 900 s; see {log}")


def transformers_runs(
    config: LLMConfig, model_dir: Path, texts: list[str], tokens: int, concurrencies: list[int]
) -> dict[int, dict[str, Any]]:
    """Plain `generate`, greedy, exactly `tokens` new tokens, batches of the concurrency."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, StoppingCriteria

    dtype = torch.float32 if config.dtype in ("auto", "float32") else getattr(torch, config.dtype)
    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).eval()

    class FirstToken(StoppingCriteria):
        at = 0.0

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            self.at = self.at or time.perf_counter()
            return torch.zeros(input_ids.shape[0], dtype=torch.bool)

    out: dict[int, dict[str, Any]] = {}
    for concurrency in concurrencies:
        results: list[Result] = []
        start = time.perf_counter()
        for i in range(0, len(texts), concurrency):
            batch = tokenizer(texts[i : i + concurrency], return_tensors="pt", padding=True)
            first = FirstToken()
            began = time.perf_counter()
            with torch.inference_mode():
                model.generate(
                    **batch,
                    max_new_tokens=tokens,
                    min_new_tokens=tokens,
                    do_sample=False,
                    stopping_criteria=[first],
                )
            ended = time.perf_counter()
            ttft = first.at - began
            gap = (ended - first.at) / max(1, tokens - 1)
            for _ in range(batch["input_ids"].shape[0]):
                results.append(Result(True, ttft, ended - began, [gap] * (tokens - 1), tokens))
        out[concurrency] = summarize(results, time.perf_counter() - start)
    return out


# --- the report -------------------------------------------------------------------------------


def ratios(runs: dict[str, dict[int, dict[str, Any]]], concurrencies: list[int]) -> dict:
    low, high = min(concurrencies), max(concurrencies)
    out: dict[str, Any] = {}
    bare, hf = runs.get("bare"), runs.get("transformers")
    for name in ("serve", "ray-serve-llm"):
        if (serve := runs.get(name)) and bare:
            ttft = serve[low]["ttft_ms"]["median"] / bare[low]["ttft_ms"]["median"]
            tput = serve[high]["output_throughput"] / bare[high]["output_throughput"]
            out[f"{name}_vs_bare"] = {
                f"ttft_median_c{low}": ttft,
                f"output_throughput_c{high}": tput,
                "goal_ttft_within_1.2x": ttft <= 1.2,
                "goal_throughput_at_least_0.9x": tput >= 0.9,
            }
    if bare and hf:
        out["vllm_vs_transformers"] = {
            f"output_throughput_c{c}": bare[c]["output_throughput"] / hf[c]["output_throughput"]
            for c in concurrencies
        }
    return out


def markdown(runs: dict[str, dict[int, dict[str, Any]]], ratio: dict, meta: dict) -> str:
    lines = [
        f"model `{meta['model']}`, {meta['requests']} requests x {meta['output_tokens']} "
        f"output tokens, ~{meta['input_words']} prompt words, "
        f"{'Poisson rate ' + str(meta['rate']) + '/s' if meta['rate'] else 'fixed concurrency'}",
        "",
        "| target | c | req/s | out tok/s | TTFT med | TTFT p99 | TPOT med | ITL med "
        "| ITL p99 | e2e med | e2e p99 | failed |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for target, by_c in runs.items():
        for c, s in by_c.items():

            def ms(metric: str, stat: str, s: dict[str, Any] = s) -> str:
                value = s[metric][stat]
                return "-" if value is None else f"{value:.1f}"

            lines.append(
                f"| {target} | {c} | {s['request_throughput']:.2f} | "
                f"{s['output_throughput']:.0f} | {ms('ttft_ms', 'median')} | "
                f"{ms('ttft_ms', 'p99')} | {ms('tpot_ms', 'median')} | {ms('itl_ms', 'median')} | "
                f"{ms('itl_ms', 'p99')} | {ms('e2e_ms', 'median')} | {ms('e2e_ms', 'p99')} | "
                f"{s['failed']} |"
            )
    lines += ["", "Latencies in ms.", ""]
    for name, values in ratio.items():
        pairs = ", ".join(
            f"{k} {v:.2f}" if isinstance(v, float) else f"{k}: {v}" for k, v in values.items()
        )
        lines.append(f"- {name}: {pairs}")
    return "\n".join(lines) + "\n"


def plot(runs: dict[str, dict[int, dict[str, Any]]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for target, by_c in runs.items():
        cs = sorted(by_c)
        left.plot(cs, [by_c[c]["ttft_ms"]["median"] for c in cs], marker="o", label=target)
        right.plot(cs, [by_c[c]["output_throughput"] for c in cs], marker="o", label=target)
    left.set(xlabel="concurrency", ylabel="median TTFT (ms)", xscale="log", yscale="log")
    right.set(xlabel="concurrency", ylabel="output tokens/s", xscale="log")
    for axis in (left, right):
        axis.legend()
        axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="tiny-llama")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--max-model-len", type=int, default=1024)
    parser.add_argument("--kv-cache-gib", type=float, default=0.5)
    parser.add_argument("--max-num-seqs", type=int, default=32)
    parser.add_argument("--requests", type=int, default=32, help="per target and concurrency")
    parser.add_argument("--concurrency", default="1,16", help="comma-separated")
    parser.add_argument("--rate", type=float, default=None, help="Poisson arrivals a second")
    parser.add_argument("--input-words", type=int, default=32)
    parser.add_argument("--output-tokens", type=int, default=128)
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument(
        "--transformers-requests",
        type=int,
        default=None,
        help="fewer for plain generate, which is slow (default: --requests)",
    )
    parser.add_argument(
        "--engine-kwargs",
        type=json.loads,
        default={},
        help="more vLLM engine arguments for both vLLM targets, JSON: '{\"stream_interval\": 4}'",
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    concurrencies = sorted(int(c) for c in args.concurrency.split(","))
    targets = [t for t in args.targets.split(",") if t]
    unknown = set(targets) - set(TARGETS) - set(OPTIONAL_TARGETS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; choose from {TARGETS + OPTIONAL_TARGETS}")
    config = LLMConfig(
        model=args.model,
        dtype=args.dtype,
        max_model_len=args.max_model_len,
        kv_cache_gib=args.kv_cache_gib,
        max_num_seqs=args.max_num_seqs,
        engine_kwargs=args.engine_kwargs,
    )
    # Plain generate runs in this process: the engines' threads and OpenMP policy for it too,
    # set before torch is imported (libgomp reads them once).
    config.apply_env(os.environ)
    work = Path(tempfile.mkdtemp(prefix="llm-load-"))  # short: Ray's socket paths
    models_dir = Settings().resolved_models_dir
    model_dir = registry.resolve(args.model, models_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out_dir = args.out or Path("benchmarks/results") / f"llm_load-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    texts = prompts(args.requests, args.input_words, args.seed)

    runs: dict[str, dict[int, dict[str, Any]]] = {}
    for target in targets:
        if target == "transformers":
            count = args.transformers_requests or args.requests
            runs[target] = transformers_runs(
                config, model_dir, texts[:count], args.output_tokens, concurrencies
            )
            continue
        server = {
            "bare": lambda: BareVLLM(config, model_dir),
            "serve": lambda: ServePath(config, models_dir, work),
            "ray-serve-llm": lambda: RayServeLLM(config, model_dir, work),
        }[target]()
        began = time.perf_counter()
        try:
            end = server.start()
            print(f"{target}: ready in {time.perf_counter() - began:.1f} s", flush=True)
            asyncio.run(load(end, texts[:2], 8, 2, None, args.seed))  # warm-up
            runs[target] = {}
            for c in concurrencies:
                results, duration = asyncio.run(
                    load(end, texts, args.output_tokens, c, args.rate, args.seed)
                )
                runs[target][c] = summarize(results, duration)
                print(
                    f"{target} c={c}: {runs[target][c]['output_throughput']:.0f} tok/s, "
                    f"median TTFT {runs[target][c]['ttft_ms']['median']} ms",
                    flush=True,
                )
        finally:
            server.stop()

    meta = {
        "model": args.model,
        "dtype": args.dtype,
        "engine_kwargs": args.engine_kwargs,
        "max_model_len": args.max_model_len,
        "requests": args.requests,
        "output_tokens": args.output_tokens,
        "input_words": args.input_words,
        "rate": args.rate,
        "concurrency": concurrencies,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "when": stamp,
        "command": " ".join(sys.argv),
        "env": {k: os.environ.get(k) for k in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")},
    }
    ratio = ratios(runs, concurrencies)
    (out_dir / "llm_load.json").write_text(
        json.dumps({"meta": meta, "runs": runs, "ratios": ratio}, indent=2)
    )
    table = markdown(runs, ratio, meta)
    (out_dir / "llm_load.md").write_text(table)
    plotted = plot(runs, out_dir / "llm_load.png")
    print(table)
    print(f"written to {out_dir}" + ("" if plotted else " (no plot: matplotlib is missing)"))


if __name__ == "__main__":
    main()
