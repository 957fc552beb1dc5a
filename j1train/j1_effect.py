"""The J1-effect experiment's own steps (``scripts/j1_effect.sh``): signal check, split filter, checkpoint choice.

``python -m j1train.j1_effect signal RUN_DIR --out FAMILIES.json``
    reads a ``j1eval run`` of the base judge on the validation split (``--bench pairs``) and picks
    the families to train on: those whose order-averaged accuracy ``acc_prob_avg`` is at least
    ``--threshold`` (default 0.15, i.e. at most 35% or at least 65%) away from 50%, in either
    direction (a strong inverse preference is a content signal too; 50% is none). The others are
    controls. If fewer than ``--min-families`` pass, the ones farthest from 50% are taken and the
    file says so. Writes FAMILIES.json and prints the per-family table (acc_prob_avg, flip rate,
    slot-A rate, with 95% intervals). An order-averaged probability of exactly 0.5 counts as wrong, so
    a rule that ties (the ``longer`` baseline on equal lengths) reads 0%, not 50%: the check is meant
    for a model judge, whose probabilities do not tie.
``python -m j1train.j1_effect filter SRC_DIR DEST_DIR --families FAMILIES.json --which trained|controls``
    copies the pairs of those families from ``SRC_DIR/pairs.jsonl`` to ``DEST_DIR/pairs.jsonl``.
``python -m j1train.j1_effect select ARM_DIR --families FAMILIES.json [--prune]``
    scores every ``ARM_DIR/eval/step-N`` (the in-loop validation runs) by consistent accuracy on
    the trained families, pooled, picks the best (the earliest on a tie; the test split is never
    read), writes ``ARM_DIR/selection.json``, prints the chosen step's folder, and with ``--prune``
    deletes the kept weights of the other steps.
``python -m j1train.j1_effect config a|b|c --out FILE [--set KEY=VALUE ...]``
    writes one arm's config: ``configs/j1_effect/common.yaml``, the arm's own file over it (which
    may not change a shared key), then the ``--set`` values (paths, seed, families, sizes).
``python -m j1train.j1_effect report ...`` (:mod:`j1train.j1_effect_report`) draws and writes the report.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from j1eval.errors import InputError, J1EvalError
from j1eval.safe_io import iter_jsonl, write_jsonl
from j1eval.score.intervals import proportion_interval
from j1eval.store.judgments import write_json
from j1train.j1_effect_steps import BENCH, _ci, _pct, pooled, read_families, step_tables

CONFIG_DIR = Path(__file__).resolve().parent / "configs" / "j1_effect"
THRESHOLD = 0.15
MIN_FAMILIES = 2


def _results(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / "results.json"
    if not path.is_file():
        raise InputError("no results.json: not a finished j1eval run", path=run_dir)
    results = json.loads(path.read_text(encoding="utf-8"))
    if BENCH not in results:
        raise InputError(f"no '{BENCH}' benchmark in results.json (run with --bench pairs)", path=path)
    return results[BENCH]


def base_signal(run_dir: Path, threshold: float = THRESHOLD, min_families: int = MIN_FAMILIES) -> dict[str, Any]:
    """Per family: the base judge's acc_prob_avg, flip and slot-A rates; which families to train on."""
    if not 0 <= threshold <= 0.5:
        raise InputError(f"--threshold must be within [0, 0.5], got {threshold}")
    subsets = _results(run_dir).get("subsets", {})
    families: dict[str, dict[str, Any]] = {}
    for name, figs in sorted(subsets.items()):
        if figs.get("acc_prob_avg") is None:
            raise InputError(f"family {name!r} has no acc_prob_avg: judge with a direct-verdict judge", path=run_dir)
        keys = ("n_pairs", "acc_prob_avg", "flip_rate", "slot_a_rate", "acc_consistent", "mean_p_a")
        families[name] = {k: figs.get(k) for k in keys}
        families[name]["ci"] = {k: figs["ci"][k] for k in keys if k in figs.get("ci", {})}
        families[name]["distance"] = abs(figs["acc_prob_avg"] - 0.5)
    if not families:
        raise InputError("no families (subsets) in the run", path=run_dir)
    ranked = sorted(families, key=lambda f: (-families[f]["distance"], f))
    trained = [f for f in ranked if families[f]["distance"] >= threshold]
    note = f"trained: |acc_prob_avg - 50%| >= {100 * threshold:.0f} points"
    if len(trained) < min(min_families, len(ranked)):
        trained = ranked[:min_families]
        note = f"fewer than {min_families} families reach {100 * threshold:.0f} points: the {min_families} farthest"
    return {
        "run_dir": str(run_dir),
        "threshold": threshold,
        "rule": note,
        "trained": sorted(trained),
        "controls": sorted(f for f in families if f not in trained),
        "families": families,
    }


