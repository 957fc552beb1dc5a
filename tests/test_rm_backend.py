"""The scalar reward-model judge (``rm:PATH``) on a tiny random sequence-classification model built here."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from tiny_model import build_tiny_model, tiny_pairs, write_pairs_jsonl

from j1eval.backends import Request
from j1eval.errors import InputError, SetupError
from j1eval.formats import get_format
from j1eval.judging.config import RunConfig
from j1eval.judging.runner import run
from j1eval.types import Pair, Sampling


def build_tiny_rm(folder: Path, pad: bool = True) -> Path:
    """The tiny chat model's tokenizer with a random one-output Llama sequence classifier."""
    import torch
    from transformers import AutoConfig, LlamaForSequenceClassification

    build_tiny_model(folder)
    config = AutoConfig.from_pretrained(folder)
    config.num_labels = 1
    config.architectures = ["LlamaForSequenceClassification"]
    if not pad:
        config.pad_token_id = None
    torch.manual_seed(1)
    model = LlamaForSequenceClassification(config)
    with torch.no_grad():  # a score head large enough that responses get clearly different scores
        model.score.weight.normal_(0.0, 1.0)
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_rm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_rm(tmp_path_factory.mktemp("rm") / "model")


def rm_pairs() -> list[Pair]:
    """The tiny pairs, plus one whose two responses are the same text (equal scores: a tie)."""
    same = Pair("same", "pairs", "tiny", "Say hi.", "Hi there.", "Hi there.", 1)
    return [*tiny_pairs(6), same]


@pytest.fixture(scope="module")
def rm_run(tiny_rm: Path, tmp_path_factory: pytest.TempPathFactory):
    data = tmp_path_factory.mktemp("data")
    write_pairs_jsonl(data / "pairs.jsonl", rm_pairs())
    out = tmp_path_factory.mktemp("run") / "out"
    config = RunConfig(
        judge=f"rm:{tiny_rm}",
        benches=["pairs"],
        data_dir=data,
        out=out,
        progress=False,
        n_boot=50,
        backend_options={"batch_size": 3},
    )
    return run(config)


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "judgments.jsonl").read_text().splitlines()]


