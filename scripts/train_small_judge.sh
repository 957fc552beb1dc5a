#!/usr/bin/env bash
# J1 Table 5's position-consistency comparison on a small judge, on CPU: SmolLM2-135M-Instruct in the
# direct-verdict format, trained with GRPO on RM-Bench chat pairs (decontaminated against RewardBench),
#   (a) j1train/configs/smollm2-cpu-verdict-only.yaml: one seeded order per pair, verdict reward only;
#   (b) j1train/configs/smollm2-cpu-consistency.yaml: both orders, verdict + consistency reward;
# evaluated on a seeded RewardBench sample in both orders before training, every eval_steps and at the end,
# then reported (tables, plots, both runs' training curves) into reports/training/.
#
#   scripts/train_small_judge.sh                 # the whole experiment (hours on 2 cores: see README)
#   PILOT=1 scripts/train_small_judge.sh         # 2 steps of (b), a 4-pair eval slice: times the set-up
#   ARMS=consistency EVAL_SAMPLE=100 scripts/train_small_judge.sh
#
# Resumable in parts: the base evaluation is a j1eval run (a rerun reuses its judgments); a training that
# finished (OUT/<arm>/final exists) is not trained again.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
DATA_DIR=${DATA_DIR:-../shared/data}
PILOT=${PILOT:-0}
if [[ "$PILOT" == 1 ]]; then
  OUT=${OUT:-runs/train-pilot}; REPORT=${REPORT:-$OUT/report}; ARMS=${ARMS:-consistency}
  EVAL_SAMPLE=${EVAL_SAMPLE:-4}; MAX_STEPS=${MAX_STEPS:-2}; EVAL_STEPS=${EVAL_STEPS:-1}
else
  OUT=${OUT:-runs/train}; REPORT=${REPORT:-reports/training}; ARMS=${ARMS:-verdict-only consistency}
  EVAL_SAMPLE=${EVAL_SAMPLE:-200}; MAX_STEPS=${MAX_STEPS:-40}; EVAL_STEPS=${EVAL_STEPS:-20}
fi
MODEL=$("$PYTHON" -c "from j1eval.local_models import smollm2_path; print(smollm2_path())")
export J1EVAL_DATA_DIR="$DATA_DIR" HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}
mkdir -p "$OUT/configs" "$REPORT"

# The run's configs: the committed ones with this machine's model path, data folder and (pilot) sizes.
for arm in $ARMS; do
  "$PYTHON" - "$arm" <<PY
import sys, yaml
arm = sys.argv[1]
config = yaml.safe_load(open(f"j1train/configs/smollm2-cpu-{arm}.yaml"))
config.update(model="$MODEL", output_dir="$OUT/$arm", data_dir="$DATA_DIR", eval_data_dir="$DATA_DIR",
              eval_sample=$EVAL_SAMPLE, eval_steps=$EVAL_STEPS, max_steps=$MAX_STEPS)
yaml.safe_dump(config, open(f"$OUT/configs/{arm}.yaml", "w"), sort_keys=False)
PY
  "$PYTHON" -m j1train grpo --config "$OUT/configs/$arm.yaml" --check
done

timed() { local start=$SECONDS; "$@"; echo "[$(( SECONDS - start )) s] $*" | tee -a "$OUT/timings.txt"; }

# 1. before training: the base model on the same slice, with the settings the loop uses (hf, 1 token, seed 0)
timed "$PYTHON" -m j1eval run --judge "hf:$MODEL" --format direct-verdict --max-tokens 1 --bench rewardbench \
  --sample "$EVAL_SAMPLE" --seed 0 --order both --data-dir "$DATA_DIR" --out "$OUT/base" --no-progress

# 2. both trainings, each judged by j1eval during training and at the end (OUT/<arm>/eval/step-N)
runs=("$OUT/base")
for arm in $ARMS; do
  if [[ ! -d "$OUT/$arm/final" ]]; then
    timed "$PYTHON" -m j1train grpo --config "$OUT/configs/$arm.yaml"
  fi
  "$PYTHON" -m j1train plot "$OUT/$arm"
  cp "$OUT/$arm/eval/training_curves.png" "$REPORT/training_curves_$arm.png"
  cp "$OUT/$arm/eval/training_curves.pdf" "$REPORT/training_curves_$arm.pdf"
  cp "$OUT/$arm/eval/history.jsonl" "$REPORT/history_$arm.jsonl"
  runs+=("$(ls -d "$OUT/$arm"/eval/step-* | sort -V | tail -n 1)")
done

# 3. the report: base model and each arm's last evaluation, side by side (Table 5 layout, McNemar tests)
"$PYTHON" -m j1eval report "${runs[@]}" --out "$REPORT"
"$PYTHON" -m j1eval report "${runs[@]}" --format csv --out "$REPORT" --no-plots
echo "report in $REPORT; timings in $OUT/timings.txt"
