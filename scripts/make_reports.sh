#!/usr/bin/env bash
# Regenerate reports/: the baseline judges (first, random, longer) on every benchmark whose data is in
# ../shared/data (JudgeBench, RewardBench, RM-Bench without math; PPE and FollowBenchEval are absent),
# the small CPU judge (SmolLM2-135M-Instruct, direct verdicts with P(A)) on seeded samples of JudgeBench,
# RewardBench and RM-Bench in both orders (about 30 minutes on 2 cores the first time), and sampled 8 times
# per judgment on 16 RewardBench pairs (test-time scaling, SC@k), then the report in Markdown (with plots),
# LaTeX and CSV, with the J1 v1 paper rows (reports/) and a second Markdown set with the v3 rows (reports/v3/). Runs are resumable: a rerun reuses runs/<name>/judgments.jsonl
# and takes seconds.
#
#   scripts/make_reports.sh            # from the repository root (or anywhere: it cd's there)
#   PYTHON=python3 DATA_DIR=/data SMOLLM2_REWARDBENCH_SAMPLE=100 scripts/make_reports.sh
#   SKIP_SMOLLM2=1 scripts/make_reports.sh   # baselines only
#   RUNS_ONLY=1 scripts/make_reports.sh      # the runs, not the report
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
DATA_DIR=${DATA_DIR:-../shared/data}
BENCHES=${BENCHES:-judgebench,rewardbench,rmbench}
SMOLLM2_JUDGEBENCH_SAMPLE=${SMOLLM2_JUDGEBENCH_SAMPLE:-40}
SMOLLM2_REWARDBENCH_SAMPLE=${SMOLLM2_REWARDBENCH_SAMPLE:-120}
SMOLLM2_RMBENCH_SAMPLE=${SMOLLM2_RMBENCH_SAMPLE:-60}
# Test-time scaling from one run: the small judge sampled N times per judgment (temperature 1.0, seeded)
# on a seeded sample of RewardBench; the report derives SC@k for k = 1, 2, 4, ..., N from those samples.
SMOLLM2_SC_SAMPLE=${SMOLLM2_SC_SAMPLE:-16}
SMOLLM2_SC_SAMPLES=${SMOLLM2_SC_SAMPLES:-8}
export J1EVAL_DATA_DIR="$DATA_DIR"  # for the runs; `report` reads only the run directories (pairs.parquet)

runs=()
for judge in first random longer; do
  "$PYTHON" -m j1eval run --judge "$judge" --bench "$BENCHES" --data-dir "$DATA_DIR" --out "runs/$judge" --no-progress
  runs+=("runs/$judge")
done
if [[ -z "${SKIP_SMOLLM2:-}" ]]; then
  # Direct verdicts (the judge's default format): one forward pass per judgment, verdict and P(A).
  for spec in "judgebench:$SMOLLM2_JUDGEBENCH_SAMPLE" "rewardbench:$SMOLLM2_REWARDBENCH_SAMPLE" \
              "rmbench:$SMOLLM2_RMBENCH_SAMPLE"; do
    bench=${spec%%:*} sample=${spec##*:}
    "$PYTHON" -m j1eval run --judge smollm2-135m --bench "$bench" --sample "$sample" --data-dir "$DATA_DIR" \
      --out "runs/smollm2-135m__$bench" --no-progress
    runs+=("runs/smollm2-135m__$bench")
  done
  "$PYTHON" -m j1eval run --judge smollm2-135m --bench rewardbench --sample "$SMOLLM2_SC_SAMPLE" \
    --samples "$SMOLLM2_SC_SAMPLES" --data-dir "$DATA_DIR" --out runs/smollm2-135m__rewardbench_sc8 --no-progress
  runs+=("runs/smollm2-135m__rewardbench_sc8")
fi
if [[ -n "${RUNS_ONLY:-}" ]]; then
  exit 0
fi

# Only generated files are removed; reports/README.md is written by hand.
mkdir -p reports
find reports -maxdepth 1 -type f ! -name README.md ! -name dashboard_pair_view.png -delete  # the dashboard's screenshot is not ours
rm -rf reports/plots reports/v3

"$PYTHON" -m j1eval report "${runs[@]}" --out reports --format md --with-paper
"$PYTHON" -m j1eval report "${runs[@]}" --out reports --format latex --with-paper --no-plots >/dev/null
"$PYTHON" -m j1eval report "${runs[@]}" --out reports --format csv --with-paper --no-plots >/dev/null
"$PYTHON" -m j1eval report "${runs[@]}" --out reports/v3 --format md --with-paper v3 --no-plots >/dev/null
