#!/usr/bin/env bash
# Regenerate reports/: the baseline judges (first, random, longer) on every benchmark whose data is in
# ../shared/data (JudgeBench, RewardBench, RM-Bench without math; PPE and FollowBenchEval are absent),
# plus the small CPU judge's run at runs/smollm2-135m__judgebench when it exists; then the report in
# Markdown (with plots), LaTeX and CSV. Runs are resumable: a rerun reuses runs/<judge>/judgments.jsonl.
#
#   scripts/make_reports.sh            # from the repository root (or anywhere: it cd's there)
#   PYTHON=python3 DATA_DIR=/data scripts/make_reports.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
DATA_DIR=${DATA_DIR:-../shared/data}
BENCHES=${BENCHES:-judgebench,rewardbench,rmbench}
SMOLLM2_RUN=${SMOLLM2_RUN:-runs/smollm2-135m__judgebench}
export J1EVAL_DATA_DIR="$DATA_DIR"  # where `report` finds the pairs (length-bias plot, tests)

runs=()
for judge in first random longer; do
  "$PYTHON" -m j1eval run --judge "$judge" --bench "$BENCHES" --data-dir "$DATA_DIR" --out "runs/$judge" --no-progress
  runs+=("runs/$judge")
done
if [[ -f "$SMOLLM2_RUN/results.json" ]]; then
  runs+=("$SMOLLM2_RUN")
else
  echo "note: $SMOLLM2_RUN has no results.json; the small CPU judge is left out of the report" >&2
fi

# Only generated files are removed; reports/README.md is written by hand.
mkdir -p reports
find reports -maxdepth 1 -type f ! -name README.md -delete
rm -rf reports/plots

"$PYTHON" -m j1eval report "${runs[@]}" --out reports --format md --with-paper
"$PYTHON" -m j1eval report "${runs[@]}" --out reports --format latex --with-paper --no-plots >/dev/null
"$PYTHON" -m j1eval report "${runs[@]}" --out reports --format csv --with-paper --no-plots >/dev/null
