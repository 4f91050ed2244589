"""A tiny seeded random Llama for tests: its own byte-level BPE tokenizer trained on a short
built-in text, and a ChatML chat template. It writes nonsense, but it loads in vLLM in
seconds and exercises the same code paths as a real model.

Built once per directory; the same seed always gives the same weights and vocabulary.
"""

from __future__ import annotations

import json
from pathlib import Path

from models.build import build_once

NAME = "tiny-llama"
SEED = 1234
VOCAB_SIZE = 1024
MAX_POSITIONS = 1024
BOS, EOS, IM_START, IM_END = "<|begin_of_text|>", "<|end_of_text|>", "<|im_start|>", "<|im_end|>"
# The chat template adds <bos> itself; vLLM renders chats without the tokenizer's specials.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
# What the BPE learns its merges from: enough plain English for word-sized tokens.
CORPUS = """\
The party met at the old inn by the river, where the innkeeper told them of a dragon that
slept beneath the mountain. The wizard opened her spellbook and read the words of a spell of
fire; the fighter sharpened his sword; the rogue counted the gold coins in her purse and said
nothing. At dawn they left the village and walked north along the road through the dark
forest. Wolves howled in the distance. The cleric prayed for light, and a warm glow filled the
clearing where they made camp. In the morning a stranger in a grey cloak asked to join them:
he knew the secret paths of the mountain and the names of the dead kings buried there. The
dungeon master smiled and asked each player what their character would do next. A goblin
ambush, a locked door, a riddle carved in stone, a treasure chest guarded by a sleeping
giant: every room of the ancient castle held a new danger and a new story. When the battle
was over, the heroes shared the treasure, healed their wounds and wrote the tale of their
adventure in the chronicle of the kingdom, so that the bards would sing of it for years.
"""


def ensure(dest: Path) -> Path:
    """The model folder at `dest`, built there first if it is missing."""
    return build_once(dest, _write)


def _write(out: Path) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_train_tokenizer(),
        bos_token=BOS,
        eos_token=EOS,
        pad_token=EOS,
        additional_special_tokens=[IM_START, IM_END],
        model_max_length=MAX_POSITIONS,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(out)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,  # head_dim 32: the smallest vLLM's CPU attention takes
        num_key_value_heads=1,
        max_position_embeddings=MAX_POSITIONS,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=[tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids(IM_END)],
        tie_word_embeddings=True,
        torch_dtype="float32",
    )
    torch.manual_seed(SEED)
    LlamaForCausalLM(config).save_pretrained(out)
    (out / "lorekeeper.json").write_text(json.dumps({"built_by": __name__, "seed": SEED}))


def _train_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE())
    # Byte-level: any text encodes, whatever the corpus lacked.
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[BOS, EOS, IM_START, IM_END],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS.splitlines(), trainer=trainer)
    bos_id = tokenizer.token_to_id(BOS)
    # Completions start with <bos>, as a Llama tokenizer's do.
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A {BOS} $B", special_tokens=[(BOS, bos_id)]
    )
    return tokenizer
