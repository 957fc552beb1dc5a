"""The J1-effect report: every arm's training curves on one plot, rollout slot shares, the table, a README.

Reads the experiment folder that ``scripts/j1_effect.sh`` fills (``OUT``):

- ``OUT/families.json`` (:func:`j1train.j1_effect.base_signal`) and ``OUT/families.md``;
- ``OUT/arms/<arm>-seed<S>/``: a j1train output folder (``eval/step-N`` validation runs,
  ``completions/*.parquet`` rollouts, ``selection.json``);
- ``OUT/judged/<set>/<judge>/``: j1eval run folders, ``set`` one of ``test-trained``,
  ``test-controls``, ``rewardbench``; ``judge`` ``base`` or ``<arm>-seed<S>`` (the chosen checkpoint);
- ``OUT/timings.txt``.

Writes into ``REPORT``: ``training_curves.{png,pdf}``, ``curves.csv``, ``rollout_slots.csv``,
``table.md`` (per judge and set: acc (a,b), acc (b,a), consistent, flip, slot A, order shift,
acc_prob_avg with 95% intervals), ``per_family.md``, ``position_bias.md`` (the j1eval reports of each
set, one after another) and ``README.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from j1eval.errors import InputError
from j1eval.store.pairs_file import PAIRS_FILE, read_pairs
from j1train.j1_effect_steps import BENCH, _ci, _pct, pooled, read_families, step_tables

SETS = ("test-trained", "test-controls", "rewardbench")
SET_TITLES = {
    "test-trained": "test split, trained families",
    "test-controls": "test split, control families",
    "rewardbench": "RewardBench sample (transfer)",
}
ARM_TITLES = {
    "a": "(a) one order, verdict",
    "b": "(b) both orders, verdict",
    "c": "(c) both orders, verdict + consistency",
}
COLUMNS = (
    ("acc_ab", "acc (a,b)"),
    ("acc_ba", "acc (b,a)"),
    ("acc_consistent", "consistent"),
    ("flip_rate", "flip"),
    ("slot_a_rate", "slot A"),
    ("order_shift", "order shift"),
    ("acc_prob_avg", "acc_prob_avg"),
)
ARM_DIR = re.compile(r"^([a-z])[-\w]*-seed(\d+)$")
COLLAPSE = 0.95  # a step whose decisive rollouts pick one slot this often (or 1 - this) ...
COLLAPSE_RUN = 3  # ... for this many steps in a row: collapsed


def arm_dirs(out: Path) -> list[tuple[str, int, Path]]:
    """(arm letter, seed, folder) of every ``OUT/arms/<arm>-seed<S>``."""
    found = []
    for folder in sorted((Path(out) / "arms").glob("*")):
        match = ARM_DIR.match(folder.name)
        if match and folder.is_dir():
            found.append((match.group(1), int(match.group(2)), folder))
    return found


def curves(out: Path, families: Mapping[str, Any]) -> pd.DataFrame:
    """Per arm, seed and evaluated step: pooled validation figures of the trained and the control families."""
    rows = []
    base = Path(str(families.get("run_dir", ""))) / PAIRS_FILE  # the base judge on validation: step 0
    base_table = read_pairs(base)[BENCH] if families.get("run_dir") and base.is_file() else None
    for arm, seed, folder in arm_dirs(out):
        steps = step_tables(folder)
        if base_table is not None:
            steps = [(0, base.parent, base_table), *steps]
        for step, _, table in steps:
            for role in ("trained", "controls"):
                part = table[table["subset"].isin(families[role])]
                n, consistent, flip, acc_avg = pooled(part)
                if n:
                    rows.append(
                        {"arm": arm, "seed": seed, "step": step, "families": role, "n_pairs": n,
                         "consistent": consistent, "flip": flip, "acc_prob_avg": acc_avg}
                    )  # fmt: skip
    return pd.DataFrame(rows)


def rollout_slots(out: Path) -> pd.DataFrame:
    """Per arm, seed and training step: share of decisive rollout verdicts picking slot A, per order and pooled."""
    rows = []
    for arm, seed, folder in arm_dirs(out):
        files = sorted((folder / "completions").glob("*.parquet"))
        if not files:
            continue
        table = pd.concat([pd.read_parquet(f, columns=["step", "order", "verdict"]) for f in files])
        for step, every in table.groupby("step"):
            part = every[every["verdict"].isin(["A", "B"])]
            row: dict[str, Any] = {"arm": arm, "seed": seed, "step": int(step), "rollouts": len(every)}
            row["decisive"] = len(part)
            row["slot_a"] = float((part["verdict"] == "A").mean()) if len(part) else None
            for order in ("ab", "ba"):
                sub = part[part["order"] == order]
                row[f"slot_a_{order}"] = float((sub["verdict"] == "A").mean()) if len(sub) else None
            rows.append(row)
    return pd.DataFrame(rows)


def collapses(slots: pd.DataFrame) -> dict[tuple[str, int], int]:
    """(arm, seed) -> the first step of ``COLLAPSE_RUN`` steps in a row with one slot >= ``COLLAPSE``."""
    found: dict[tuple[str, int], int] = {}
    if slots.empty:
        return found
    for (arm, seed), part in slots.sort_values("step").groupby(["arm", "seed"]):
        one_slot = ((part["slot_a"] >= COLLAPSE) | (part["slot_a"] <= 1 - COLLAPSE)).tolist()
        steps = part["step"].tolist()
        for k in range(len(one_slot) - COLLAPSE_RUN + 1):
            if all(one_slot[k : k + COLLAPSE_RUN]):
                found[(str(arm), int(seed))] = int(steps[k])
                break
    return found


def plot_curves(table: pd.DataFrame, rewards: pd.DataFrame, report: Path) -> Path:
    """All arms' validation curves (trained families) and mean rewards on one figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from j1eval.report.plots import STYLE

    colors = {"a": "tab:red", "b": "tab:blue", "c": "tab:green"}
    styles = ["-", "--", ":", "-."]
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(4, 1, figsize=(7, 10), sharex=True)
        panels = (
            ("consistent", "consistent accuracy (%)"),
            ("flip", "flip rate (%)"),
            ("acc_prob_avg", "acc_prob_avg (%)"),
        )
        trained = table[table["families"] == "trained"] if not table.empty else table
        for ax, (key, label) in zip(axes, panels, strict=False):
            for (arm, seed), part in trained.groupby(["arm", "seed"]) if not trained.empty else []:
                part = part.sort_values("step")
                label_text = f"{ARM_TITLES.get(arm, arm)}, seed {seed}"
                style = {"color": colors.get(arm, "black"), "linestyle": styles[int(seed) % len(styles)]}
                ax.plot(part["step"], 100 * part[key].astype(float), marker="o", label=label_text, **style)
            ax.set_ylabel(label)
            ax.set_ylim(-2, 102)
        for (arm, seed), part in rewards.groupby(["arm", "seed"]) if not rewards.empty else []:
            part = part.sort_values("step")
            axes[3].plot(part["step"], part["reward"], color=colors.get(arm, "black"),
                         linestyle=styles[int(seed) % len(styles)])  # fmt: skip
        axes[3].set_ylabel("mean reward")
        axes[3].set_xlabel("training step")
        axes[0].legend(loc="best", frameon=False, fontsize=7)
        axes[0].set_title("Validation split, trained families (step 0 = base judge where evaluated)")
        png = report / "training_curves.png"
        fig.savefig(png, dpi=150, bbox_inches="tight")
        fig.savefig(report / "training_curves.pdf", bbox_inches="tight")
        plt.close(fig)
    return png


