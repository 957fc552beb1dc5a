"""Scoring a million judgments: ``python -m j1eval score`` vs a bare pyarrow read of the same file.

A synthetic benchmark of your own pairs (``pairs``: 125,000 pairs with short texts) and a judgments
file of 1,000,000 lines (both orders x 4 samples per pair, the fields a run writes: key, bench,
pair_id, order, sample, verdict, failure, p_a, raw), seeded. Then, each in a fresh process, interleaved
``--reps`` rounds, wall time (imports included) and peak memory (ru_maxrss):

- j1eval: ``python -m j1eval score --bench pairs --judgments FILE --data-dir DIR`` (every line
  validated, samples combined by SC@N, every figure with its bootstrap interval);
- bare: pyarrow's JSON reader on the same file, the pairs' labels read the same way, a vectorised
  majority vote per (pair, order) and accuracy per order: the least any scorer must do.

The last line is the headline: j1eval's time over the bare read (goal: within 3x, under 1 GB).
``--judgments N`` changes the size.

    .venv/bin/python benchmarks/scoring.py [--judgments 1000000] [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import Timings, child, table  # noqa: E402

SAMPLES = 4
GOAL_RATIO = 3.0
GOAL_MIB = 1024


def make_files(root: Path, n_judgments: int) -> tuple[Path, Path]:
    """DIR/pairs.jsonl and judgments.jsonl: a noisy judge that prefers slot A a little."""
    rng = random.Random(0)
    n_pairs = max(1, n_judgments // (2 * SAMPLES))
    data = root / "data"
    data.mkdir()
    labels = []
    with open(data / "pairs.jsonl", "w", encoding="utf-8") as fh:
        for i in range(n_pairs):
            label = 1 + rng.randrange(2)
            labels.append(label)
            rec = {"pair_id": f"p{i:07d}", "prompt": "q", "response_1": "a", "response_2": "b", "label": label,
                   "subset": f"s{i % 7}"}  # fmt: skip
            fh.write(json.dumps(rec) + "\n")
    path = root / "judgments.jsonl"
    with open(path, "w", encoding="utf-8") as fh:
        for i, label in enumerate(labels):
            for order in ("ab", "ba"):
                better_slot = ("A" if label == 1 else "B") if order == "ab" else ("B" if label == 1 else "A")
                for sample in range(SAMPLES):
                    u = rng.random()
                    failure = None
                    if u < 0.02:
                        verdict, failure = None, "no_verdict"
                    elif u < 0.60:
                        verdict = better_slot
                    elif u < 0.85:
                        verdict = "A"
                    else:
                        verdict = "B"
                    p_a = round(rng.random(), 4)
                    rec = {"key": f"{i:07d}{order}{sample}", "bench": "pairs", "pair_id": f"p{i:07d}", "order": order,
                           "sample": sample, "verdict": verdict, "failure": failure, "p_a": p_a,
                           "raw": f"<answer> [[{verdict}]] </answer>"}  # fmt: skip
                    fh.write(json.dumps(rec) + "\n")
    return data, path


def bare(judgments: Path, data: Path) -> None:
    """pyarrow read + vectorised majority vote per (pair, order) + accuracy per order."""
    import numpy as np
    import pyarrow.json as pj

    t = pj.read_json(judgments, read_options=pj.ReadOptions(block_size=1 << 24))
    pairs = pj.read_json(data / "pairs.jsonl").select(["pair_id", "label"]).to_pandas()
    frame = t.select(["pair_id", "order", "verdict"]).to_pandas()
    frame["a"] = (frame["verdict"] == "A").astype(np.int8)
    frame["b"] = (frame["verdict"] == "B").astype(np.int8)
    votes = frame.groupby(["pair_id", "order"], sort=False)[["a", "b"]].sum().reset_index()
    votes["majority"] = np.where(votes["a"] > votes["b"], "A", np.where(votes["b"] > votes["a"], "B", "tie"))
    votes = votes.merge(pairs, on="pair_id")
    better = np.where((votes["label"] == 1) == (votes["order"] == "ab"), "A", "B")
    votes["correct"] = votes["majority"] == better
    acc = votes.groupby("order")["correct"].mean()
    print(json.dumps({k: round(float(v), 4) for k, v in acc.items()}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judgments", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--bare", nargs=2, type=Path, metavar=("JUDGMENTS", "DATA_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        bare(*args.bare)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        data, path = make_files(Path(tmp), args.judgments)
        n = path.read_bytes().count(b"\n")
        print(f"synthetic judgments: {n:,} lines, {path.stat().st_size / 1e6:.0f} MB; {args.reps} interleaved rounds")
        score_argv = ["score", "--bench", "pairs", "--judgments", str(path), "--data-dir", str(data)]
        contenders = {
            "python -m j1eval score": lambda: child(score_argv),
            "bare pyarrow read + majority": lambda: child(["--bare", str(path), str(data)], __file__),
        }
        times = {name: Timings(name) for name in contenders}
        peaks: dict[str, float] = {}
        for _ in range(args.reps):
            for name, fn in contenders.items():
                info = fn()
                times[name].seconds.append(float(info["wall"]))
                peaks[name] = max(peaks.get(name, 0.0), float(info["peak_mib"]))
        rows = [[name, f"{x.best:.2f}", f"{x.median:.2f}", f"{peaks[name]:.0f}"] for name, x in times.items()]
        print(table(rows, ["contender (fresh process)", "min s", "median s", "peak MiB"]))
        j1, raw = times["python -m j1eval score"], times["bare pyarrow read + majority"]
        ratio = j1.best / raw.best
        peak = peaks["python -m j1eval score"]
        met = ratio <= GOAL_RATIO and peak < GOAL_MIB
        print(
            f"headline: j1eval score / bare pyarrow read = {ratio:.1f}x (min; median {j1.median / raw.median:.1f}x) "
            f"on {n:,} judgments, peak {peak:.0f} MiB; goal <= {GOAL_RATIO:.0f}x and < {GOAL_MIB} MiB: "
            f"{'met' if met else 'missed'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
