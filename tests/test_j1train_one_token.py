"""One forward per distinct prompt for one-token completions equals TRL's per-row forward."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch
from trl import GRPOTrainer

from j1eval.formats import get_format
from j1train import cli, one_token
from j1train.config import config_from_dict
from j1train.one_token import distinct_prompts
from j1train.trainer import J1GRPOTrainer, build_trainer, chat_ids, prepare

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiny_model import tiny_pairs, write_pairs_jsonl  # noqa: E402

G = 4


def values(tmp_path: Path, model: Path, **extra: Any) -> dict[str, Any]:
    return {
        "model": str(model),
        "format": "direct-verdict",
        "train_pairs": str(write_pairs_jsonl(tmp_path / "pairs.jsonl", tiny_pairs(4))),
        "output_dir": str(tmp_path / "out"),
        "num_generations": G,
        "per_device_train_batch_size": 2 * G,  # one pair: 2 orders x G rollouts
        "max_completion_length": 1,
        "max_steps": 1,
        "save_steps": 100,
        "rewards": {"verdict": 1.0, "consistency": 1.0},
        "beta": 0.0,
        **extra,
    }


def make_trainer(tmp_path: Path, model: Path, **extra: Any) -> J1GRPOTrainer:
    return build_trainer(prepare(config_from_dict(values(tmp_path, model, **extra))))


def rollout_batch(trainer: J1GRPOTrainer, n_prompts: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """``n_prompts`` direct-verdict prompts of different lengths x G one-token rollouts, left-padded as TRL pads."""
    tokenizer = trainer.processing_class
    fmt = get_format("direct-verdict")
    prompts = [
        chat_ids(tokenizer, [dict(m) for m in fmt.prompts(pair, "ab")[0].messages]) for pair in tiny_pairs(n_prompts)
    ]
    prompts[0] = prompts[0][:-3]  # different lengths, so that some rows are padded
    width = max(map(len, prompts))
    generator = torch.Generator().manual_seed(0)
    ids, mask = [], []
    for prompt in prompts:
        pad = width - len(prompt)
        for _ in range(G):
            token = int(torch.randint(len(tokenizer), (1,), generator=generator))
            ids.append([tokenizer.pad_token_id] * pad + prompt + [token])
            mask.append([0] * pad + [1] * (len(prompt) + 1))
    return torch.tensor(ids), torch.tensor(mask)


def both_paths(trainer: J1GRPOTrainer, ids: torch.Tensor, mask: torch.Tensor, **kwargs: Any) -> tuple[Any, Any]:
    model = trainer.model
    ours = trainer._get_per_token_logps_and_entropies(model, ids, mask, 1, **kwargs)
    trl = GRPOTrainer._get_per_token_logps_and_entropies(trainer, model, ids, mask, 1, **kwargs)
    return ours, trl


def test_distinct_prompts_keeps_first_rows_in_order() -> None:
    ids = torch.tensor([[5, 6, 1], [3, 4, 2], [5, 6, 9], [3, 4, 1], [0, 4, 1]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1], [0, 1, 1]])
    first, inverse = distinct_prompts(ids, mask)
    assert first.tolist() == [0, 1, 4] and inverse.tolist() == [0, 1, 0, 1, 2]


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_logps_and_entropies_equal_trl(tmp_path: Path, tiny: Path, temperature: float) -> None:
    trainer = make_trainer(tmp_path, tiny, temperature=temperature)
    ids, mask = rollout_batch(trainer)
    mask[-1, -1] = 0  # a masked completion token scores 0, as in TRL
    calls = []
    real = one_token.one_token_logps
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(one_token, "one_token_logps", lambda *a, **k: calls.append(1) or real(*a, **k))
        with torch.no_grad():
            (logps, ent, aux), (ref_logps, ref_ent, ref_aux) = both_paths(
                trainer, ids, mask, batch_size=3, compute_entropy=True
            )
    assert calls == [1]
    assert logps.shape == ref_logps.shape == (2 * G, 1) and logps.dtype == ref_logps.dtype
    assert ent is not None and ref_ent is not None and ent.shape == ref_ent.shape and ent.dtype == ref_ent.dtype
    torch.testing.assert_close(logps, ref_logps, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ent, ref_ent, atol=1e-5, rtol=1e-5)
    assert logps[-1, 0] == 0 and ent[-1, 0] == 0 and aux is None and ref_aux is None
    logps_only, none, _ = trainer._get_per_token_logps_and_entropies(trainer.model, ids, mask, 1)
    assert none is None
    torch.testing.assert_close(logps_only.detach(), ref_logps, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("lora", [None, {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]}])
def test_gradients_equal_trl(tmp_path: Path, tiny: Path, lora: dict[str, Any] | None) -> None:
    trainer = make_trainer(tmp_path, tiny, temperature=0.7, lora=lora)
    ids, mask = rollout_batch(trainer)
    weights = torch.linspace(-1.0, 1.0, ids.size(0)).unsqueeze(1)
    params = [p for p in trainer.model.parameters() if p.requires_grad]
    trainer.model.eval()  # no dropout, so that both paths see the same function
    grads = []
    for method in (J1GRPOTrainer._get_per_token_logps_and_entropies, GRPOTrainer._get_per_token_logps_and_entropies):
        logps, ent, _ = method(trainer, trainer.model, ids, mask, 1, compute_entropy=True)
        loss = (logps * weights).sum() + 0.1 * (ent * weights.flip(0)).sum()
        grads.append(torch.autograd.grad(loss, params))
    assert len(params) > 0
    for ours, trl in zip(*grads, strict=True):
        torch.testing.assert_close(ours, trl, atol=1e-5, rtol=1e-4)


def test_other_batches_go_to_trl(tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trainer = make_trainer(tmp_path, tiny)
    monkeypatch.setattr(one_token, "one_token_logps", lambda *a, **k: pytest.fail("one-token path taken"))
    ids, mask = rollout_batch(trainer)
    model = trainer.model
    with torch.no_grad():
        for keep in (2, 3):  # longer completions
            ours = trainer._get_per_token_logps_and_entropies(model, ids, mask, keep, compute_entropy=True)
            trl = GRPOTrainer._get_per_token_logps_and_entropies(trainer, model, ids, mask, keep, compute_entropy=True)
            assert ours[0].shape == (ids.size(0), keep)
            assert torch.equal(ours[0], trl[0]) and torch.equal(ours[1], trl[1])
        distinct = ids[::G], mask[::G]  # no repeated prompt: nothing to save
        assert torch.equal(trainer._get_per_token_logps_and_entropies(model, *distinct, 1)[0], both_paths(
            trainer, *distinct)[1][0])  # fmt: skip
        trainer.one_token_dedup = False
        trainer._get_per_token_logps_and_entropies(model, ids, mask, 1)


def one_token_rows(trainer: J1GRPOTrainer, rollouts: int) -> list[list[int]]:
    """Two direct-verdict prompts of different lengths, each repeated ``rollouts`` times, as TRL passes them."""
    tokenizer = trainer.processing_class
    fmt = get_format("direct-verdict")
    prompts = [chat_ids(tokenizer, [dict(m) for m in fmt.prompts(pair, "ab")[0].messages]) for pair in tiny_pairs(2)]
    prompts[0] = prompts[0][:-3]
    return [prompt for prompt in prompts for _ in range(rollouts)]


def frequencies(rows: list[list[int]], vocab: int) -> torch.Tensor:
    return torch.bincount(torch.tensor([row[0] for row in rows]), minlength=vocab).float() / len(rows)


def test_one_token_sampling_draws_from_trls_distribution(
    tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """G rollouts drawn from one read of each prompt follow the distribution of TRL's G separate generate rows."""
    trainer = make_trainer(tmp_path, tiny, temperature=0.7, trl={"top_k": 4})
    n = 3000
    rows = one_token_rows(trainer, n)
    reads = []
    real_generate = trainer.model.generate
    count_reads = lambda **k: reads.append(k["input_ids"].size(0)) or real_generate(**k)  # noqa: E731
    monkeypatch.setattr(trainer.model, "generate", count_reads)
    torch.manual_seed(0)
    ours, logprobs = trainer._generate_single_turn(rows, None, {}, n)
    assert reads == [2] and logprobs is None  # one batch holding each distinct prompt once
    monkeypatch.undo()
    assert len(ours) == len(rows) and all(len(row) == 1 for row in ours)
    torch.manual_seed(1)
    trl, _ = GRPOTrainer._generate_single_turn(trainer, rows, None, {}, n)
    vocab = len(trainer.processing_class)
    for part in (slice(0, n), slice(n, 2 * n)):
        ours_freq, trl_freq = frequencies(ours[part], vocab), frequencies(trl[part], vocab)
        assert int((ours_freq > 0).sum()) <= 4 and set(ours_freq.nonzero().flatten().tolist()) == set(
            trl_freq.nonzero().flatten().tolist()
        )  # top-k 4 applied as generate applies it: the same support
        assert 0.5 * float((ours_freq - trl_freq).abs().sum()) < 0.05  # total variation of 3,000 draws each
    # the two prompts have different distributions, and each row drew its own token
    assert 0.5 * float((frequencies(ours[:n], vocab) - frequencies(ours[n:], vocab)).abs().sum()) > 0.1
    assert len({row[0] for row in ours[:n]}) > 1


