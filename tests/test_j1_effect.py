"""The J1-effect experiment: base-signal pick, arm configs, a 2-step run of each arm on the tiny model, report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from j1eval.cli import main as j1eval_main
from j1eval.errors import InputError
from j1train import cli
from j1train.j1_effect import arm_config, base_signal, filter_pairs, main, select


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("vf") / "data"
    assert cli.main(["data", "--recipe", "verifiable", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def longer_run(data: Path) -> Path:
    """The `longer` baseline on the validation split: a real run with p_a (1, 0 or 0.5 on equal lengths)."""
    run = data.parent / "longer"
    argv = ["run", "--judge", "longer", "--bench", "pairs", "--data-dir", str(data / "validation"), "--out", str(run)]
    assert j1eval_main([*argv, "--no-progress"]) == 0
    return run


def test_signal_picks_families_away_from_half(longer_run: Path) -> None:
    signal = base_signal(longer_run, threshold=0.15)
    fams = signal["families"]
    # `longer`: one-word 0% (the long answer is the worse one), equal-length families 0% (ties), copy/refusal ~50%
    assert fams["one-word"]["acc_prob_avg"] == 0.0 and "one-word" in signal["trained"]
    for name, f in fams.items():
        assert (name in signal["trained"]) == (abs(f["acc_prob_avg"] - 0.5) >= 0.15)
    assert "refusal" in signal["controls"]
    assert set(signal["trained"]) | set(signal["controls"]) == set(fams)
    more = base_signal(longer_run, threshold=0.15, min_families=6)  # 4 pass: the 6 farthest are taken
    assert len(more["trained"]) == 6 and "fewer than 6" in more["rule"] and "fact" in more["trained"]
    with pytest.raises(InputError, match="threshold"):
        base_signal(longer_run, threshold=0.7)


def test_arm_configs_differ_only_in_orders_rewards_and_batch() -> None:
    a, b, c = (arm_config(x) for x in "abc")
    differing = {k for k in {*a, *b, *c} if not (a.get(k) == b.get(k) == c.get(k))}
    assert differing == {"orders", "rewards", "per_device_train_batch_size", "consistency_match"}
    assert a["orders"] == "single" and b["orders"] == c["orders"] == "both"
    assert not b["rewards"].get("consistency") and c["rewards"]["consistency"] == 1.0
    # 4 pairs per step in every arm: completions / (orders x rollouts)
    for cfg in (a, b, c):
        assert cfg["per_device_train_batch_size"] // ((1 if cfg["orders"] == "single" else 2) * 16) == 4
    with pytest.raises(InputError, match="unknown arm"):
        arm_config("d")


def test_filter_keeps_only_those_families(data: Path, tmp_path: Path) -> None:
    n = filter_pairs(data / "test", tmp_path / "t", ["copy", "fact"])
    recs = [json.loads(line) for line in (tmp_path / "t" / "pairs.jsonl").read_text().splitlines()]
    assert len(recs) == n > 0 and {r["subset"] for r in recs} == {"copy", "fact"}
    with pytest.raises(InputError, match="no pairs"):
        filter_pairs(data / "test", tmp_path / "u", ["nothing"])


@pytest.mark.slow
def test_two_steps_of_each_arm_then_select_and_report(data: Path, tiny: Path, tmp_path: Path) -> None:
    trained = ["one-word", "refusal"]
    filter_pairs(data / "validation", tmp_path / "val", trained)
    out = tmp_path / "exp"
    for arm in "abc":
        single = arm == "a"
        cfg = arm_config(
            arm,
            {"model": str(tiny), "output_dir": str(out / "arms" / f"{arm}-seed0"),
             "train_pairs": str(data / "train" / "pairs.jsonl"), "subsets": trained,
             "eval_data_dir": str(tmp_path / "val"), "eval_limit": 3, "max_steps": 2, "eval_steps": 1,
             "num_generations": 2, "per_device_train_batch_size": 2 if single else 4},
        )  # fmt: skip
        path = tmp_path / f"{arm}.yaml"
        path.write_text(yaml.safe_dump(cfg))
        assert cli.main(["grpo", "--config", str(path)]) == 0
    steps = {}
    for arm in "abc":
        folder = out / "arms" / f"{arm}-seed0"
        table = pd.concat(pd.read_parquet(f) for f in sorted((folder / "completions").glob("*.parquet")))
        steps[arm] = {int(s): sorted(set(p["pair_id"])) for s, p in table.groupby("step")}
        orders = set(table["order"])
        if arm == "a":  # one seeded order per pair: one row per pair and step
            assert (table.groupby(["step", "pair_id"])["order"].nunique() == 1).all()
        else:
            assert orders == {"ab", "ba"}
        rewards = json.loads((folder / "final" / "j1train_card.json").read_text())["rewards"]
        assert ("consistency" in rewards and rewards["consistency"]) == (arm == "c")
        assert sorted(p.name for p in (folder / "eval").glob("step-*")) == ["step-1", "step-2"]
    assert steps["a"] == steps["b"] == steps["c"]  # the same pairs at every step, in every arm
    assert [len(v) for v in steps["a"].values()] == [1, 1]

    families = tmp_path / "families.json"
    families.write_text(json.dumps({"trained": trained, "controls": ["copy"]}))
    chosen = select(out / "arms" / "c-seed0", trained, prune=True)
    assert chosen["chosen_step"] in (1, 2) and Path(chosen["chosen_model"], "config.json").is_file()
    other = 3 - chosen["chosen_step"]
    assert not (out / "arms" / "c-seed0" / "eval" / f"step-{other}" / "model").exists()
    best = max(s["consistent"] for s in chosen["steps"])
    assert [s["consistent"] for s in chosen["steps"] if s["step"] == chosen["chosen_step"]] == [best]

    for name in ("base", "c-seed0"):  # judged sets: the report needs at least one
        model = tiny if name == "base" else Path(chosen["chosen_model"])
        argv = ["run", "--judge", f"hf:{model}", "--format", "direct-verdict", "--max-tokens", "1", "--bench", "pairs"]
        argv += [
            "--data-dir",
            str(tmp_path / "val"),
            "--limit",
            "3",
            "--out",
            str(out / "judged" / "test-trained" / name),
        ]
        assert j1eval_main([*argv, "--no-progress"]) == 0
    report = tmp_path / "report"
    assert main(["report", str(out), "--report", str(report), "--families", str(families), "--setting", "tiny"]) == 0
    readme = (report / "README.md").read_text()
    assert "seed 0: not every arm was judged (c)" in readme and "- tiny" in readme
    assert (report / "training_curves.png").stat().st_size > 1000
    slots = pd.read_csv(report / "rollout_slots.csv")
    assert set(slots["arm"]) == {"a", "b", "c"} and set(slots["step"]) == {1, 2}
    assert (slots["rollouts"] == slots["arm"].map({"a": 2, "b": 4, "c": 4})).all()  # one pair, 2 rollouts per order
    assert slots["slot_a"].dropna().between(0, 1).all()
    curves = pd.read_csv(report / "curves.csv")
    assert set(curves["step"]) == {1, 2} and set(curves["families"]) == {"trained"}
