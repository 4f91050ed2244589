"""Model folders: the tiny test model, the resolver and the per-model config."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from models import registry, tiny_llama
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
    assert LLMConfig().env()["VLLM_CPU_OMP_THREADS_BIND"] == "nobind"
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