def reward_series(out: Path) -> pd.DataFrame:
    rows = []
    for arm, seed, folder in arm_dirs(out):
        path = folder / "eval" / "rewards.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
            rec = json.loads(line)
            if isinstance(rec.get("reward"), int | float):
                rows.append({"arm": arm, "seed": seed, "step": rec["step"], "reward": rec["reward"]})
    return pd.DataFrame(rows).drop_duplicates(["arm", "seed", "step"], keep="last") if rows else pd.DataFrame()


def judged(out: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """{set: {judge: the run's ``results.json`` body of its one benchmark}}."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for name in SETS:
        for folder in sorted((Path(out) / "judged" / name).glob("*")):
            path = folder / "results.json"
            if path.is_file():
                results = json.loads(path.read_text(encoding="utf-8"))
                found.setdefault(name, {})[folder.name] = next(iter(results.values()))
    return found


def figure_table(runs: Mapping[str, Mapping[str, Any]]) -> str:
    """Markdown: one row per judge, the overall figures with their 95% intervals."""
    head = "| judge | pairs | " + " | ".join(label for _, label in COLUMNS) + " |"
    lines = [head, "|:---|---:|" + "---:|" * len(COLUMNS)]
    for judge, body in runs.items():
        o = body.get("overall", {})
        cells = [f"{_pct(o.get(key))}{_ci(o, key)}" for key, _ in COLUMNS]
        lines.append(f"| {judge} | {o.get('n_pairs', '-')} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def goal_check(runs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Per seed: is (c)'s flip rate >= 10 points below (a)'s and (b)'s, intervals apart, consistent not lower?"""
    lines = []
    seeds = sorted({int(j.rsplit("seed", 1)[1]) for j in runs if "-seed" in j})
    for seed in seeds:
        by_arm = {j.split("-", 1)[0]: runs[j]["overall"] for j in runs if j.endswith(f"-seed{seed}")}
        if not {"a", "b", "c"} <= set(by_arm):
            lines.append(f"- seed {seed}: not every arm was judged ({', '.join(sorted(by_arm))})")
            continue
        c = by_arm["c"]
        verdicts = []
        for other in ("a", "b"):
            x = by_arm[other]
            drop = x["flip_rate"] - c["flip_rate"]
            apart = c["ci"]["flip_rate"][1] < x["ci"]["flip_rate"][0]
            kept = c["acc_consistent"] >= x["acc_consistent"]
            ok = drop >= 0.10 and apart and kept
            verdicts.append(ok)
            lines.append(
                f"- seed {seed}, (c) vs ({other}): flip {100 * c['flip_rate']:.1f} vs {100 * x['flip_rate']:.1f} "
                f"({100 * drop:+.1f} points lower), intervals {'apart' if apart else 'overlap'}, consistent "
                f"{100 * c['acc_consistent']:.1f} vs {100 * x['acc_consistent']:.1f}: "
                f"{'goal reached' if ok else 'goal not reached'}"
            )
        lines.append(f"- seed {seed}: {'REACHED' if all(verdicts) else 'NOT reached'} against both (a) and (b)")
    return lines or ["- no arm was judged"]


def per_family(found: Mapping[str, Mapping[str, Mapping[str, Any]]], families: Mapping[str, Any]) -> str:
    """Markdown: test-split consistent accuracy / flip / acc_prob_avg per family and judge."""
    judges = sorted({j for s in ("test-trained", "test-controls") for j in found.get(s, {})}, key=_judge_key)
    lines = ["| family | role | " + " | ".join(judges) + " |", "|:---|:---|" + "---:|" * len(judges)]
    for role, name in (("trained", "test-trained"), ("controls", "test-controls")):
        for family in families[role]:
            cells = []
            for judge in judges:
                f = found.get(name, {}).get(judge, {}).get("subsets", {}).get(family)
                cells.append("-" if f is None else f"{_pct(f.get('acc_consistent'))} / {_pct(f.get('flip_rate'))} / "
                             f"{_pct(f.get('acc_prob_avg'))}")  # fmt: skip
            lines.append(f"| {family} | {role} | " + " | ".join(cells) + " |")
    lines.append("\nCells: consistent accuracy / flip rate / acc_prob_avg, %, on the test split (both orders, greedy).")
    return "\n".join(lines) + "\n"


def _judge_key(name: str) -> tuple[int, str]:
    return (0, "") if name == "base" else (1, name)


def balance_lines(manifest: Path) -> list[str]:
    """One line per split from the recipe's manifest: first / longer / equal, overall and per family."""
    if not manifest.is_file():
        return ["- (no data manifest)"]
    balance = json.loads(manifest.read_text(encoding="utf-8")).get("balance", {})
    lines = []
    for split, fams in balance.items():
        cells = ", ".join(
            f"{name} {_pct(b['first'])}/{_pct(b['longer'])}/{_pct(b['equal'])}" for name, b in fams.items()
        )
        lines.append(f"- {split} (first/longer/equal %): {cells}")
    return lines


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines() if ln.startswith("model name")]
        cpu = f"{len(names)} x {names[0]}" if names else cpu
    try:
        import torch

        gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    except ImportError:
        gpu = "torch absent"
    return f"{cpu}; {gpu}; Python {platform.python_version()} on {platform.system()}"


