"""What a rerun costs: a finished run rerun with the same ``--out``.

A baseline judge (``first``) judges every local benchmark (JudgeBench, RewardBench, RM-Bench:
~21K judgments in both orders) into a folder; then the same command is run again on that folder,
``--reps`` times, interleaved with fresh first runs (first, rerun, first, rerun, ...). Printed: wall
time of each, in this process and as a fresh ``python -m j1eval run`` process, and the judgments
the rerun sent to the backend (must be 0). The headline compares the rerun with the goal: under 1 s
for 21K judgments on this machine.

    .venv/bin/python benchmarks/resume.py [--reps 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import DATA, child, interleave, table  # noqa: E402

BENCHES = ["judgebench", "rewardbench", "rmbench"]
GOAL_S = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        done = root / "done"
        generated: list[int] = []
        total: list[int] = []

        def config(out: Path) -> RunConfig:
            return RunConfig(judge="first", benches=BENCHES, data_dir=DATA, out=out, progress=False)

        def first(rep: int) -> None:
            run(config(root / f"first_{rep}"))

        def rerun(rep: int) -> None:
            outcome = run(config(done))
            generated.append(outcome.n_generated)
            total.append(outcome.n_generated + outcome.n_cached)

        run(config(done))  # the finished run that every rerun resumes
        t = interleave({"first run": first, "rerun (all stored)": rerun}, args.reps)
        cli = ["run", "--judge", "first", "--bench", ",".join(BENCHES), "--data-dir", str(DATA), "--no-progress"]
        procs = interleave(
            {
                "python -m j1eval run (first)": lambda rep: child([*cli, "--out", str(root / f"cli_first_{rep}")]),
                "python -m j1eval run (rerun)": lambda rep: child([*cli, "--out", str(done)]),
            },
            args.reps,
        )
        rows = [
            [name, f"{x.best:.2f}", f"{x.median:.2f}", " ".join(f"{s:.2f}" for s in x.seconds)]
            for name, x in [*t.items(), *procs.items()]
        ]
        print(f"{total[-1]:,} judgments; judgments the reruns sent to the backend: {generated}; {args.reps} rounds")
        print(table(rows, ["contender", "min s", "median s", "each round s"]))
        rerun_s = t["rerun (all stored)"].best
        cli_s = procs["python -m j1eval run (rerun)"].best
        print(
            f"headline: a rerun of {total[-1]:,} stored judgments takes {rerun_s:.2f} s in-process "
            f"({t['first run'].best / rerun_s:.1f}x faster than the first run), {cli_s:.2f} s as a fresh process; "
            f"goal < {GOAL_S:.0f} s: {'met' if rerun_s < GOAL_S else 'missed'} in-process, "
            f"{'met' if cli_s < GOAL_S else 'missed'} as a process; requests sent {max(generated)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
