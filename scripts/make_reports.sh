#!/usr/bin/env bash
# Regenerate reports/: the baseline judges (first, random, longer) on every benchmark whose data is in
# ../shared/data (JudgeBench, RewardBench, RM-Bench without math; PPE and FollowBenchEval are absent),
# the small CPU judge (SmolLM2-135M-Instruct) on slices of JudgeBench and RewardBench (about 7 minutes
# on 2 cores the first time), then the report in Markdown (with plots), LaTeX and CSV. Runs are
# resumable: a rerun reuses runs/<name>/judgments.jsonl and takes seconds.
#
#   scripts/make_reports.sh            # from the repository root (or anywhere: it cd's there)
#   PYTHON=python3 DATA_DIR=/data SMOLLM2_LIMIT=20 scripts/make_reports.sh
#   SKIP_SMOLLM2=1 scripts/make_reports.sh   # baselines only
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
DATA_DIR=${DATA_DIR:-../shared/data}
BENCHES=${BENCHES:-judgebench,rewardbench,rmbench}
SMOLLM2_JUDGEBENCH_LIMIT=${SMOLLM2_JUDGEBENCH_LIMIT:-6}
SMOLLM2_REWARDBENCH_LIMIT=${SMOLLM2_REWARDBENCH_LIMIT:-10}
export J1EVAL_DATA_DIR="$DATA_DIR"  # where `report` finds the pairs (length-bias plot, tests)

runs=()
for judge in first random longer; do
  "$PYTHON" -m j1eval run --judge "$judge" --bench "$BENCHES" --data-dir "$DATA_DIR" --out "runs/$judge" --no-progress
  runs+=("runs/$judge")
done
if [[ -z "${SKIP_SMOLLM2:-}" ]]; then
  # The README's main job (JudgeBench) and a RewardBench slice, 160 new tokens per judgment.
  for spec in "judgebench:$SMOLLM2_JUDGEBENCH_LIMIT" "rewardbench:$SMOLLM2_REWARDBENCH_LIMIT"; do
    bench=${spec%%:*} limit=${spec##*:}
    "$PYTHON" -m j1eval run --judge smollm2-135m --bench "$bench" --limit "$limit" --data-dir "$DATA_DIR" \
      --out "runs/smollm2-135m__$bench" --no-progress
    runs+=("runs/smollm2-135m__$bench")
  done
fi

# Only generated files are removed; reports/README.md is written by hand.
mkdir -p reports
find reports -maxdepth 1 -type f ! -name README.md -delete
rm -rf reports/plots

"$PYTHON" -m j1eval report "${runs[@]}" --out reports --format md --with-paper
"$PYTHON" -m j1eval report "${runs[@]}" --out reports --format latex --with-paper --no-plots >/dev/null
"$PYTHON" -m j1eval report "${runs[@]}" --out reports --format csv --with-paper --no-plots >/dev/null