def signal_table(signal: Mapping[str, Any]) -> str:
    """The base-signal check as a markdown table."""
    lines = [
        "| family | role | pairs | acc_prob_avg % | distance from 50 | flip % | slot A % | consistent % |",
        "|:---|:---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, f in signal["families"].items():
        role = "trained" if name in signal["trained"] else "control"
        lines.append(
            f"| {name} | {role} | {f['n_pairs']} | {_pct(f['acc_prob_avg'])}{_ci(f, 'acc_prob_avg')} | "
            f"{100 * f['distance']:.1f} | {_pct(f['flip_rate'])}{_ci(f, 'flip_rate')} | "
            f"{_pct(f['slot_a_rate'])}{_ci(f, 'slot_a_rate')} | {_pct(f['acc_consistent'])} |"
        )
    lines.append("")
    lines.append(f"Rule: {signal['rule']}. Trained: {', '.join(signal['trained'])}; controls: "
                 f"{', '.join(signal['controls']) or 'none'}. Base judge run: `{signal['run_dir']}`.")  # fmt: skip
    return "\n".join(lines) + "\n"


def filter_pairs(src: Path, dest: Path, families: Sequence[str]) -> int:
    """Copy the pairs of ``families`` from ``src/pairs.jsonl`` to ``dest/pairs.jsonl``; how many."""
    source = Path(src) / "pairs.jsonl"
    if not source.is_file():
        raise InputError("no pairs.jsonl", path=src)
    kept = [rec for _, rec in iter_jsonl(source) if rec.get("subset") in set(families)]
    if not kept:
        raise InputError(f"no pairs of the families {', '.join(families) or '(none)'}", path=source)
    Path(dest).mkdir(parents=True, exist_ok=True)
    write_jsonl(Path(dest) / "pairs.jsonl", kept)
    return len(kept)


@dataclass(frozen=True)
class StepScore:
    """One evaluated step: pooled figures over the chosen families (plain shares of pairs)."""

    step: int
    run_dir: str
    n_pairs: int
    consistent: float
    flip: float
    acc_prob_avg: float | None


def select(arm_dir: Path, trained: Sequence[str], prune: bool = False) -> dict[str, Any]:
    """Pick the step with the best validation consistent accuracy on ``trained`` (earliest on a tie)."""
    scores = []
    for step, folder, table in step_tables(arm_dir):
        n, consistent, flip, acc_avg = pooled(table[table["subset"].isin(list(trained))])
        scores.append(StepScore(step, str(folder), n, consistent, flip, acc_avg))
    if not scores:
        raise InputError("no evaluated steps (eval/step-N/pairs.parquet)", path=arm_dir)
    best = max(scores, key=lambda s: (s.consistent, -s.step))
    chosen = Path(best.run_dir) / "model"
    if not (chosen / "config.json").is_file():
        raise InputError("the chosen step's weights were not kept (set eval_keep_models: true)", path=chosen)
    pruned = []
    if prune:
        for s in scores:
            model = Path(s.run_dir) / "model"
            if s.step != best.step and model.is_dir():
                shutil.rmtree(model)
                pruned.append(s.step)
    low, high = proportion_interval(round(best.consistent * best.n_pairs), best.n_pairs).as_list()
    selection = {
        "rule": "highest validation consistent accuracy on the trained families (earliest step on a tie)",
        "trained": list(trained),
        "chosen_step": best.step,
        "chosen_model": str(chosen),
        "chosen_consistent_ci": [low, high],
        "steps": [s.__dict__ for s in scores],
        "pruned_steps": pruned,
    }
    write_json(Path(arm_dir) / "selection.json", selection)
    return selection


def arm_config(arm: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``configs/j1_effect/common.yaml`` with arm ``a``, ``b`` or ``c``'s file over it, then ``overrides``.

    An arm file may not set a key of the common file: the arms differ only where their files say.
    """
    import yaml

    files = sorted(CONFIG_DIR.glob(f"{arm}-*.yaml"))
    if len(files) != 1:
        raise InputError(f"unknown arm {arm!r} (arms: a, b, c; files in {CONFIG_DIR})")
    common = yaml.safe_load((CONFIG_DIR / "common.yaml").read_text(encoding="utf-8"))
    own = yaml.safe_load(files[0].read_text(encoding="utf-8"))
    shared = sorted(set(common) & set(own))
    if shared:
        raise InputError(f"an arm may not change a shared setting ({', '.join(shared)})", path=files[0])
    return {**common, **own, **dict(overrides or {})}


def _settings(pairs: Sequence[str]) -> dict[str, Any]:
    import yaml

    out = {}
    for text in pairs:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise InputError(f"expected KEY=VALUE, got {text!r}", field="--set")
        out[key] = yaml.safe_load(value)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m j1train.j1_effect", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("signal", help="base-signal check: pick the families to train on")
    p.add_argument("run_dir", type=Path)
    p.add_argument("--out", type=Path, required=True, help="FAMILIES.json (a .md table is written beside it)")
    p.add_argument("--threshold", type=float, default=THRESHOLD)
    p.add_argument("--min-families", type=int, default=MIN_FAMILIES)
    p = sub.add_parser("filter", help="keep the pairs of the trained (or control) families")
    p.add_argument("src", type=Path)
    p.add_argument("dest", type=Path)
    p.add_argument("--families", type=Path, required=True)
    p.add_argument("--which", choices=("trained", "controls"), required=True)
    p = sub.add_parser("select", help="choose an arm's checkpoint by validation consistent accuracy")
    p.add_argument("arm_dir", type=Path)
    p.add_argument("--families", type=Path, required=True)
    p.add_argument("--prune", action="store_true", help="delete the weights of the steps not chosen")
    p = sub.add_parser("config", help="write one arm's training config (common.yaml + the arm's file + --set)")
    p.add_argument("arm", choices=("a", "b", "c"))
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a value (YAML) to set")
    p = sub.add_parser("report", help="curves, slot shares, tables and README of the experiment")
    from j1train.j1_effect_report import add_report_arguments, report_main

    add_report_arguments(p)
    args = parser.parse_args(argv)
    try:
        if args.command == "signal":
            signal = base_signal(args.run_dir, args.threshold, args.min_families)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            write_json(args.out, signal)
            table = signal_table(signal)
            args.out.with_suffix(".md").write_text(table, encoding="utf-8")
            print(table, end="")
        elif args.command == "filter":
            families = read_families(args.families)[args.which]
            print(f"{filter_pairs(args.src, args.dest, families)} pairs ({args.which}) -> {args.dest}")
        elif args.command == "select":
            chosen = select(args.arm_dir, read_families(args.families)["trained"], args.prune)
            print(Path(chosen["chosen_model"]).parent)
        elif args.command == "config":
            import yaml

            args.out.parent.mkdir(parents=True, exist_ok=True)
            config = arm_config(args.arm, _settings(args.set))
            args.out.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
            print(args.out)
        else:
            return report_main(args)
    except J1EvalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
