"""The harness's own cost: a baseline judge over every local benchmark vs a bare script.

Both sides do the same work on ../shared/data (JudgeBench, RewardBench, RM-Bench: ~10.5K pairs,
~21K judgments in both orders): read the data files, make the pairs (RM-Bench's 3x3 matrix per
prompt), judge each pair in both orders with the ``first`` rule (always slot A), write every
judgment as a JSON line made durable on disk, and compute each benchmark's accuracy per order.

- j1eval: ``j1eval.judging.runner.run`` with judge ``first`` into a fresh folder (prompts rendered and
  hashed, judgments parsed, stored, scored with the bootstrap, results.json and manifest written);
- bare: the same reading, prompt filling (J1's template), judging and writing in ~40 lines of plain
  Python, one fsync at the end.

Interleaved (j1eval, bare, j1eval, bare, ...), ``--reps`` rounds; min and median; twice: in this
process (the work alone) and as fresh processes (``python -m j1eval run ...`` against ``python
benchmarks/baseline_run.py --bare-to FILE``: imports and start-up included, what a user waits for).
The last line is the headline: j1eval's time over the bare script's as processes (goal <= 2.0, issue #23).

    .venv/bin/python benchmarks/baseline_run.py [--reps 5] [--n-boot 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import DATA, ROOT, child, interleave, table  # noqa: E402

BENCHES = ["judgebench", "rewardbench", "rmbench"]
GOAL = 2.0


def bare(out: Path) -> dict[str, tuple[int, float, float]]:
    """Read, make pairs, judge ``first`` in both orders, write durable JSONL, accuracy per order."""
    import pandas as pd

    pairs: list[tuple[str, str, str, str, str, str]] = []  # bench, id, prompt, a, b, better ("A"/"B")
    jb = next((DATA / "judgebench").glob("*.jsonl"))
    with open(jb, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            better = "A" if rec["label"] == "A>B" else "B"
            pairs.append(("judgebench", rec["pair_id"], rec["question"], rec["response_A"], rec["response_B"], better))
    rb = pd.read_parquet(DATA / "rewardbench" / "rewardbench_filtered.parquet")
    columns = [rb[c] for c in ("question", "response_A", "response_B", "subset", "id")]
    for q, a, b, subset, id_ in zip(*columns, strict=True):
        pairs.append(("rewardbench", f"{subset}:{id_}", q, a, b, "A"))
    for path in sorted((DATA / "rmbench").glob("*.json")):
        for rec in json.loads(path.read_text(encoding="utf-8")):
            for i, chosen in enumerate(rec["chosen"]):
                for j, rejected in enumerate(rec["rejected"]):
                    pairs.append(("rmbench", f"{path.stem}:{rec['id']}:{i}{j}", rec["prompt"], chosen, rejected, "A"))
    template = (ROOT / "j1eval" / "formats" / "templates" / "pairwise_verdict.txt").read_text(encoding="utf-8")
    correct: dict[tuple[str, str], int] = {}
    counts: dict[str, int] = {}
    with open(out, "w", encoding="utf-8") as fh:
        for bench, pair_id, question, a, b, better in pairs:
            counts[bench] = counts.get(bench, 0) + 1
            for order in ("ab", "ba"):
                first, second = (a, b) if order == "ab" else (b, a)
                prompt = template.replace("{instruction}", question).replace("{response_a}", first)
                prompt = prompt.replace("{response_b}", second)  # what a model judge would read
                verdict = "A" if prompt else "B"  # the ``first`` rule
                picked = verdict if order == "ab" else {"A": "B", "B": "A"}[verdict]
                ok = picked == better
                correct[bench, order] = correct.get((bench, order), 0) + ok
                fh.write(json.dumps({"bench": bench, "pair_id": pair_id, "order": order, "verdict": verdict}) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return {b: (n, correct.get((b, "ab"), 0) / n, correct.get((b, "ba"), 0) / n) for b, n in counts.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--n-boot", type=int, default=None, help="j1eval's bootstrap resamples (default: its own)")
    parser.add_argument("--bare-to", type=Path, default=None, help="only run the bare script, writing FILE")
    args = parser.parse_args()
    if args.bare_to is not None:
        bare(args.bare_to)
        return 0
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        extra = {} if args.n_boot is None else {"n_boot": args.n_boot}
        outcomes: list[object] = []
        bare_results: list[dict[str, tuple[int, float, float]]] = []

        def j1(rep: int) -> None:
            out = root / f"j1_{rep}"
            cfg = RunConfig(judge="first", benches=BENCHES, data_dir=DATA, out=out, progress=False, **extra)
            outcomes.append(run(cfg))

        def plain(rep: int) -> None:
            bare_results.append(bare(root / f"bare_{rep}.jsonl"))

        plain(-1)  # warm the page cache and imports for both sides alike
        j1(-1)
        t = interleave({"j1eval run": j1, "bare script": plain}, args.reps)
        outcome = outcomes[-1]
        n_j1 = outcome.n_generated + outcome.n_cached
        n_bare = sum(n for n, _, _ in bare_results[-1].values()) * 2
        print(f"judgments: j1eval {n_j1:,}, bare {n_bare:,} (both orders of every pair), {args.reps} rounds")
        rows = []
        for name, x in t.items():
            rows.append([name, f"{x.best:.2f}", f"{x.median:.2f}", " ".join(f"{s:.2f}" for s in x.seconds)])
        print(table(rows, ["contender", "min s", "median s", "each round s"]))
        print()
        checks = []
        for bench, (n, ab, ba) in sorted(bare_results[-1].items()):
            figs = outcome.results[bench]["overall"]
            j1_acc = f"{figs['acc_ab']:.3f} / {figs['acc_ba']:.3f}"
            checks.append([bench, str(n), str(figs["n_pairs"]), f"{ab:.3f} / {ba:.3f}", j1_acc])
        print(table(checks, ["bench", "pairs (bare)", "pairs (j1eval)", "acc ab / ba (bare)", "acc ab / ba (j1eval)"]))
        in_process = t["j1eval run"].best / t["bare script"].best
        print(
            f"\nin this process: j1eval / bare = {in_process:.2f}x (min), "
            f"{t['j1eval run'].median / t['bare script'].median:.2f}x (median)\n"
        )

        cli = ["run", "--judge", "first", "--bench", ",".join(BENCHES), "--data-dir", str(DATA), "--no-progress"]
        procs = interleave(
            {
                "python -m j1eval run": lambda rep: child([*cli, "--out", str(root / f"cli_{rep}")]),
                "python bare script": lambda rep: child(["--bare-to", str(root / f"cli_bare_{rep}.jsonl")], __file__),
            },
            args.reps,
        )
        rows = [
            [n, f"{x.best:.2f}", f"{x.median:.2f}", " ".join(f"{s:.2f}" for s in x.seconds)] for n, x in procs.items()
        ]
        print(table(rows, ["fresh process", "min s", "median s", "each round s"]))
        ratio_best = procs["python -m j1eval run"].best / procs["python bare script"].best
        ratio_median = procs["python -m j1eval run"].median / procs["python bare script"].median
        print(
            f"headline: j1eval run / bare script = {ratio_best:.2f}x (min), {ratio_median:.2f}x (median) as fresh "
            f"processes ({in_process:.1f}x in-process) for {n_j1:,} judgments; goal <= {GOAL}x: "
            f"{'met' if ratio_best <= GOAL else 'missed'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