def test_other_generations_go_to_trl(tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trainer = make_trainer(tmp_path, tiny)
    monkeypatch.setattr(one_token, "sample_one_token", lambda *a, **k: pytest.fail("one-token sampling taken"))
    rows = one_token_rows(trainer, G)
    assert len(trainer._generate_single_turn(rows[::G], None, {}, 1)[0]) == 2  # no repeated prompt
    trainer.max_completion_length = 3  # longer completions (the test patches the field TRL's path reads)
    assert len(trainer._generate_single_turn(rows, None, {}, G)[0]) == 2 * G
    trainer.max_completion_length = 1
    trainer.one_token_dedup = False
    assert len(trainer._generate_single_turn(rows, None, {}, G)[0]) == 2 * G


@pytest.mark.slow
def test_grpo_trains_through_the_one_token_path(tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls, draws = [], []
    real, real_sample = one_token.one_token_logps, one_token.sample_one_token
    monkeypatch.setattr(one_token, "one_token_logps", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(one_token, "sample_one_token", lambda *a, **k: draws.append(1) or real_sample(*a, **k))
    cfg = values(
        tmp_path, tiny, beta=0.01, steps_per_generation=2, max_steps=2, learning_rate=1e-3,
        lora={"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]},
    )  # fmt: skip
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(f"{k}: {json.dumps(v)}" for k, v in cfg.items()) + "\n")
    assert cli.main(["grpo", "--config", str(path)]) == 0
    # old-policy and reference log-probs over each generation batch, and the loss, take the one-token path
    assert len(calls) >= 3
    assert len(draws) == 1  # one generation batch (steps_per_generation 2) sampled from one read per prompt
    out = tmp_path / "out"
    steps = [e for e in map(json.loads, (out / "log.jsonl").read_text().splitlines()) if "loss" in e]
    lengths = [e["completions/mean_length"] for e in steps if "completions/mean_length" in e]  # generation steps
    assert [e["step"] for e in steps] == [1, 2] and lengths and all(n == 1 for n in lengths)
    table = pd.concat(pd.read_parquet(f) for f in (out / "completions").glob("*.parquet"))
    assert len(table) == 2 * 2 * 2 * G  # 2 steps x 2 pairs x 2 orders x G rollouts
    assert (out / "final" / "config.json").is_file()
