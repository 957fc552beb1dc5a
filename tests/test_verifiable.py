"""``j1train data --recipe verifiable``: each family's better response is the one its rule picks; splits; balance."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from j1train import cli
from j1train.verifiable import FAMILIES, SPLITS, make_pairs, records
from j1train.verifiable_lists import FACTS, REFUSALS, SENTENCES

QUESTIONS = {f[1]: f for f in FACTS}
TOPICS = {f"Write one clear sentence about {t}.": s for t, s in SENTENCES}


def better_worse(rec: dict) -> tuple[str, str]:
    one, two = rec["response_1"], rec["response_2"]
    return (one, two) if rec["label"] == 1 else (two, one)


def rule_pick(rec: dict) -> str:
    """The better response by each family's rule, read from the prompt and the two texts alone."""
    prompt, family = rec["prompt"], rec["subset"]
    one, two = rec["response_1"], rec["response_2"]
    if family == "copy":
        target = prompt.split("\n\n", 1)[1]
        return one if one == target else two
    if family == "one-word":
        return one if len(one.split()) == 1 else two
    if family == "refusal":
        return two if one in REFUSALS else one
    if family == "on-topic":
        answer = QUESTIONS[prompt][2]
        return one if answer in one else two
    if family == "scrambled":
        return one if one == TOPICS[prompt] else two
    if family == "case":
        upper = "capital letters" in prompt
        ok = (lambda t: t == t.upper()) if upper else (lambda t: t == t.lower())
        return one if ok(one) else two
    if family == "arithmetic":

        def right(text: str) -> bool:
            a, op, b, c = re.fullmatch(r"(\d+) ([+x-]) (\d+) = (\d+)", text).groups()  # type: ignore[union-attr]
            value = int(a) + int(b) if op == "+" else int(a) - int(b) if op == "-" else int(a) * int(b)
            return value == int(c)

        return one if right(one) else two
    if family == "fact":
        return one if re.search(rf"\b{QUESTIONS[prompt][2]}\b", one) else two
    raise AssertionError(family)


@pytest.fixture(scope="module")
def recs() -> list[dict]:
    return records(make_pairs(seed=0), seed=0)


def test_every_family_present_and_better_is_the_rules_pick(recs: list[dict]) -> None:
    assert set(Counter(r["subset"] for r in recs)) == set(FAMILIES)
    for rec in recs:
        good, bad = better_worse(rec)
        assert good != bad, rec["pair_id"]
        assert rule_pick(rec) == good, rec["pair_id"]


def test_the_worse_response_breaks_the_rule_by_one_thing(recs: list[dict]) -> None:
    for rec in recs:
        good, bad = better_worse(rec)
        if rec["subset"] in ("scrambled",):
            assert sorted(good.split()) == sorted(bad.split())  # the same words, shuffled
        if rec["subset"] == "copy":
            diffs = [(a, b) for a, b in zip(good.split(), bad.split(), strict=True) if a != b]
            assert len(diffs) == 1
        if rec["subset"] == "case":
            assert good.lower() == bad.lower()
        if rec["subset"] == "arithmetic":
            assert abs(int(good.rsplit(" ", 1)[1]) - int(bad.rsplit(" ", 1)[1])) == 1


def test_splits_disjoint_in_questions_and_items(recs: list[dict]) -> None:
    by_split = {s: [r for r in recs if r["provenance"]["split"] == s] for s in SPLITS}
    counts = {s: len(v) for s, v in by_split.items()}
    assert counts["train"] > 2.5 * counts["validation"] and counts["validation"] == counts["test"]
    for key in ("prompt", "item"):
        seen = {
            s: {r["prompt"] if key == "prompt" else r["provenance"]["item"] for r in v} for s, v in by_split.items()
        }
        for a in SPLITS:
            for b in SPLITS:
                if a < b:
                    assert not seen[a] & seen[b], (key, a, b)
    # a fact's question is disjoint across splits even when asked with a family's instruction in front
    stems = {s: {r["prompt"].split(". ", 1)[-1] for r in v} for s, v in by_split.items()}
    assert not stems["train"] & stems["test"] and not stems["validation"] & stems["test"]


def test_slots_balanced_in_every_split_and_family(recs: list[dict]) -> None:
    for split in SPLITS:
        for family in FAMILIES:
            labels = [r["label"] for r in recs if r["provenance"]["split"] == split and r["subset"] == family]
            assert abs(labels.count(1) - labels.count(2)) <= 1, (split, family)


def test_lengths_balanced_where_the_family_allows(recs: list[dict]) -> None:
    for family in ("copy", "refusal", "on-topic"):
        train = [better_worse(r) for r in recs if r["subset"] == family and r["provenance"]["split"] == "train"]
        longer = sum(len(g) > len(b) for g, b in train) / len(train)
        shorter = sum(len(g) < len(b) for g, b in train) / len(train)
        assert 0.35 <= longer <= 0.65 and 0.35 <= shorter <= 0.65, (family, longer, shorter)
    for family in ("case", "scrambled", "arithmetic"):
        assert all(len(g) == len(b) for g, b in (better_worse(r) for r in recs if r["subset"] == family))


def test_seed_changes_splits_and_slots_but_not_the_rules() -> None:
    zero, one = records(make_pairs(0), 0), records(make_pairs(1), 1)
    assert [r["provenance"]["split"] for r in zero] != [r["provenance"]["split"] for r in one]
    assert all(rule_pick(r) == better_worse(r)[0] for r in one)
    assert records(make_pairs(0), 0) == zero  # deterministic


def test_cli_writes_three_benchmark_folders(tmp_path: Path) -> None:
    out = tmp_path / "vf"
    assert cli.main(["data", "--recipe", "verifiable", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    for split in SPLITS:
        lines = (out / split / "pairs.jsonl").read_text().splitlines()
        assert len(lines) == manifest["counts"][split]
        bal = manifest["balance"][split]
        assert set(bal) == {"all", *FAMILIES} and abs(bal["all"]["first"] - 0.5) < 0.03
        assert bal["one-word"]["longer"] == 0.0 and bal["case"]["equal"] == 1.0
    from j1eval.cli import main as j1eval_main

    run = tmp_path / "longer"
    argv = ["run", "--judge", "longer", "--bench", "pairs", "--data-dir", str(out / "validation"), "--out", str(run)]
    assert j1eval_main([*argv, "--no-progress"]) == 0
    results = json.loads((run / "results.json").read_text())["pairs"]
    assert set(results["subsets"]) == set(FAMILIES)
    assert results["subsets"]["one-word"]["acc_ab"] == 0.0  # the longer response is always the worse one there


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--families", "copy,bogus"], "unknown family 'bogus'"),
        (["--prompts", "x.jsonl"], "takes no --prompts"),
    ],
)
def test_bad_input_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    out = tmp_path / "vf"
    assert cli.main(["data", "--recipe", "verifiable", "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not out.exists()


def test_generated_recipe_still_needs_prompts_and_generator(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["data", "--out", str(tmp_path / "x")]) == 2
    assert "--prompts is required" in capsys.readouterr().err