def write_report(out: Path, report: Path, families_path: Path, settings: Sequence[str] = ()) -> Path:
    """Everything the module docstring lists; returns the README."""
    out, report = Path(out), Path(report)
    families = read_families(families_path)
    report.mkdir(parents=True, exist_ok=True)
    table = curves(out, families)
    table.to_csv(report / "curves.csv", index=False)
    slots = rollout_slots(out)
    slots.to_csv(report / "rollout_slots.csv", index=False)
    if not table.empty:
        plot_curves(table, reward_series(out), report)
    found = judged(out)
    if not found:
        raise InputError("no judged runs under OUT/judged/<set>/<judge>/results.json", path=out)
    parts = [f"### {SET_TITLES[s]}\n\n{figure_table(dict(sorted(found[s].items(), key=lambda kv: _judge_key(kv[0]))))}"
             for s in SETS if s in found]  # fmt: skip
    (report / "table.md").write_text("\n".join(parts), encoding="utf-8")
    (report / "per_family.md").write_text(per_family(found, families), encoding="utf-8")
    bias = [f"## {SET_TITLES[s]}\n\n" + (report / s / "position_bias.md").read_text(encoding="utf-8")
            for s in SETS if (report / s / "position_bias.md").is_file()]  # fmt: skip
    (report / "position_bias.md").write_text("\n".join(bias) or "no j1eval report was made\n", encoding="utf-8")
    fell = collapses(slots)
    collapse_lines = [f"- {ARM_TITLES.get(a, a)}, seed {s}: its rollouts picked one slot in >= {100 * COLLAPSE:.0f}% "
                      f"of decisive verdicts for {COLLAPSE_RUN} steps in a row from step {step} (`rollout_slots.csv`)"
                      for (a, s), step in sorted(fell.items())] or ["- no arm collapsed onto one slot"]  # fmt: skip
    timings = out / "timings.txt"
    signal = out / "families.md"
    readme = [
        "# reports/j1-effect: J1 Table 5's three arms on verifiable pairs (generated by scripts/j1_effect.sh)\n",
        f"Machine: {machine()}.\n",
        "## Settings\n",
        *[f"- {s}" for s in settings],
        "\n## Pairs: slot and length balance (better response in slot 1; strictly longer; equal lengths)\n",
        *balance_lines(out / "data" / "manifest.json"),
        "\n## Base-signal check (validation split, base judge)\n",
        signal.read_text(encoding="utf-8") if signal.is_file() else "(families.md absent)\n",
        "## The table (chosen checkpoints and the base judge; both orders, greedy; 95% intervals)\n",
        (report / "table.md").read_text(encoding="utf-8"),
        "## Goal: (c)'s flip rate >= 10 points below (a)'s and (b)'s, intervals apart, consistent not lower "
        "(test split, trained families)\n",
        *goal_check(found.get("test-trained", {})),
        "\n## Slot collapse (training rollouts)\n",
        *collapse_lines,
        "\n## Wall times\n",
        "```\n" + (timings.read_text(encoding="utf-8") if timings.is_file() else "(no timings.txt)\n") + "```\n",
        "Files: `training_curves.png` (all arms, validation), `curves.csv`, `rollout_slots.csv`, `table.md`, "
        "`per_family.md`, `position_bias.md`, `<set>/` (j1eval report of each set: McNemar tests between "
        "judges in `stats.md`), `selection_<arm>.json` (each arm's checkpoint choice by validation).\n",
    ]
    path = report / "README.md"
    path.write_text("\n".join(readme), encoding="utf-8")
    return path


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="the experiment folder (runs/j1-effect)")
    parser.add_argument("--report", type=Path, required=True, help="where the report goes (reports/j1-effect)")
    parser.add_argument("--families", type=Path, required=True)
    parser.add_argument("--setting", action="append", default=[], help="a line for the README's settings")


def report_main(args: argparse.Namespace) -> int:
    print(f"wrote {write_report(args.out, args.report, args.families, args.setting)}")
    return 0


__all__ = ["BENCH", "write_report"]
