"""``score --import``: other projects' released judgments, in their own layout, scored as j1eval JSONL is."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import SHARED_DATA, require

from j1eval.cli import main
from j1eval.orders import single_order
from j1eval.types import correct_slot

#: (decision in order ab, decision in order ba) for JudgeBench records, cycled; None = null decision,
#: "ERROR" = a null judgment (run_judge.py's value when the judge raised).
DECISIONS = [
    ("A>B", "B>A"),  # consistent, response_A
    ("B>A", "A>B"),  # consistent, response_B
    ("A>B", "A>B"),  # slot A both times: a flip
    ("A=B", "B>A"),  # a tie, then a decision
    (None, "A>B"),  # no decision parsed
    ("ERROR", "B>A"),  # the judge raised
    ("A<B", "A=B"),  # a decision outside JudgeBench's three: no verdict
    ("B>A", "B>A"),
]
VERDICT = {"A>B": "A", "B>A": "B", "A=B": "tie"}


def judgebench_file(path: Path, rows: list[dict], n: int, single: bool = False) -> Path:
    """``n`` records in JudgeBench's outputs/ layout (run_judge.py): the pair's fields, judge_name, judgments."""
    with open(path, "w", encoding="utf-8") as fh:
        for i, rec in enumerate(rows[:n]):
            pair = DECISIONS[i % len(DECISIONS)][:1] if single else DECISIONS[i % len(DECISIONS)]
            judgments = [
                None if d == "ERROR" else {"judgment": {"judge_model": "m", "response": "..."}, "decision": d}
                for d in pair
            ]
            fh.write(json.dumps({**rec, "judge_name": "arena_hard", "judgments": judgments}) + "\n")
    return path


def j1eval_file(path: Path, rows: list[dict], n: int) -> Path:
    """The same verdicts as j1eval judgments JSONL."""
    with open(path, "w", encoding="utf-8") as fh:
        for i, rec in enumerate(rows[:n]):
            for order, d in zip(("ab", "ba"), DECISIONS[i % len(DECISIONS)], strict=True):
                row = {"pair_id": rec["pair_id"], "order": order, "verdict": VERDICT.get(d)}
                if d == "ERROR":
                    row["failure"] = "backend_error"
                fh.write(json.dumps(row) + "\n")
    return path


def judgebench_official(rows: list[dict], n: int) -> float:
    """JudgeBench's own score, transcribed from utils/metrics.py compute_final_metrics (reverse_order=True)."""

    def flip(d):
        return {"A>B": "B>A", "B>A": "A>B"}.get(d, d)

    correct = 0
    for i, rec in enumerate(rows[:n]):
        d1, d2 = (None if d == "ERROR" else d for d in DECISIONS[i % len(DECISIONS)])
        d2 = flip(d2)
        counter = sum(1 if d == rec["label"] else -1 if d == flip(rec["label"]) else 0 for d in (d1, d2))
        correct += counter > 0
    return correct / n


def score(args: list[str], out: Path, capsys) -> tuple[dict, str]:
    assert main(["score", *args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    return json.loads((out / "results.json").read_text()), printed


def test_judgebench_layout_scores_as_the_same_verdicts_in_jsonl(tmp_path, data_dir, judgebench_rows, capsys):
    n = 24
    jb = judgebench_file(tmp_path / "jb.jsonl", judgebench_rows, n)
    j1 = j1eval_file(tmp_path / "j1.jsonl", judgebench_rows, n)
    imported, printed = score(
        ["--import", "judgebench", "--judgments", str(jb), "--data-dir", str(data_dir)], tmp_path / "a", capsys
    )
    plain, _ = score(
        ["--bench", "judgebench", "--judgments", str(j1), "--data-dir", str(data_dir)], tmp_path / "b", capsys
    )
    assert imported == plain
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "a/pairs.parquet"), pd.read_parquet(tmp_path / "b/pairs.parquet")
    )
    overall = imported["judgebench"]["overall"]
    assert overall["official"] == pytest.approx(judgebench_official(judgebench_rows, n))  # JudgeBench's own rule
    assert overall["flip_rate"] == pytest.approx(6 / n)  # rows 2 and 7 of each 8: decisive, different responses
    assert "3 decisions outside A>B, B>A, A=B ('A<B')" in printed
    assert "JudgeBench judge: arena_hard" in printed


