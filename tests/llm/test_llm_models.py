"""Model folders: the tiny test model, the resolver and the per-model config."""

from __future__ import annotations

import inspect
import os
from importlib.metadata import entry_points

import pytest
from pydantic import ValidationError

from models import registry, tiny_llama, vllm_plugin
from models.llm_config import LLMConfig

NEEDS = "transformers comes with the llm-cpu or llm-gpu extra"


def test_tiny_llama_is_seeded_and_built_once(tmp_path):
    pytest.importorskip("transformers", reason=NEEDS)
    first = registry.resolve(tiny_llama.NAME, tmp_path / "a")
    second = registry.resolve(tiny_llama.NAME, tmp_path / "b")
    weights = "model.safetensors"
    assert (first / weights).read_bytes() == (second / weights).read_bytes()
    built = (first / weights).stat().st_mtime_ns
    assert registry.resolve(tiny_llama.NAME, tmp_path / "a") == first
    assert (first / weights).stat().st_mtime_ns == built  # not built again

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(first)
    ids = tokenizer("The wizard casts a spell.").input_ids
    assert ids[0] == tokenizer.bos_token_id and tokenizer.decode(ids[1:]) == (
        "The wizard casts a spell."
    )
    chat = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True
    )
    assert chat.startswith(tiny_llama.BOS) and chat.endswith("<|im_start|>assistant\n")


def test_resolver_takes_paths_and_names_what_is_missing(tmp_path):
    pytest.importorskip("transformers", reason=NEEDS)
    folder = tiny_llama.ensure(tmp_path / "elsewhere" / "my-model")
    assert registry.resolve(str(folder), tmp_path / "models") == folder
    assert registry.resolve("my-model", tmp_path / "elsewhere") == folder  # under models dir
    with pytest.raises(FileNotFoundError, match="tiny-llama"):
        registry.resolve("no-such-model", tmp_path)


def test_llm_config():
    gpu = LLMConfig(model="/models/llama-3-8b", accelerator="gpu", tensor_parallel_size=2)
    assert gpu.served_name == "llama-3-8b" and gpu.num_gpus == 2 and gpu.env() == {}
    cpu = LLMConfig().env()
    assert cpu["VLLM_CPU_OMP_THREADS_BIND"] == "nobind"
    assert cpu["OMP_NUM_THREADS"] == str(os.cpu_count()) and cpu[vllm_plugin.READER_SPIN_ENV] == "0"
    assert LLMConfig(cpu_threads=3).env()["OMP_NUM_THREADS"] == "3"
    with pytest.raises(ValidationError, match="kv_cache_gib"):
        LLMConfig(kv_cache_gib=None)
    with pytest.raises(ValidationError, match="tensor_parallel_size"):
        LLMConfig(tensor_parallel_size=2)


def test_engine_args(tmp_path):
    pytest.importorskip("vllm", reason="vLLM is not installed: install the llm-cpu extra")
    config = LLMConfig(model="tiny-llama", kv_cache_gib=0.5, engine_kwargs={"max_logprobs": 3})
    args = config.engine_args(tmp_path)
    assert args.model == str(tmp_path) and args.served_model_name == ["tiny-llama"]
    assert args.kv_cache_memory_bytes == 512 << 20 and args.max_logprobs == 3
    assert args.structured_outputs_config.disable_any_whitespace


def test_bare_server_gets_the_same_engine(tmp_path):
    """`server_args` through vLLM's own command-line parser gives the replica's engine."""
    pytest.importorskip("vllm", reason="vLLM is not installed: install the llm-cpu extra")
    from vllm.engine.arg_utils import AsyncEngineArgs
    from vllm.entrypoints.launchers.cli_args import make_arg_parser
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    extra = {"max_logprobs": 3, "stream_interval": 4, "enable_prefix_caching": True}
    config = LLMConfig(model="tiny-llama", kv_cache_gib=0.5, engine_kwargs=extra)
    parsed = make_arg_parser(FlexibleArgumentParser()).parse_args(
        config.server_args(tmp_path, "127.0.0.1", 8000)
    )
    bare, replica = AsyncEngineArgs.from_cli_args(parsed), config.engine_args(tmp_path)
    for name in (*extra, "max_model_len", "dtype", "kv_cache_memory_bytes", "max_num_seqs"):
        assert getattr(bare, name) == getattr(replica, name), name
    assert bare.stream_interval == 4 and bare.enable_prefix_caching is True


