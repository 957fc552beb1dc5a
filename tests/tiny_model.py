"""A tiny chat model built on the spot: random Llama weights, a byte-level BPE tokenizer, a chat template.

Nothing is downloaded. ``build_tiny_model(folder)`` writes an ordinary transformers folder
(config.json, weights, tokenizer, chat template) that TRL trains and j1eval's hf backend loads.
"""

from __future__ import annotations

import json
from pathlib import Path

from j1eval.formats import get_format
from j1eval.types import Pair

SPECIAL = ["<pad>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def tiny_pairs(n: int = 4) -> list[Pair]:
    """``n`` short hand-made pairs (label alternating 1, 2)."""
    return [
        Pair(
            f"p{i}",
            "train",
            "tiny",
            f"What is {i} plus {i}?",
            f"It is {2 * i}." if i % 2 == 0 else f"It is {2 * i + 1}.",
            f"It is {2 * i + 1}." if i % 2 == 0 else f"It is {2 * i}.",
            1 if i % 2 == 0 else 2,
        )
        for i in range(n)
    ]


def write_pairs_jsonl(path: Path, pairs: list[Pair]) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for p in pairs:
            row = {"pair_id": p.pair_id, "prompt": p.prompt, "response_1": p.response_1, "response_2": p.response_2}
            fh.write(json.dumps({**row, "label": p.label}) + "\n")
    return path


def _corpus() -> list[str]:
    texts = []
    for name in ("pairwise-verdict", "pairwise-scores", "scores-verdict", "pointwise"):
        texts.append(get_format(name).template)
    for p in tiny_pairs(8):
        texts += [p.prompt, p.response_1, p.response_2]
    texts += ["<think> A is right </think> <answer> [[A]] </answer>", "<answer> [[B]] </answer>", "[[C]] tie"]
    return texts * 3


def build_tiny_model(folder: Path, vocab_size: int = 600, hidden: int = 32, layers: int = 2) -> Path:
    """Write a tiny random Llama chat model into ``folder`` and return it."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|end|>", pad_token="<pad>", bos_token=None, unk_token=None
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=32768,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(folder)
    return folder
