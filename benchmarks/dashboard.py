"""Dashboard speed on a 20,000-judgment run, measured through Streamlit's AppTest.

A synthetic run is made by j1eval itself: 10,000 own pairs (``pairs`` benchmark, prompts
and responses of a few hundred characters) judged in both orders by the ``random``
baseline, each output then given ~1,500 characters of "thinking" before its verdict tag
(the verdicts, and so results.json, unchanged). Timed, each a full script run of the Pairs
page with the run selected:

- first render: a cold session, the run read and its pair table built;
- reopen: a new session after that first load (the table comes from ``st.cache_resource``);
- filter change: the same session re-rendered after a filter (outcome + free-text search);
- open a pair: the pair view of one pair, both orders.

Each is printed as wall time and as this process's CPU time (the app runs in a thread of it):
on a machine shared with other work the CPU time is the steadier figure.

The last line compares the reopen and filter re-render with the issue's goal (2 s).
``--pairs N`` changes the size (judgments = 2 N).

    .venv/bin/python benchmarks/dashboard.py [--pairs 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_S = 2.0
WORDS = ("judge", "answer", "response", "order", "slot", "verdict", "reason", "because", "correct", "wrong",
         "premise", "check", "step")  # fmt: skip


def _text(rng: random.Random, n_chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < n_chars:
        w = rng.choice(WORDS)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)


def make_run(root: Path, n_pairs: int) -> Path:
    from j1eval.judging.config import RunConfig
    from j1eval.judging.runner import run

    rng = random.Random(0)
    data = root / "data"
    data.mkdir()
    with open(data / "pairs.jsonl", "w", encoding="utf-8") as fh:
        for i in range(n_pairs):
            pair = {
                "pair_id": f"p{i:06d}",
                "prompt": _text(rng, 400),
                "response_1": _text(rng, rng.randint(200, 900)),
                "response_2": _text(rng, rng.randint(200, 900)),
                "label": 1 + i % 2,
                "subset": f"s{i % 5}",
            }
            fh.write(json.dumps(pair) + "\n")
    out = root / "runs" / "synthetic"
    run(RunConfig(judge="random", benches=["pairs"], data_dir=data, out=out, progress=False, n_boot=0))
    path = out / "judgments.jsonl"
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        rec["raw"] = f"<think>{_text(rng, 1500)}</think> {rec['raw']}"
        lines.append(json.dumps(rec))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root / "runs"


def timed(at, action=None) -> tuple[float, float]:  # noqa: ANN001 (AppTest objects)
    """(wall seconds, CPU seconds of this process) of one script run."""
    if action is not None:
        action(at)  # set widget values; the run below applies them
    start, cpu = time.perf_counter(), time.process_time()
    at.run(timeout=600)
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    if at.exception:
        raise SystemExit(f"the app raised: {at.exception[0].value}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=10_000)
    args = parser.parse_args()
    from streamlit.components.v2 import manifest_scanner
    from streamlit.testing.v1 import AppTest

    # AppTest scans all installed packages for custom components per instance (a server does it once
    # at start-up); the dashboard uses none, so that scan is left out of the page timings.
    manifest_scanner.scan_component_manifests = lambda: []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        runs = make_run(Path(tmp), args.pairs)
        path = runs / "synthetic" / "judgments.jsonl"
        n = path.read_bytes().count(b"\n")
        size = path.stat().st_size
        print(f"synthetic run: {n:,} judgments, {size / 1e6:.1f} MB ({time.perf_counter() - start:.1f} s to make)")
        os.environ["J1EVAL_RUNS_DIR"] = str(runs)
        app = str(ROOT / "dashboard" / "app.py")

        def session() -> AppTest:
            at = AppTest.from_file(app, default_timeout=600)
            at.query_params.update(view="Pairs", runs="synthetic")
            return at

        first = timed(session())
        at = session()
        reopen = timed(at)

        def filters(a: AppTest) -> None:
            a.sidebar.multiselect(key="f_outcome").set_value(["one"])
            a.sidebar.text_input(key="f_text").set_value("premise check")

        filtered = timed(at, filters)
        matched = next(m.value for m in at.markdown if "pairs match" in m.value).split(" pairs match")[0]
        pair = timed(at, lambda a: a.text_input(key="pair").set_value("p000042"))
        for name, (wall, cpu) in (
            ("first render (reads the run)", first),
            ("reopen in a new session (cached)", reopen),
            (f"re-render after a filter ({matched.replace('*', '')} pairs match)", filtered),
            ("open a pair (both orders)", pair),
        ):
            print(f"{name:<44} {wall:6.2f} s wall, {cpu:6.2f} s CPU")
        wall, cpu = max(reopen[0], filtered[0]), max(reopen[1], filtered[1])
        print(
            f"headline: {n:,} judgments reopen in {reopen[0]:.2f} s and re-render after a filter in "
            f"{filtered[0]:.2f} s wall ({reopen[1]:.2f} / {filtered[1]:.2f} s CPU); against the {GOAL_S:.0f} s goal: "
            f"{GOAL_S / wall:.1f}x by wall time, {GOAL_S / max(cpu, 1e-3):.0f}x by CPU time"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