def test_engine_environment_overrides_the_clusters_and_is_put_back(monkeypatch):
    # The cluster's environment for small replicas: one thread, OpenMP threads that sleep.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    config = LLMConfig(cpu_threads=2)
    with config.engine_environment():
        assert os.environ["OMP_NUM_THREADS"] == "2" and "OMP_WAIT_POLICY" not in os.environ
    assert os.environ["OMP_NUM_THREADS"] == "1" and os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    gpu = {"OMP_WAIT_POLICY": "PASSIVE"}
    LLMConfig(model="/m", accelerator="gpu", kv_cache_gib=None).apply_env(gpu)
    assert gpu == {"OMP_WAIT_POLICY": "PASSIVE"}  # a GPU engine's kernels are not OpenMP's


def test_reader_spin_plugin(monkeypatch):
    pytest.importorskip("vllm", reason="vLLM is not installed: install the llm-cpu extra")
    from vllm.distributed.device_communicators import shm_broadcast
    from vllm.distributed.device_communicators.shm_broadcast import SpinCondition

    # vLLM finds it in each of its processes through the package's entry point.
    found = entry_points(group="vllm.general_plugins")
    assert "models.vllm_plugin:register" in {e.value for e in found}
    spin = inspect.signature(SpinCondition.__init__).parameters["busy_loop_s"]
    saved = SpinCondition.__init__.__defaults__, shm_broadcast.SHM_READER_RECHECK_INTERVAL_MS
    try:
        monkeypatch.delenv(vllm_plugin.READER_SPIN_ENV, raising=False)
        vllm_plugin.register()  # unset (GPUs): vLLM's own spin
        assert inspect.signature(SpinCondition.__init__).parameters["busy_loop_s"] == spin
        monkeypatch.setenv(vllm_plugin.READER_SPIN_ENV, "0")
        vllm_plugin.register()
        assert inspect.signature(SpinCondition.__init__).parameters["busy_loop_s"].default == 0
        assert shm_broadcast.SHM_READER_RECHECK_INTERVAL_MS == vllm_plugin.RECHECK_MS
    finally:
        SpinCondition.__init__.__defaults__, shm_broadcast.SHM_READER_RECHECK_INTERVAL_MS = saved


def test_set_default_leaves_an_unknown_parameter_alone():
    def f(a, b=1, *, c=2):
        return a, b, c

    assert not vllm_plugin.set_default(f, "c", 5)  # keyword-only: not in __defaults__
    assert not vllm_plugin.set_default(f, "missing", 5)
    assert not vllm_plugin.set_default(None, "b", 5)
    assert vllm_plugin.set_default(f, "b", 7) and f(0) == (0, 7, 2)


CONVERSATION = [
    {"role": "system", "content": "You are the dungeon master."},
    {"role": "user", "content": "Roll for initiative."},
    {"role": "assistant", "content": "The goblins stir."},
    {"role": "user", "content": "I draw my sword."},
]
ROLL = {
    "type": "function",
    "function": {
        "name": "roll_dice",
        "parameters": {"type": "object", "properties": {"sides": {"type": "integer"}}},
    },
}


def test_chatml_tools_template(tmp_path):
    pytest.importorskip("transformers", reason=NEEDS)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(registry.resolve(tiny_llama.NAME, tmp_path))
    template = LLMConfig(chat_template="chatml-tools").chat_template_text()

    def render(messages, **kwargs):
        return tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True, **kwargs
        )

    # Without tools, the same prompt as the model's own template.
    assert render(CONVERSATION, chat_template=template) == render(CONVERSATION)
    with_tools = render(CONVERSATION, chat_template=template, tools=[ROLL])
    system, rest = with_tools.split("<|im_end|>\n", 1)
    assert "You are the dungeon master." in system and '"name": "roll_dice"' in system
    assert rest == render(CONVERSATION[1:]).removeprefix(tiny_llama.BOS)
    call = {"type": "function", "function": {"name": "roll_dice", "arguments": {"sides": 20}}}
    loop = [
        *CONVERSATION,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "content": '{"total": 17}'},
    ]
    tail = render(loop, chat_template=template, tools=[ROLL]).split("I draw my sword.")[1]
    assert '<tool_call>\n{"name": "roll_dice", "arguments": {"sides": 20}}\n</tool_call>' in tail
    assert '<tool_response>\n{"total": 17}\n</tool_response>' in tail


def test_chat_template_names_a_shipped_one_or_a_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="chatml-tools"):
        LLMConfig(chat_template="no-such-template").chat_template_text()
    mine = tmp_path / "t.jinja"
    mine.write_text("{{ messages[0].content }}")
    config = LLMConfig(chat_template=str(mine))
    assert config.chat_template_text() == "{{ messages[0].content }}"
    args = config.server_args(tmp_path, "127.0.0.1", 8000)
    assert args[args.index("--chat-template") + 1] == str(mine)
    assert "--chat-template" not in LLMConfig().server_args(tmp_path, "127.0.0.1", 8000)
