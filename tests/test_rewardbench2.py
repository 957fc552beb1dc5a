"""RewardBench 2: the loader on a fixture in the official layout, the pairwise way's official figures by hand,
the Ties rule, and bad input."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from j1eval.benchmarks import get_benchmark
from j1eval.benchmarks.rewardbench2 import TIES_NO_SCORES, ties_score
from j1eval.errors import InputError
from j1eval.orders import single_order
from j1eval.score.bench import score_bench
from j1eval.store.records import read_judgments

ROOT = Path(__file__).resolve().parents[1]
SUBSET_OF = {"0": "Factuality", "1": "Factuality", "2": "Precise IF", "3": "Math", "4": "Safety", "5": "Focus"}


def official_rows() -> list[dict]:
    """Six best-of-4 prompts over the five subsets and one Ties group (a ref and a tied prompt)."""
    rows = []
    for rid, subset in SUBSET_OF.items():
        rejected = [f"bad {rid} a", f"bad {rid} bb", f"bad {rid} ccc"]
        rows.append(
            {
                "id": rid,
                "prompt": f"question {rid}",
                "chosen": [f"good answer {rid}"],
                "rejected": rejected,
                "num_correct": 1,
                "num_rejected": 3,
                "total_completions": 4,
                "models": ["m1", "m2", "m3", "m4"],
                "subset": subset,
            }
        )
    base = {"prompt": "tied question", "models": [], "subset": "Ties"}
    rows.append({**base, "id": "ref:1", "chosen": ["c0"], "rejected": ["w0", "w1"], "num_correct": 1})
    rows.append({**base, "id": "tied:1", "chosen": ["c0", "c1", "c2"], "rejected": ["w0", "w1"], "num_correct": 3})
    return rows


def write_data(root: Path, rows: list[dict]) -> Path:
    folder = root / "rewardbench2" / "data"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / "test-00000-of-00001.parquet")
    return root


@pytest.fixture
def rb2(tmp_path: Path) -> Path:
    return write_data(tmp_path / "data", official_rows())


def test_pairs_in_the_official_layout(rb2):
    data = get_benchmark("rewardbench2").load(rb2)
    ids = [p.pair_id for p in data.pairs]
    assert ids[:3] == ["0:r0", "0:r1", "0:r2"] and len(ids) == 6 * 3 + 2 + 6
    assert "tied:1:c2:r1" in ids and "ref:1:c0:r1" in ids
    first = data.pairs[1]
    assert (first.response_1, first.response_2, first.label, first.subset) == (
        "good answer 0",
        "bad 0 bb",
        1,
        "Factuality",
    )
    assert first.meta["responses"] == ("good answer 0", "bad 0 a", "bad 0 bb", "bad 0 ccc")
    assert list(data.files) and data.source.endswith("rewardbench2")
    assert get_benchmark("rewardbench2").count(rb2)[0] == 26


#: Per prompt, each of its three pairs' outcome for the chosen response: (order ab, order ba).
OUTCOMES = {
    "0": [("won", "won")] * 3,
    "1": [("won", "won"), ("tie", "tie"), ("won", "won")],
    "2": [("lost", "lost"), ("won", "won"), ("won", "won")],
    "3": [("won", "won"), ("won", "lost"), ("won", "won")],
    "4": [("tie", "tie"), ("won", "won"), ("tie", "tie")],
    "5": [("won", "won"), ("won", "won"), (None, None)],
}
SLOT = {("won", "ab"): "A", ("won", "ba"): "B", ("lost", "ab"): "B", ("lost", "ba"): "A"}


def verdict(outcome: str | None, order: str) -> str | None:
    return "tie" if outcome == "tie" else SLOT.get((outcome, order))


def pairwise_lines(ties_scores: dict[str, list[float]] | None = None) -> list[dict]:
    lines = []
    for rid, pairs in OUTCOMES.items():
        for j, outcomes in enumerate(pairs):
            for order, outcome in zip(("ab", "ba"), outcomes, strict=True):
                lines.append({"pair_id": f"{rid}:r{j}", "order": order, "verdict": verdict(outcome, order)})
    for key, scores in (ties_scores or {}).items():
        n_correct = 1 if key.startswith("ref") else 3
        for i in range(n_correct):
            for j in range(2):
                good, bad = scores[i], scores[n_correct + j]
                for order, (a, b) in (("ab", (good, bad)), ("ba", (bad, good))):
                    v = "A" if a > b else "B" if b > a else "tie"
                    lines.append(
                        {"pair_id": f"{key}:c{i}:r{j}", "order": order, "verdict": v, "scores": {"A": a, "B": b}}
                    )
    return lines


def score_lines(
    tmp_path: Path, data_dir: Path, lines: list[dict], name: str = "j.jsonl", rows: dict | None = None
) -> dict:
    path = tmp_path / name
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    bench = get_benchmark("rewardbench2")
    data = bench.load(data_dir)
    known = [p.pair_id for p in data.pairs] + [p.meta["prompt_id"] for p in data.pairs]
    frame = read_judgments(path, pair_ids=known)
    pairs = [
        p for p in data.pairs if p.pair_id in set(frame["pair_id"]) or p.meta["prompt_id"] in set(frame["pair_id"])
    ]
    return score_bench(bench, pairs, frame, seed=0, use_scores=True, n_boot=200, rows=rows)


def test_pairwise_best_of_4_by_hand_and_ties_null_without_scores(tmp_path, rb2):
    with_ties = pairwise_lines({"ref:1": [8, 5, 3], "tied:1": [9, 7, 8, 6, 2]})
    result = score_lines(tmp_path, rb2, [{k: v for k, v in line.items() if k != "scores"} for line in with_ties])
    overall, subsets = result["overall"], result["subsets"]
    math_single = (
        1.0 if single_order("3:r1", 0) == "ab" else 0.0
    )  # the one pair that flips is judged in its seeded order
    per_subset = {
        "Factuality": (1 + 1 / 2) / 2,
        "Precise IF": 0.0,
        "Math": math_single,
        "Safety": 1 / 3,
        "Focus": 1 / 2,
    }
    for name, value in per_subset.items():
        assert subsets[name]["best_of_4"] == pytest.approx(value), name
    assert overall["best_of_4"] == pytest.approx(sum(per_subset.values()) / 5)
    # Per order and in both orders (J1's consistent reading): all three pairs won.
    assert subsets["Math"]["best_of_4_ab"] == 1.0 and subsets["Math"]["best_of_4_ba"] == 0.0
    assert overall["j1"] == pytest.approx((1 / 2 + 0 + 0 + 0 + 0) / 5)  # only prompt 0 wins all six judgments
    # J1-style pair figures beside it: 18 pairs of non-Ties prompts, one flip (3:r1).
    assert subsets["Math"]["n_pairs"] == 3 and subsets["Math"]["flip_rate"] == pytest.approx(1 / 3)
    assert overall["n_pairs"] == 26 and overall["flip_rate"] == pytest.approx(1 / 26)
    # Ties: verdicts only -> null with the reason; official null, its five-subset part beside it.
    assert overall["official"] is None and overall["official_partial"] == pytest.approx(overall["best_of_4"])
    assert result["reasons"] == {"ties": TIES_NO_SCORES, "official": TIES_NO_SCORES}
    assert "missing" not in overall


def test_ties_rule_by_hand_and_official_mean_of_six(tmp_path, rb2):
    # ref:1: correct 8 | wrong 5, 3.  tied:1: correct 9, 7, 8 | wrong 6, 2.
    result = score_lines(tmp_path, rb2, pairwise_lines({"ref:1": [8, 5, 3], "tied:1": [9, 7, 8, 6, 2]}))
    ties = result["subsets"]["Ties"]
    # Both prompts accurate; tied gap 7 - 6 = 1 is not above the spread 9 - 7 = 2, nor is min(3, 1).
    margin = math.tanh(min(3, 1) / 2 - 1)
    expected = 0.30 * 1 + 0.30 * 1 + 0.20 * 0 + 0.20 * 0 + 0.01 * margin
    assert ties["ties"] == pytest.approx(expected) and ties["official"] == pytest.approx(expected)
    assert ties["ties_correctness_preferred"] == 0.0 and ties["ties_margin"] == pytest.approx(margin)
    assert "ties" not in ties["ci"]
    overall = result["overall"]
    five = [result["subsets"][s]["best_of_4"] for s in ("Factuality", "Precise IF", "Math", "Safety", "Focus")]
    assert overall["ties"] == pytest.approx(expected)
    assert overall["official"] == pytest.approx((sum(five) + expected) / 6)
    assert "reasons" not in result


def test_ties_rule_matches_the_official_weights_on_a_preferred_case():
    # Correct answers close together (spread 1), far above the wrong ones: everything preferred.
    groups = {"ref:7": [(True, 9.0), (False, 2.0)], "tied:7": [(True, 9.0), (True, 8.0), (False, 2.0)]}
    out = ties_score(groups)
    assert out is not None
    assert out["ties_correctness_preferred"] == 1.0 and out["ties_correctness_preferred_hard"] == 1.0
    assert out["ties"] == pytest.approx(0.3 + 0.3 + 0.2 + 0.2 + 0.01 * math.tanh(6 / 1 - 1))
    assert ties_score({"ref:7": [(True, 1.0)]}) is None  # no incorrect answer: not scorable


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda rows: [{k: v for k, v in r.items() if k != "chosen"} for r in rows], "field 'chosen': missing"),
        (lambda rows: [{**rows[0], "num_correct": 2, "chosen": ["x", "y"]}, *rows[1:]], "field 'num_correct'"),
        (lambda rows: [rows[0], {**rows[1], "rejected": None}, *rows[2:]], "record row 1, field 'rejected': is null"),
    ],
    ids=["no-chosen-column", "num-correct-2-outside-ties", "malformed-row"],
)
def test_bad_input_is_one_line_naming_file_record_field(tmp_path, change, needle):
    data_dir = write_data(tmp_path / "data", change(official_rows()))
    with pytest.raises(InputError) as err:
        get_benchmark("rewardbench2").load(data_dir)
    assert needle in str(err.value) and "test-00000-of-00001.parquet" in str(err.value)
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "j1eval", "run", "--judge", "first", "--bench", "rewardbench2"]
        + ["--data-dir", str(data_dir), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"J1EVAL_NO_HUB": "1", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]
    assert not out.exists()  # nothing written


def test_run_and_report_show_rewardbench2(tmp_path, rb2):
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run
    from j1eval.report.runs import load_report
    from j1eval.report.writing import build_tables

    out = tmp_path / "run"
    outcome = run(RunConfig(judge="first", benches=["rewardbench2"], data_dir=rb2, out=out, progress=False, n_boot=50))
    figures = outcome.results["rewardbench2"]["overall"]
    assert figures["acc_ab"] == 1.0 and figures["acc_ba"] == 0.0 and figures["best_of_4_ab"] == 1.0
    tables = {t.key: t for t in build_tables(load_report([out]))}
    main = tables["main_table"]
    assert main.columns[-1] == "RewardBench 2" and main.rows[0].cells[-1].text.startswith("0.0")
    assert "rewardbench2_official" in tables and "kway_position_bias" not in tables


def test_hub_rows_go_through_the_same_reader_and_name_the_commit():
    bench = get_benchmark("rewardbench2")
    assert bench.hub == ("allenai/reward-bench-2", "test", "main")
    rows = [(f"row {i}", rec) for i, rec in enumerate(official_rows())]
    data = bench.from_hub_rows(rows, "hf:allenai/reward-bench-2@0123abc")
    assert len(data.pairs) == 26 and data.source == "hf:allenai/reward-bench-2@0123abc"
    bad = [("row 0", {**official_rows()[0], "num_correct": 2, "chosen": ["x", "y"]})]
    with pytest.raises(InputError, match="record row 0, field 'num_correct'"):
        bench.from_hub_rows(bad, "hf:allenai/reward-bench-2@0123abc")