def score_alone(tiny_rm: Path, prompt: str, response: str) -> float:
    """A conversation's score from the model alone (batch of one), as a user of the model computes it."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_rm)
    model = AutoModelForSequenceClassification.from_pretrained(tiny_rm, dtype=torch.float32).eval()
    text = tok.apply_chat_template(
        [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}], tokenize=False
    )
    ids = tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        return float(model(input_ids=ids).logits[0, 0])


def test_scores_are_stored_and_p_a_is_the_sigmoid_of_their_difference(rm_run, tiny_rm):
    rows = records(rm_run.out_dir)
    assert len(rows) == 2 * len(rm_pairs())  # both orders of every pair
    by_pair = {p.pair_id: p for p in rm_pairs()}
    for row in rows:
        assert row["failure"] is None
        a, b = row["scores"]["A"], row["scores"]["B"]
        assert isinstance(a, float) and isinstance(b, float)
        assert row["p_a"] == pytest.approx(1.0 / (1.0 + math.exp(-(a - b))), rel=1e-12, abs=1e-15)
        assert row["verdict"] == ("A" if a > b else "B" if b > a else "tie")
        assert row["raw"] == [repr(a), repr(b)]  # the backend's answer: each slot's exact score
        # The stored scores are the model's own, batched or not.
        pair = by_pair[row["pair_id"]]
        slot_a, slot_b = pair.slots(row["order"])
        assert a == pytest.approx(score_alone(tiny_rm, pair.prompt, slot_a), abs=1e-5)
        assert b == pytest.approx(score_alone(tiny_rm, pair.prompt, slot_b), abs=1e-5)


def test_order_blind_by_construction(rm_run):
    rows = {(r["pair_id"], r["order"]): r for r in records(rm_run.out_dir)}
    for pair in rm_pairs():
        ab, ba = rows[(pair.pair_id, "ab")], rows[(pair.pair_id, "ba")]
        assert (ab["scores"]["A"], ab["scores"]["B"]) == (ba["scores"]["B"], ba["scores"]["A"])
    assert rows[("same", "ab")]["verdict"] == rows[("same", "ba")]["verdict"] == "tie"
    assert rows[("same", "ab")]["p_a"] == 0.5
    overall = rm_run.results["pairs"]["overall"]
    assert overall["flip_rate"] == 0.0
    assert overall["order_shift"] == 0.0
    # Scores that differ (the six tiny pairs) are decisive: the run really discriminates.
    assert overall["tie_rate"] == pytest.approx(1 / len(rm_pairs()))
    assert overall["acc_ab"] == overall["acc_ba"] == overall["acc_consistent"]
    table = pd.read_parquet(rm_run.out_dir / "pairs.parquet")
    assert len(table) == len(rm_pairs())
    assert rm_run.n_generated == 2 * len(rm_pairs())


def test_each_response_is_scored_once(tiny_rm):
    """Both orders share the two conversations: a pair costs two forward rows, not four."""
    from j1eval.backends.rm_backend import RewardModelBackend
    from j1eval.judging.jobs import make_jobs

    fmt = get_format("reward-model")
    jobs, prompts = make_jobs({"pairs": tiny_pairs(3)}, fmt, {"judge": "x"}, order="both", seed=0, samples=1)
    assert len(jobs) == 6 and len(prompts) == 6
    backend = RewardModelBackend(str(tiny_rm), batch_size=4)
    calls = []
    out = backend.generate(list(prompts.values()), Sampling(), n=2, on_done=lambda i, c: calls.append(i))
    assert sorted(calls) == list(range(6))
    assert all(len(c) == 2 and c[0] == c[1] and c[0].finish_reason == "stop" for c in out)


def test_a_model_without_padding_id_scores_the_same(tiny_rm, tmp_path):
    """No pad id in the config: each row is still pooled at its own last token."""
    bare = build_tiny_rm(tmp_path / "bare", pad=False)
    from j1eval.backends.rm_backend import RewardModelBackend

    pairs = tiny_pairs(2)
    fmt = get_format("reward-model")
    requests = [Request(p, pair, "ab", k) for pair in pairs for k, p in enumerate(fmt.prompts(pair, "ab"))]
    with_pad = RewardModelBackend(str(tiny_rm), batch_size=4).generate(requests, Sampling())
    without = RewardModelBackend(str(bare), batch_size=4).generate(requests, Sampling())
    for a, b in zip(with_pad, without, strict=True):
        assert float(a[0].text) == pytest.approx(float(b[0].text), abs=1e-5)


def test_other_formats_and_bad_models_are_refused(tiny_rm, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_pairs_jsonl(data / "pairs.jsonl", tiny_pairs(2))
    config = RunConfig(judge=f"rm:{tiny_rm}", benches=["pairs"], data_dir=data, out=tmp_path / "o", progress=False)
    with pytest.raises(InputError, match="rm backend\\) cannot answer in it"):
        run(RunConfig(**{**config.__dict__, "format": "pairwise-verdict"}))
    with pytest.raises(SetupError, match="not found"):
        run(RunConfig(**{**config.__dict__, "judge": f"rm:{tmp_path / 'nothing'}"}))
    assert not (tmp_path / "o" / "manifest.json").exists()  # no claim on the folder by a judge that cannot start


def test_the_format_reads_scores_and_failures():
    fmt = get_format("reward-model")
    assert fmt.parse("1.25").score == 1.25
    assert fmt.parse("nope").failure == "no_verdict"
    assert fmt.parse("nan").failure == "score_out_of_range"
    assert fmt.parse("", "error").failure == "backend_error"
    a, b = fmt.parse("0.5"), fmt.parse("bad")
    assert fmt.combine([a, b]).failure == fmt.combine([b, a]).failure == "no_verdict"
    judged = fmt.combine([fmt.parse("2.0"), fmt.parse("-1.0")])
    assert judged.verdict == "A" and judged.p_a == pytest.approx(1 / (1 + math.exp(-3.0)))


def test_rewardbench2_official_figures_from_the_reward_model_scores(tiny_rm, tmp_path):
    """A scorer judge gets RewardBench 2's Ties and official figures, recomputed here from its stored scores."""
    from test_rewardbench2 import official_rows, write_data

    from j1eval.benchmarks.rewardbench2 import BEST_OF_4, ties_score

    rows = official_rows()
    data = write_data(tmp_path / "data", rows)
    out = tmp_path / "run"
    config = RunConfig(judge=f"rm:{tiny_rm}", benches=["rewardbench2"], data_dir=data, out=out, progress=False)
    result = run(RunConfig(**{**config.__dict__, "n_boot": 50})).results["rewardbench2"]
    score: dict[tuple[str, int], float] = {}  # (prompt id, index in chosen + rejected) -> the model's score
    by_id = {r["id"]: r for r in rows}
    for rec in (r for r in records(out) if r["order"] == "ab"):
        rid, good, bad = re.fullmatch(r"(.*?)(?::c(\d+))?:r(\d+)", rec["pair_id"]).groups()  # {id}[:c{i}]:r{j}
        good, bad = int(good or 0), by_id[rid]["num_correct"] + int(bad)
        score[(rid, good)], score[(rid, bad)] = rec["scores"]["A"], rec["scores"]["B"]
    subsets = {}
    for subset in BEST_OF_4:  # reward-bench's reroll_and_score_dataset: 1/count(max) when the chosen one is max
        values = []
        for r in (r for r in rows if r["subset"] == subset):
            s = [score[(r["id"], k)] for k in range(4)]
            values.append(1 / s.count(max(s)) if s[0] == max(s) else 0.0)
        subsets[subset] = sum(values) / len(values)
        assert result["subsets"][subset]["best_of_4"] == pytest.approx(subsets[subset])
    groups = {
        r["id"]: [(k < r["num_correct"], score[(r["id"], k)]) for k in range(len(r["chosen"]) + len(r["rejected"]))]
        for r in rows
        if r["subset"] == "Ties"
    }
    ties = ties_score(groups)
    assert ties is not None and result["overall"]["ties"] == pytest.approx(ties["ties"])
    assert result["overall"]["official"] == pytest.approx((sum(subsets.values()) + ties["ties"]) / 6)
    assert result["overall"]["flip_rate"] == 0.0 and "reasons" not in result
