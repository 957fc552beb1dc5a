"""Judgments per second for 1 and 2 replicas of a judge on the same work, through the Ray executor.

A local Ray cluster is started with ``--cpus`` CPUs (default: every core of this machine); each
replica reserves ``--replica-cpus`` of them (so torch in each uses that many threads). The same
prompts (``--limit`` JudgeBench pairs, both orders) are judged with 1 replica, then 2, ``--reps``
rounds each; replica start-up (model load) is timed apart from judging. Printed: cores
used, judgments per second of each, the ratio, and what a GPU run would need to show the same.

    .venv/bin/python benchmarks/replicas.py [--judge smollm2-135m] [--limit 8] [--reps 2]

On 2 shared CPU cores the ratio says little: two replicas split the same two cores that one
replica's torch threads would use. Data parallelism pays where each replica has its own device.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import DATA, table  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--judge", default="smollm2-135m")
    parser.add_argument("--format", default=None)
    parser.add_argument("--limit", type=int, default=8, help="JudgeBench pairs (x2 orders)")
    parser.add_argument("--max-tokens", type=int, default=None)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 1, help="CPUs of the local Ray cluster")
    parser.add_argument("--replica-cpus", type=float, default=1.0)
    args = parser.parse_args()

    import ray

    from j1eval.benchmarks import get_benchmark
    from j1eval.formats import get_format
    from j1eval.judges import resolve_judge
    from j1eval.judging.executors import ExecutorConfig, open_backend
    from j1eval.judging.jobs import make_jobs

    spec = resolve_judge(args.judge, format_name=args.format, max_tokens=args.max_tokens)
    fmt = get_format(spec.format)
    pairs = get_benchmark("judgebench").load(DATA).pairs[: args.limit]
    identity = {**spec.identity(), "template_hash": fmt.template_hash}
    jobs, prompts = make_jobs({"judgebench": pairs}, fmt, identity, order="both", seed=0, samples=1)
    requests = list(prompts.values())
    ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    rows, rates = [], {}
    try:
        for n in (1, 2):  # one set of replicas at a time: the cluster holds either, not both
            start = time.perf_counter()
            backend = open_backend(spec, ExecutorConfig("ray", replicas=n, replica_cpus=args.replica_cpus))
            rows.append([f"{n} replica{'s' if n > 1 else ''} start-up", f"{time.perf_counter() - start:.1f}", "", ""])
            seconds = []
            for _ in range(args.reps):
                start = time.perf_counter()
                backend.generate(requests, spec.sampling, n=1)
                seconds.append(time.perf_counter() - start)
            backend.close()
            rates[n] = len(jobs) / min(seconds)
            each = " ".join(f"{s:.1f}" for s in seconds)
            rows.append([f"{n} replica{'s' if n > 1 else ''} judging", f"{min(seconds):.1f}", f"{rates[n]:.3f}", each])
    finally:
        ray.shutdown()
    print(
        f"judge {spec.name} ({spec.backend}), {len(jobs)} judgments ({args.limit} JudgeBench pairs x 2 orders); "
        f"local Ray cluster of {args.cpus} CPUs on a machine with {os.cpu_count()} cores; "
        f"each replica reserves {args.replica_cpus:g} CPU"
    )
    print(table(rows, ["contender", "best s", "judgments/s", "each round s"]))
    print(
        f"headline: 2 replicas judge at {rates[2] / rates[1]:.2f}x the rate of 1 on {args.cpus} CPU cores "
        f"({args.replica_cpus:g} per replica). A GPU run shows data parallelism's gain only with one device per "
        "replica: 2 GPUs (`--replica-gpus 1`, or vLLM's data_parallel_size 2), a judge that fits one GPU, and "
        "enough pairs (hundreds) that batching, not start-up, dominates. Not measured here (no GPU)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
