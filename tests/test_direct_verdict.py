"""Direct verdicts: the format, probabilities from first-token log-probabilities, and p_a figures."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from j1eval.cli import main
from j1eval.formats import get_format
from j1eval.formats.direct_verdict import PREFILL, choice_masses, choice_of_token
from j1eval.judging.config import RunConfig
from j1eval.judging.runner import run
from j1eval.score.metrics import compute_figures, pair_table
from j1eval.types import Completion, Pair

FMT = get_format("direct-verdict")


def pair(label: int = 1, pid: str = "p") -> Pair:
    return Pair(pid, "b", "s", "What is 2+2?", "4", "5", label)


def test_prompt_is_j1s_without_thinking_and_opens_the_answer():
    (prompt,) = FMT.prompts(pair(), "ba")
    assert prompt.prefill == PREFILL == "<answer> [["
    assert [m["role"] for m in prompt.messages] == ["user", "assistant"]
    user = prompt.messages[0]["content"]
    assert "answer with the verdict only" in user and "<think>" not in user
    assert user.index("[The Start of Assistant A's Answer]\n5") < user.index("[The Start of Assistant B's Answer]\n4")
    assert FMT.template_hash != get_format("pairwise-verdict").template_hash
    assert FMT.default_max_tokens == 1 and FMT.reads_probabilities


@pytest.mark.parametrize(
    ("token", "choice"),
    [("A", "A"), (" A", "A"), ("A]", "A"), ("A]]", "A"), ("b", "B"), ("\tB]] </", "B"), ("B]]</answer>", "B")],
)
def test_tokens_that_start_a_choice(token, choice):
    assert choice_of_token(token) == choice


@pytest.mark.parametrize("token", ["", " ", "Ass", "Answer", "AB", "C", "1", "The", "[[", "A)", "Bold"])
def test_tokens_that_start_no_choice(token):
    assert choice_of_token(token) is None


def test_masses_add_every_tokenisation_of_a_choice():
    top = {"A": math.log(0.3), " A": math.log(0.1), "A]]": math.log(0.05), "B": math.log(0.2), "Ass": math.log(0.3)}
    mass = choice_masses(top)
    assert mass["A"] == pytest.approx(0.45) and mass["B"] == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("text", "verdict"),
    [("A", "A"), ("B]] </answer>", "B"), (" a]]", "A"), ("tie]]", "tie"), ("<answer> [[B]] </answer>", "B")],
)
def test_text_continuations(text, verdict):
    assert FMT.parse(text, "length").verdict == verdict


@pytest.mark.parametrize("text", ["", "Absolutely", "The first one", "1"])
def test_text_without_a_choice_is_no_verdict_even_when_cut(text):
    parsed = FMT.parse(text, "length")
    assert (parsed.verdict, parsed.failure) == (None, "no_verdict")


def test_read_takes_the_more_probable_choice_and_renormalises():
    # The generated token is "Ass" (most likely single token), but B's tokenisations together outweigh A's.
    top = {"Ass": math.log(0.35), "A": math.log(0.3), "B": math.log(0.2), " B": math.log(0.15)}
    parsed = FMT.read(Completion("Ass", "length", top_logprobs=top))
    assert parsed.verdict == "B" and parsed.failure is None
    assert parsed.p_a == pytest.approx(0.3 / 0.65)
    assert parsed.choice_probs == pytest.approx({"A": 0.3, "B": 0.35})


def test_read_with_neither_choice_among_the_top_tokens_is_no_verdict():
    parsed = FMT.read(Completion("The", "length", top_logprobs={"The": -0.1, "1": -3.0}))
    assert (parsed.verdict, parsed.failure, parsed.p_a) == (None, "no_verdict", None)


def test_a_sampled_completion_keeps_its_sampled_choice():
    top = {"A": math.log(0.7), "B": math.log(0.3)}
    parsed = FMT.read(Completion("B", "length", top_logprobs=top), sampled=True)
    assert parsed.verdict == "B" and parsed.p_a == pytest.approx(0.7)


def test_without_probabilities_the_text_decides_and_errors_stay_errors():
    assert FMT.read(Completion("A]] </answer>", "stop")).verdict == "A"
    assert FMT.read(Completion("A]] </answer>", "stop")).p_a is None
    assert FMT.read(Completion("", "error", error="HTTP 500")).failure == "backend_error"


# -- figures over p_a, by hand -----------------------------------------------------------

PAIRS = [pair(1, "p1"), pair(2, "p2"), pair(1, "p3"), pair(2, "p4")]
# p_a per (pair, order). P(response_1) is p_a under ab and 1 - p_a under ba.
P_A = {
    ("p1", "ab"): 0.9, ("p1", "ba"): 0.3,  # P1 = 0.9, 0.7: shift 0.2, mean 0.8 -> response 1, label 1: right
    ("p2", "ab"): 0.6, ("p2", "ba"): 0.6,  # P1 = 0.6, 0.4: shift 0.2, mean 0.5 -> undecided: wrong
    ("p3", "ab"): 0.8, ("p3", "ba"): 0.9,  # P1 = 0.8, 0.1: shift 0.7, mean 0.45 -> response 2, label 1: wrong
    ("p4", "ab"): 0.2, ("p4", "ba"): None,  # only one order has a probability: not in the two-order figures
}  # fmt: skip


def p_a_table() -> pd.DataFrame:
    rows = []
    for (pid, order), p in P_A.items():
        verdict = None if p is None else ("A" if p > 0.5 else "B")
        rows.append({"pair_id": pid, "order": order, "verdict": verdict, "failure": None, "p_a": p})
    return pair_table(PAIRS, pd.DataFrame(rows))


def test_probability_figures_by_hand():
    figs = compute_figures(p_a_table(), n_boot=200)
    present = [p for p in P_A.values() if p is not None]
    assert figs["mean_p_a"] == pytest.approx(sum(present) / len(present))  # 4.3 / 7
    assert figs["order_shift"] == pytest.approx((0.2 + 0.2 + 0.7) / 3)
    assert figs["acc_prob_avg"] == pytest.approx(1 / 3)
    for key in ("mean_p_a", "order_shift", "acc_prob_avg"):
        lo, hi = figs["ci"][key]
        assert lo <= figs[key] <= hi


def test_no_probability_figures_without_p_a():
    rows = [{"pair_id": "p1", "order": o, "verdict": "A", "failure": None} for o in ("ab", "ba")]
    figs = compute_figures(pair_table(PAIRS, pd.DataFrame(rows)), n_boot=0)
    assert not {"mean_p_a", "order_shift", "acc_prob_avg"} & set(figs)


def test_first_is_all_slot_a_and_longer_ignores_order(tmp_path, data_dir):
    first = run(RunConfig(judge="first", benches=["judgebench"], data_dir=data_dir, out=tmp_path / "f", progress=False))
    figs = first.results["judgebench"]["overall"]
    assert figs["mean_p_a"] == 1.0 and figs["order_shift"] == 1.0 and figs["flip_rate"] == 1.0
    assert figs["acc_prob_avg"] == 0.0  # mean P(response_1) is exactly 0.5 for every pair: undecided
    # `longer` picks the same response in both orders: an order-blind judge.
    longer = run(
        RunConfig(judge="longer", benches=["judgebench"], data_dir=data_dir, out=tmp_path / "l", progress=False)
    )
    figs = longer.results["judgebench"]["overall"]
    assert figs["order_shift"] == 0.0 and figs["flip_rate"] == 0.0
    assert figs["acc_prob_avg"] == pytest.approx(figs["acc_consistent"])  # no equal lengths in JudgeBench


def test_baselines_under_direct_verdict_continue_the_prefill(tmp_path, data_dir):
    outcome = run(
        RunConfig(
            judge="random",
            benches=["judgebench"],
            data_dir=data_dir,
            limit=5,
            format="direct-verdict",
            out=tmp_path,
            progress=False,
        )
    )
    rows = [json.loads(x) for x in (tmp_path / "judgments.jsonl").read_text().splitlines()]
    assert all(r["raw"] in ("A]] </answer>", "B]] </answer>") and r["p_a"] == 0.5 for r in rows)
    assert all(r["verdict"] == r["raw"][0] for r in rows)  # a rule's p_a does not override its verdict
    assert outcome.results["judgebench"]["overall"]["mean_p_a"] == 0.5


def test_score_reads_p_a_and_rejects_a_bad_one(tmp_path, data_dir, capsys):
    good = tmp_path / "good.jsonl"
    lines = [{"pair_id": pid, "order": o, "verdict": "A", "p_a": 0.8} for pid in ("1", "2") for o in ("ab", "ba")]
    pairs_file = data_dir / "judgebench"
    ids = [json.loads(x)["pair_id"] for x in next(pairs_file.glob("*gpt-4o*.jsonl")).read_text().splitlines()[:2]]
    for line, pid in zip(lines, [ids[0], ids[0], ids[1], ids[1]], strict=True):
        line["pair_id"] = pid
    good.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert main(["score", "--bench", "judgebench", "--judgments", str(good), "--data-dir", str(data_dir),
                 "--out", str(tmp_path / "s")]) == 0  # fmt: skip
    results = json.loads((tmp_path / "s" / "results.json").read_text())
    assert results["judgebench"]["overall"]["order_shift"] == pytest.approx(0.6)  # |0.8 - 0.2|
    bad = tmp_path / "bad.jsonl"
    lines[1]["p_a"] = 1.5
    bad.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert main(["score", "--bench", "judgebench", "--judgments", str(bad), "--data-dir", str(data_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.jsonl" in err[0] and "line 2" in err[0] and "p_a" in err[0]
