"""Decontamination against the real benchmark data: normalised prompt matches are dropped."""

from __future__ import annotations

import pytest

from j1eval.benchmarks import get_benchmark
from j1eval.errors import InputError, SetupError
from j1eval.types import Pair
from j1train.decontam import decontaminate, load_index, normalise_prompt, parse_benches


def pair(pair_id: str, prompt: str) -> Pair:
    return Pair(pair_id, "train", "x", prompt, "good", "bad", 1)


def test_normalise_prompt_ignores_case_spacing_and_typography():
    assert normalise_prompt("  What’s   the\tCAPITAL\n of France?  ") == "what's the capital of france?"
    assert normalise_prompt("Ｆｕｌｌｗｉｄｔｈ — dash") == normalise_prompt("fullwidth - dash")
    assert normalise_prompt("a b") != normalise_prompt("ab")


def test_rewardbench_and_judgebench_prompts_are_dropped_after_normalisation(shared_data, data_dir):
    rb = get_benchmark("rewardbench").load(shared_data).pairs
    jb = get_benchmark("judgebench").load(data_dir).pairs
    disguised = "  " + "\n\n".join(rb[7].prompt.upper().split(" ")) + "\t"
    pairs = [
        pair("rb", disguised),
        pair("jb", jb[0].prompt.lower()),
        pair("clean", "Write a limerick about a cat who trains reward models."),
        pair("near", rb[7].prompt + " Answer in French."),  # a different prompt: kept
    ]
    kept, dropped = decontaminate(pairs, ["rewardbench"], shared_data)
    assert dropped == 1 and [p.pair_id for p in kept] == ["jb", "clean", "near"]
    kept, dropped = decontaminate(pairs, ["rewardbench", "judgebench"], shared_data)
    assert dropped == 2 and [p.pair_id for p in kept] == ["clean", "near"]
    index = load_index(["judgebench"], shared_data)
    assert index.bench_of(jb[3].prompt.title()) == "judgebench"
    assert decontaminate(pairs, [], None) == (pairs, 0)


def test_unknown_or_absent_benchmarks_fail_in_one_line(tmp_path):
    with pytest.raises(InputError, match="unknown benchmark 'rewardbenh'.*did you mean 'rewardbench'"):
        decontaminate([pair("a", "x")], ["rewardbenh"], tmp_path)
    with pytest.raises(SetupError) as err:
        decontaminate([pair("a", "x")], ["judgebench"], tmp_path)  # no data there, no hub in tests
    message = str(err.value)
    assert message.startswith("decontamination benchmark 'judgebench' is not installed:") and "\n" not in message


def test_bench_lists():
    assert parse_benches("judgebench, rewardbench,judgebench") == ["judgebench", "rewardbench"]
    assert parse_benches(None) == [] and parse_benches("none") == []
    assert set(parse_benches("all")) >= {"judgebench", "rewardbench", "rmbench", "ppe", "followbencheval"}