def test_a_single_game_file_gives_order_ab_only(tmp_path, data_dir, judgebench_rows, capsys):
    jb = judgebench_file(tmp_path / "jb.jsonl", judgebench_rows, 8, single=True)
    results, printed = score(
        ["--import", "judgebench", "--judgments", str(jb), "--data-dir", str(data_dir)], tmp_path / "a", capsys
    )
    overall = results["judgebench"]["overall"]
    assert overall["n_both_orders"] == 0 and "acc_ba" not in overall and "official" not in overall
    right = sum(
        VERDICT.get(d) == correct_slot(1 if r["label"] == "A>B" else 2, "ab")
        for (d, _), r in zip(DECISIONS, judgebench_rows[:8], strict=True)
    )
    assert overall["acc_ab"] == pytest.approx(right / 8)
    assert "8 records hold one judgment" in printed


@pytest.mark.parametrize(
    "change, record, field",
    [
        (lambda r: r.pop("judgments"), "line 3", "judgments"),
        (lambda r: r.update(judgments=[{"decision": "A>B"}] * 3), "line 3", "judgments"),
        (lambda r: r.update(pair_id="no-such-pair"), "line 3", "pair_id"),
        (lambda r: r["judgments"][1].update(decision=7), "line 3", "judgments[1].decision"),
        (lambda r: r["judgments"].__setitem__(0, "A>B"), "line 3", "judgments[0]"),
        (lambda r: r.update(label={"A>B": "B>A", "B>A": "A>B"}[r["label"]]), "line 3", "label"),
    ],
)
def test_an_unmappable_record_is_one_line_naming_file_record_field(
    tmp_path, data_dir, judgebench_rows, capsys, change, record, field
):
    jb = judgebench_file(tmp_path / "jb.jsonl", judgebench_rows, 6)
    lines = [json.loads(line) for line in jb.read_text().splitlines()]
    lines[2]["judgments"] = [{"decision": "A>B"}, {"decision": "B>A"}]
    change(lines[2])
    jb.write_text("".join(json.dumps(r) + "\n" for r in lines))
    out = tmp_path / "out"
    assert (
        main(
            ["score", "--import", "judgebench", "--judgments", str(jb), "--data-dir", str(data_dir), "--out", str(out)]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith(f"error: {jb}, record {record}, field '{field}': 1 of 6 records cannot be mapped")
    assert not out.exists()


def test_every_unmappable_record_is_counted(tmp_path, data_dir, judgebench_rows, capsys):
    jb = judgebench_file(tmp_path / "jb.jsonl", judgebench_rows, 6)
    lines = [json.loads(line) for line in jb.read_text().splitlines()]
    for k in (1, 4, 5):
        del lines[k]["pair_id"]
    jb.write_text("".join(json.dumps(r) + "\n" for r in lines))
    assert main(["score", "--import", "judgebench", "--judgments", str(jb), "--data-dir", str(data_dir)]) == 2
    err = capsys.readouterr().err
    assert "record line 2, field 'pair_id': 3 of 6 records cannot be mapped" in err
    assert "also line 5, line 6" in err


def test_import_names_its_benchmark_and_refuses_another(tmp_path, data_dir, judgebench_rows, capsys):
    jb = judgebench_file(tmp_path / "jb.jsonl", judgebench_rows, 2)
    assert main(["score", "--import", "judgebench", "--bench", "ppe", "--judgments", str(jb)]) == 2
    assert "--import judgebench reads judgments of the judgebench benchmark" in capsys.readouterr().err
    assert main(["score", "--import", "judgebnch", "--judgments", str(jb)]) == 2
    assert "did you mean 'judgebench'" in capsys.readouterr().err


# ---------------------------------------------------------------- reward-bench


@pytest.fixture(scope="module")
def rb_pairs():
    from j1eval.benchmarks import get_benchmark

    require(SHARED_DATA / "rewardbench")
    pairs = get_benchmark("rewardbench").load(SHARED_DATA).pairs
    return pairs[::150]  # 20 pairs across the subsets


def rb_file(path: Path, pairs, results, chosen=None, rejected=None) -> Path:
    """A reward-bench eval-set-scores file (out_dataset.to_dict() with model fields), columns by index."""
    data = {
        "id": [int(p.pair_id.rpartition(":")[2]) for p in pairs],
        "subset": [p.pair_id.rpartition(":")[0] for p in pairs],
        "results": results,
        "model": "org/model",
        "model_type": "Seq. Classifier" if chosen is not None else "Generative",
    }
    if chosen is not None:
        data.update(scores_chosen=chosen, scores_rejected=rejected)
    path.write_text(json.dumps(data, indent=4, sort_keys=True))
    return path


def test_reward_bench_scores_give_both_orders(tmp_path, rb_pairs, capsys):
    n = len(rb_pairs)
    chosen = [float(i % 5) for i in range(n)]
    rejected = [float((i * 3) % 4) for i in range(n)]
    results = [1 if c > r else 0 for c, r in zip(chosen, rejected, strict=True)]
    rb = rb_file(tmp_path / "rb.json", rb_pairs, results, chosen, rejected)
    with open(tmp_path / "j1.jsonl", "w") as fh:
        for p, c, r in zip(rb_pairs, chosen, rejected, strict=True):
            for order, (a, b) in (("ab", (c, r)), ("ba", (r, c))):
                verdict = "A" if a > b else "B" if b > a else "tie"
                fh.write(
                    json.dumps({"pair_id": p.pair_id, "order": order, "verdict": verdict, "scores": {"A": a, "B": b}})
                    + "\n"
                )
    common = ["--data-dir", str(SHARED_DATA)]
    imported, printed = score(["--import", "rewardbench", "--judgments", str(rb), *common], tmp_path / "a", capsys)
    plain, _ = score(
        ["--bench", "rewardbench", "--judgments", str(tmp_path / "j1.jsonl"), *common], tmp_path / "b", capsys
    )
    assert imported == plain
    overall = imported["rewardbench"]["overall"]
    assert overall["flip_rate"] == 0.0
    assert overall["acc_ab"] == pytest.approx(sum(results) / n)
    assert "order-blind" in printed and "org/model" in printed


def test_reward_bench_outcomes_without_scores_sit_in_the_seeded_order(tmp_path, rb_pairs, capsys):
    n = len(rb_pairs)
    results = [[1, 0, 0.5][i % 3] for i in range(n)]
    rb = rb_file(tmp_path / "rb.json", rb_pairs, results)
    imported, printed = score(
        ["--import", "rewardbench", "--judgments", str(rb), "--data-dir", str(SHARED_DATA), "--seed", "3"],
        tmp_path / "a",
        capsys,
    )
    table = pd.read_parquet(tmp_path / "a/pairs.parquet")
    for p, result in zip(rb_pairs, results, strict=True):
        order = single_order(p.pair_id, 3)
        row = table[table["pair_id"] == p.pair_id].iloc[0]
        other = "ba" if order == "ab" else "ab"
        assert not row[f"judged_{other}"]
        expected = {1: correct_slot(1, order), 0: "B" if correct_slot(1, order) == "A" else "A", 0.5: None}[result]
        verdict = row[f"verdict_{order}"]
        assert (None if pd.isna(verdict) else verdict) == expected
    assert imported["rewardbench"]["overall"]["acc_single"] == pytest.approx(results.count(1) / n)
    assert "did not record which order the judge saw" in printed


def test_reward_bench_results_that_disagree_with_scores_are_named(tmp_path, rb_pairs, capsys):
    n = len(rb_pairs)
    chosen, rejected = [1.0] * n, [0.0] * n
    results = [1] * n
    results[4] = 0
    rb = rb_file(tmp_path / "rb.json", rb_pairs, results, chosen, rejected)
    assert main(["score", "--import", "rewardbench", "--judgments", str(rb), "--data-dir", str(SHARED_DATA)]) == 2
    err = capsys.readouterr().err
    assert f"{rb}, record index 4, field 'results': 1 of {n} records cannot be mapped" in err
