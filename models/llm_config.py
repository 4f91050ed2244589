"""One model's serving config, in the manner of Ray Serve LLM's `LLMConfig`: which model, its
window, dtype, KV cache and engine arguments, on CPU or on GPUs. It builds vLLM's
`AsyncEngineArgs`; replicas, autoscaling and `num_gpus` stay in serve_config.yaml."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.vllm_plugin import READER_SPIN_ENV

if TYPE_CHECKING:
    from vllm.engine.arg_utils import AsyncEngineArgs

GiB = 1 << 30
# Chat templates the project ships, by the name `chat_template` takes.
CHAT_TEMPLATES = {"chatml-tools": Path(__file__).parent / "chat_templates" / "chatml_tools.jinja"}
# The CPU engine's environment, measured on 2 vCPUs (benchmarks/README.md): no thread binding
# (20-30% faster than vLLM's own, which also reserves a core for the frontend), and queue
# readers that sleep instead of spinning (models/vllm_plugin.py).
CPU_ENV = {
    "VLLM_CPU_OMP_THREADS_BIND": "nobind",
    "VLLM_CPU_NUM_OF_RESERVED_CPU": "0",
    READER_SPIN_ENV: "0",
}
# Cleared for the CPU engine's processes: the cluster's OMP_WAIT_POLICY=PASSIVE suits small
# replicas sharing cores, but makes the engine's threads sleep and wake around each of its
# many small kernels (Gemma 3 270M: 66 against 93 tokens/s with libgomp's default, which
# spins 3 ms and then sleeps; ACTIVE spins on an idle engine).
CPU_UNSET = ("OMP_WAIT_POLICY",)


class LLMConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(
        "gemma-3-270m",
        description="A model the project builds (`gemma-3-270m`, `tiny-llama`), or the path "
        "of a Hugging Face model folder (absolute, or under the models folder).",
    )
    name: str | None = Field(
        None, description="The id clients send as `model`; default: `model`'s last part."
    )
    max_model_len: int = Field(4096, ge=64, description="The context window, in tokens.")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    accelerator: Literal["cpu", "gpu"] = "cpu"
    kv_cache_gib: float | None = Field(
        1.0,
        gt=0,
        description="KV cache size. On GPUs leave it unset to size the cache by "
        "`gpu_memory_utilization` instead.",
    )
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    tensor_parallel_size: int = Field(
        1, ge=1, description="GPUs per replica; give the replica as many `num_gpus`."
    )
    max_num_seqs: int = Field(64, ge=1, description="Sequences batched at once per replica.")
    cpu_threads: int | None = Field(
        None,
        ge=1,
        description="Threads of the engine's kernels on CPU; default: every core of the "
        "machine (the cluster gives other replicas one each).",
    )
    json_whitespace: bool = Field(
        False,
        description="Let JSON-schema outputs hold free whitespace; small models can loop on "
        "it until max_tokens, so outputs are compact by default.",
    )
    tool_call_parser: str | None = Field(
        None,
        description="vLLM's tool-call parser for this model family (`hermes` for Qwen 2.5/3 and "
        "Hermes, `llama3_json` for Llama 3.1/3.2, `pythonic` for Llama 3.2/4 pythonic "
        "templates, `mistral`...): needed for `tool_choice: auto`. A named function or "
        "`required` works without one, by JSON-schema decoding.",
    )
    enable_auto_tool_choice: bool = Field(
        False,
        description="Let the model decide whether to call a tool (`tool_choice: auto`, the "
        "default when tools are sent); needs `tool_call_parser` and a chat template that "
        "renders tools.",
    )
    chat_template: str | None = Field(
        None,
        description="A chat template for models whose own renders no tools, or has none: "
        "`chatml-tools` (shipped: ChatML with tools in the Hermes format, for the `hermes` "
        "parser) or a Jinja file's path; default: the model folder's own.",
    )
    tool_strict_level: Literal["auto", "function", "parameter"] = Field(
        "parameter",
        description="How far tool calls are forced: `parameter` makes every call's arguments "
        "match the tool's JSON schema; `auto` only for tools marked `strict` (vLLM's default).",
    )
    # Eager: torch.compile would add minutes to every start on CPU.
    enforce_eager: bool = True
    seed: int = 0
    engine_kwargs: dict[str, Any] = Field(
        {}, description="More vLLM engine arguments, passed as they are."
    )

    @model_validator(mode="after")
    def _cpu_has_cache(self) -> LLMConfig:
        if self.accelerator == "cpu" and self.kv_cache_gib is None:
            raise ValueError("kv_cache_gib is required on CPU")
        if self.accelerator == "cpu" and self.tensor_parallel_size != 1:
            raise ValueError("tensor_parallel_size is for GPUs")
        if self.enable_auto_tool_choice and not self.tool_call_parser:
            raise ValueError(
                "enable_auto_tool_choice needs tool_call_parser: name the parser of the "
                "model's family (e.g. hermes, llama3_json, pythonic)"
            )
        return self

    def chat_template_path(self) -> Path | None:
        if self.chat_template is None:
            return None
        path = CHAT_TEMPLATES.get(self.chat_template) or Path(self.chat_template)
        if not path.is_file():
            raise FileNotFoundError(
                f"chat_template {self.chat_template!r} is neither one of {sorted(CHAT_TEMPLATES)}"
                " nor a file: give a Jinja template's path"
            )
        return path

    def chat_template_text(self) -> str | None:
        """The template the engine renders chats with; None: the model folder's own."""
        path = self.chat_template_path()
        return path.read_text() if path else None

    @property
    def served_name(self) -> str:
        return self.name or Path(self.model).name

    @property
    def num_gpus(self) -> int:
        return self.tensor_parallel_size if self.accelerator == "gpu" else 0

    def env(self) -> dict[str, str]:
        """Environment the engine must start with (vLLM and OpenMP read it, not arguments)."""
        if self.accelerator != "cpu":
            return {}
        return {**CPU_ENV, "OMP_NUM_THREADS": str(self.cpu_threads or os.cpu_count() or 1)}

    def apply_env(self, environ: MutableMapping[str, str]) -> None:
        """Gives `environ` the engine's environment, over what the cluster set for its small
        replicas (one thread each, PASSIVE)."""
        if self.accelerator == "cpu":
            for key in CPU_UNSET:
                environ.pop(key, None)
        environ.update(self.env())

    @contextmanager
    def engine_environment(self) -> Iterator[None]:
        """The engine's environment while its processes start (they copy it), and the
        caller's again afterwards."""
        saved = dict(os.environ)
        self.apply_env(os.environ)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def server_args(self, model_dir: Path, host: str, port: int) -> list[str]:
        """The same engine as vLLM's own OpenAI server (the benchmarks' baseline, the remote
        provider's test server): `python -m vllm.entrypoints.openai.api_server` and these,
        `engine_kwargs` among them as `--their-names`."""
        args = [
            "--model", str(model_dir), "--served-model-name", self.served_name,
            "--max-model-len", str(self.max_model_len), "--dtype", self.dtype,
            "--max-num-seqs", str(self.max_num_seqs), "--seed", str(self.seed),
            "--tensor-parallel-size", str(self.tensor_parallel_size),
            "--gpu-memory-utilization", str(self.gpu_memory_utilization),
            "--structured-outputs-config", json.dumps(
                {"backend": "xgrammar", "disable_any_whitespace": not self.json_whitespace}
            ),
            "--host", host, "--port", str(port),
        ]  # fmt: skip
        if self.kv_cache_gib is not None:
            args += ["--kv-cache-memory-bytes", str(int(self.kv_cache_gib * GiB))]
        if self.enforce_eager:
            args.append("--enforce-eager")
        if self.tool_call_parser:
            args += ["--tool-call-parser", self.tool_call_parser]
            args += ["--tool-strict-level", self.tool_strict_level]
        if self.enable_auto_tool_choice:
            args.append("--enable-auto-tool-choice")
        if template := self.chat_template_path():
            args += ["--chat-template", str(template)]
        for key, value in self.engine_kwargs.items():
            option = "--" + key.replace("_", "-")
            if value is True:
                args.append(option)
            elif value is not False and value is not None:
                args += [option, value if isinstance(value, str) else json.dumps(value)]
        return args

    def engine_args(self, model_dir: Path) -> AsyncEngineArgs:
        from vllm.config import StructuredOutputsConfig
        from vllm.engine.arg_utils import AsyncEngineArgs

        kv_bytes = int(self.kv_cache_gib * GiB) if self.kv_cache_gib is not None else None
        return AsyncEngineArgs(
            model=str(model_dir),
            served_model_name=[self.served_name],
            max_model_len=self.max_model_len,
            dtype=self.dtype,
            kv_cache_memory_bytes=kv_bytes,
            gpu_memory_utilization=self.gpu_memory_utilization,
            tensor_parallel_size=self.tensor_parallel_size,
            max_num_seqs=self.max_num_seqs,
            enforce_eager=self.enforce_eager,
            seed=self.seed,
            # xgrammar: measured to work on CPU, and it can keep JSON compact.
            structured_outputs_config=StructuredOutputsConfig(
                backend="xgrammar", disable_any_whitespace=not self.json_whitespace
            ),
            **self.engine_kwargs,
        )
