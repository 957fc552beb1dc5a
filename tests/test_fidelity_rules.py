"""Issue #15 on the scoring side, each rule recomputed by hand on a few pairs.

- exact (Clopper-Pearson) intervals for plain shares of pairs, the bootstrap for weighted figures;
- the single order per benchmark: PPE's own order, a seeded draw for RewardBench and RM-Bench;
- RewardBench's tie rule per figure family (official 0.5, J1 wrong) and J1 sections that average to J1;
- decimal scores read to 0.1;
- the pointwise format's sampled default decoding, recorded in the manifest.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from j1eval.benchmarks import get_benchmark
from j1eval.formats import get_format
from j1eval.orders import single_order
from j1eval.score.intervals import clopper_pearson, plain_count
from j1eval.score.metrics import compute_figures, pair_table
from j1eval.types import Pair, Parsed


def _pairs(bench: str, subsets: list[str], label: int = 1) -> list[Pair]:
    return [Pair(f"{s}:{i}", bench, s, "q", "r1", "r2", label) for i, s in enumerate(subsets)]


def _verdicts(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["pair_id", "order", "verdict"])


# --------------------------------------------------------------------------- intervals


def test_six_pairs_get_an_exact_interval_not_a_degenerate_bootstrap() -> None:
    """`first` on 6 JudgeBench-like pairs: consistent accuracy 0 of 6, acc (a,b) 3 of 6 (labels 1,1,1,2,2,2)."""
    pairs = [Pair(f"p{i}", "judgebench", "s", "q", "r1", "r2", 1 if i < 3 else 2) for i in range(6)]
    verdicts = _verdicts([(p.pair_id, o, "A") for p in pairs for o in ("ab", "ba")])
    figs = compute_figures(pair_table(pairs, verdicts), None, n_boot=200, seed=0)
    assert figs["acc_consistent"] == 0.0
    low, high = figs["ci"]["acc_consistent"]
    assert (low, high) == pytest.approx(clopper_pearson(0, 6))
    assert low == 0.0 and high == pytest.approx(1 - 0.025 ** (1 / 6), abs=1e-9)  # 0.459: what 6 pairs allow
    assert figs["ci"]["acc_ab"] == pytest.approx(list(clopper_pearson(3, 6)))
    assert figs["ci"]["flip_rate"] == pytest.approx(list(clopper_pearson(6, 6)))
    # slot A rate counts two judgments per pair (den 2): not a plain count, bootstrap
    assert plain_count([2.0] * 6, [2.0] * 6) is None


def test_weighted_figures_keep_the_bootstrap() -> None:
    bench = get_benchmark("rewardbench")
    subsets = ["alpacaeval-easy", "mt-bench-hard", "donotanswer", "math-prm", "hep-go"] * 4
    pairs = _pairs("rewardbench", subsets)
    verdicts = _verdicts([(p.pair_id, o, "A" if i % 3 else "B") for i, p in enumerate(pairs) for o in ("ab", "ba")])
    figs = compute_figures(pair_table(pairs, verdicts, bench), bench, n_boot=300, seed=1)
    table = pair_table(pairs, verdicts, bench)
    k = int(table["correct_single"].sum())
    assert figs["ci"]["acc_single"] == pytest.approx(list(clopper_pearson(k, len(pairs))))
    assert figs["ci"]["j1"] != pytest.approx(list(clopper_pearson(k, len(pairs))))  # grouped: bootstrap
    chat = table[table["section"] == "Chat"]  # one group, 0/1 per pair: a plain share, exact
    assert figs["ci"]["j1_chat"] == pytest.approx(list(clopper_pearson(int(chat["correct_single"].sum()), len(chat))))


# --------------------------------------------------------------------------- the single order per benchmark


def test_single_order_is_the_datasets_for_ppe_and_seeded_elsewhere() -> None:
    from j1eval.orders import orders_for

    ppe, rb, rm = get_benchmark("ppe"), get_benchmark("rewardbench"), get_benchmark("rmbench")
    assert (ppe.single_order, rb.single_order, rm.single_order) == ("dataset", "seeded", "seeded")
    ids = [f"math:q{i}:0:1" for i in range(40)]
    seeded = [single_order(pid, 3) for pid in ids]
    assert "ba" in seeded and "ab" in seeded  # the draw would have picked both
    assert [orders_for(pid, "single", 3, ppe.single_order) for pid in ids] == [("ab",)] * 40
    assert [orders_for(pid, "single", 3, rb.single_order)[0] for pid in ids] == seeded
    # Scoring: PPE's single-order figure is its (a,b) accuracy; RewardBench's follows the seeded draw.
    pairs = [Pair(pid, "ppe", "math", "q", "r1", "r2", 1 + i % 2) for i, pid in enumerate(ids)]
    verdicts = _verdicts([(p.pair_id, o, "A" if i % 3 else "B") for i, p in enumerate(pairs) for o in ("ab", "ba")])
    t = pair_table(pairs, verdicts, ppe, seed=3)
    assert (t["single_order"] == "ab").all()
    assert t["correct_single"].tolist() == t["correct_ab"].tolist()
    figs = compute_figures(t, None, n_boot=0)
    assert figs["acc_single"] == figs["acc_ab"]
    rb_pairs = [Pair(p.pair_id, "rewardbench", "math-prm", "q", "r1", "r2", p.label) for p in pairs]
    t_rb = pair_table(rb_pairs, verdicts, rb, seed=3)
    assert t_rb["single_order"].tolist() == seeded


def test_ppe_jobs_judge_the_files_order(tmp_path: Path) -> None:
    from conftest import FIXTURES

    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run

    run(RunConfig(judge="first", benches=["ppe"], data_dir=FIXTURES, order="single", out=tmp_path, progress=False))
    rows = [json.loads(line) for line in (tmp_path / "judgments.jsonl").read_text().splitlines()]
    assert rows and {r["order"] for r in rows} == {"ab"}
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert "ppe" in manifest["order_rule"] and "sha256" in manifest["order_rule"]


# --------------------------------------------------------------------------- RewardBench: the tie rule per family


def test_rewardbench_official_counts_half_j1_counts_wrong_and_j1_sections_average_to_j1() -> None:
    bench = get_benchmark("rewardbench")
    # Chat: 4 pairs (right, tie, wrong, none); Chat Hard: 2 (right, right); Safety: 2 (tie, wrong);
    # Reasoning: math-prm 2 (right, tie), hep-go 2 (right, wrong). Label 1: slot A is right in order ab.
    spec = [
        ("alpacaeval-easy", "A"),
        ("alpacaeval-easy", "tie"),
        ("mt-bench-easy", "B"),
        ("mt-bench-med", None),
        ("llmbar-natural", "A"),
        ("mt-bench-hard", "A"),
        ("donotanswer", "tie"),
        ("xstest-should-refuse", "B"),
        ("math-prm", "A"),
        ("math-prm", "tie"),
        ("hep-go", "A"),
        ("hep-go", "B"),
    ]
    pairs = _pairs("rewardbench", [s for s, _ in spec])
    # The same verdict in both orders, read as "right slot" in each: A under ab; mirrored under ba.
    mirror = {"A": "B", "B": "A", "tie": "tie", None: None}
    rows = [(p.pair_id, "ab", v) for p, (_, v) in zip(pairs, spec, strict=True)]
    rows += [(p.pair_id, "ba", mirror[v]) for p, (_, v) in zip(pairs, spec, strict=True)]
    figs = compute_figures(pair_table(pairs, _verdicts(rows), bench), bench, n_boot=0)
    by_hand_official = {"chat": (1 + 0.5 + 0 + 0.5) / 4, "chat_hard": 1.0, "safety": (0.5 + 0) / 2}
    by_hand_official["reasoning"] = ((1 + 0.5) / 2 + (1 + 0) / 2) / 2  # math-prm weighs as the code subsets
    by_hand_j1 = {"chat": 1 / 4, "chat_hard": 1.0, "safety": 0.0, "reasoning": ((1 + 0) / 2 + (1 + 0) / 2) / 2}
    for section, value in by_hand_official.items():
        assert figs[section] == pytest.approx(value), section
        assert figs[f"j1_{section}"] == pytest.approx(by_hand_j1[section]), section
    assert figs["official"] == pytest.approx(sum(by_hand_official.values()) / 4)
    assert figs["j1"] == pytest.approx(sum(by_hand_j1.values()) / 4)  # J1's sections average to J1's overall


# --------------------------------------------------------------------------- decimal scores


@pytest.mark.parametrize("name", ["pairwise-scores", "scores-verdict"])
def test_pairwise_scores_read_one_decimal(name: str) -> None:
    fmt = get_format(name)
    answer = " <answer> [[A]] </answer>" if name == "scores-verdict" else ""
    parsed = fmt.parse(f"<think>x</think><score_A> 7.5 </score_A><score_B>6.9</score_B>{answer}")
    assert (parsed.verdict, parsed.score_a, parsed.score_b, parsed.failure) == ("A", 7.5, 6.9, None)
    finer = fmt.parse(f"<think>x</think><score_A>7.25</score_A><score_B>6</score_B>{answer}")
    if name == "pairwise-scores":  # the scores decide: off the 0.1 grid is a failure
        assert finer.failure == "score_out_of_range"
    else:  # the verdict decides; a score off the grid is dropped
        assert (finer.verdict, finer.score_a, finer.score_b, finer.failure) == ("A", None, 6.0, None)
    assert fmt.parse("<score_A>8</score_A><score_B>8.0</score_B>" + answer).score_a == 8.0
    assert get_format("pointwise").parse("<score> 9.9 </score>") == Parsed(score=9.9)


# --------------------------------------------------------------------------- pointwise decoding


def test_pointwise_samples_by_default_and_records_it(tmp_path: Path, tiny: Path) -> None:
    from tiny_model import tiny_pairs, write_pairs_jsonl

    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run

    assert get_format("pointwise").default_sampling == {"temperature": 1.0, "top_p": 0.95}
    assert get_format("pairwise-scores").default_sampling == {}
    write_pairs_jsonl(tmp_path / "pairs.jsonl", tiny_pairs(1))
    common = dict(judge=f"hf:{tiny}", benches=["pairs"], data_dir=tmp_path, format="pointwise", max_tokens=3)
    run(RunConfig(**common, out=tmp_path / "sampled", seed=5, progress=False, n_boot=10))
    sampling = json.loads((tmp_path / "sampled" / "manifest.json").read_text())["judge_identity"]["sampling"]
    assert sampling == {"temperature": 1.0, "top_p": 0.95, "max_tokens": 3, "seed": 5}
    run(RunConfig(**common, out=tmp_path / "greedy", temperature=0.0, progress=False, n_boot=10))
    greedy = json.loads((tmp_path / "greedy" / "manifest.json").read_text())["judge_identity"]["sampling"]
    assert greedy["temperature"] == 0.0 and greedy["top_p"] == 1.0  # --temperature given: no format default
