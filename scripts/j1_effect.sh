#!/usr/bin/env bash
# The J1 effect (issue #25): J1 Table 5's three arms on verifiable pairs whose content signal is measured
# first, from a clean checkout, on the small CPU judge (SmolLM2-135M-Instruct, direct-verdict):
#   1. pairs: python -m j1train data --recipe verifiable (train / validation / test, disjoint questions),
#      with the `longer` and `first` baselines on each split;
#   2. base-signal check: the base judge on the validation split, both orders; families whose
#      acc_prob_avg is >= THRESHOLD away from 50% are trained on, the rest are controls;
#   3. arms (a) one seeded order + verdict reward, (b) both orders + verdict reward, (c) both orders +
#      verdict + consistency reward (j1train/configs/j1_effect/), same pairs per step, steps and seeds;
#      evaluation every EVAL_STEPS steps on the validation split (trained families), checkpoint chosen by
#      validation consistent accuracy (never the test split);
#   4. the base judge and every chosen checkpoint judged on the test split (trained families, controls)
#      and on a RB_SAMPLE-pair RewardBench sample, both orders, greedy;
#   5. j1eval report of each set (position bias, McNemar between judges) and the experiment's report
#      (all arms' curves on one plot, rollout slot shares per step, table, per-family breakdown, README)
#      into REPORT (reports/j1-effect by default).
#
#   scripts/j1_effect.sh              # the whole experiment: about 3 hours on 2 CPU cores (sizing below)
#   PILOT=1 scripts/j1_effect.sh      # 2 steps of each arm, one seed, small evaluation slices: minutes
#
# Sizing (2 cores, measured by PILOT=1 on this project's machine, 13.5 min in all): the base judge reads the
# validation split (133 pairs x 2 orders) in 113 s; a step of (b)/(c) (4 pairs x 2 orders x 16 rollouts)
# 16.5-18.6 s, of (a) 8.4-8.8 s; an evaluation of 8 validation pairs 7.7-8.5 s (the 34 trained-family pairs:
# ~30 s); RewardBench 200 pairs x 2 orders ~9 min per judge (reports/training). Per run of 40 steps with an
# evaluation every 5: (b), (c) ~40 x 17.5 + 8 x 30 = 940 s, (a) ~40 x 8.6 + 240 = 585 s; 2 seeds ~82 min.
# Judging base + 6 checkpoints (test ~133 pairs + RewardBench 200, both orders, ~11 min each): ~77 min.
# With data and the base-signal check: ~2.8 hours. Seeds run one after the other (seed 0's three arms
# first), so a run cut short still has whole seeds.
#
# Resumable: j1eval runs reuse their judgments; an arm whose OUT/arms/<arm>-seed<S>/final exists is not
# trained again.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
DATA_DIR=${DATA_DIR:-../shared/data}          # RewardBench (the transfer sample)
PILOT=${PILOT:-0}
THRESHOLD=${THRESHOLD:-0.15}
ARMS=${ARMS:-a b c}
if [[ "$PILOT" == 1 ]]; then
  OUT=${OUT:-runs/j1-effect-pilot}; REPORT=${REPORT:-$OUT/report}; SEEDS=${SEEDS:-0}
  MAX_STEPS=${MAX_STEPS:-2}; EVAL_STEPS=${EVAL_STEPS:-1}; RB_SAMPLE=${RB_SAMPLE:-4}; TEST_LIMIT=${TEST_LIMIT:-8}
  EVAL_LIMIT=${EVAL_LIMIT:-8}
else
  OUT=${OUT:-runs/j1-effect}; REPORT=${REPORT:-reports/j1-effect}; SEEDS=${SEEDS:-0 1}
  MAX_STEPS=${MAX_STEPS:-40}; EVAL_STEPS=${EVAL_STEPS:-5}; RB_SAMPLE=${RB_SAMPLE:-200}; TEST_LIMIT=${TEST_LIMIT:-}
  EVAL_LIMIT=${EVAL_LIMIT:-}
fi
MODEL=$("$PYTHON" -c "from j1eval.local_models import smollm2_path; print(smollm2_path())")
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}
mkdir -p "$OUT" "$REPORT"
DATA="$OUT/data"
timed() { local start=$SECONDS; "$@"; echo "[$(( SECONDS - start )) s] $*" | tee -a "$OUT/timings.txt"; }
# The judge exactly as the evaluation in the loop runs it: hf backend, direct verdict, one token, both orders.
judge() {  # judge MODEL_DIR DATA_DIR BENCH OUT [extra j1eval flags]
  local model=$1 data=$2 bench=$3 out=$4; shift 4
  timed "$PYTHON" -m j1eval run --judge "hf:$model" --format direct-verdict --max-tokens 1 --bench "$bench" \
    --order both --seed 0 --data-dir "$data" --out "$out" --no-progress "$@"
}
limit=(); [[ -n "$TEST_LIMIT" ]] && limit=(--limit "$TEST_LIMIT")
eval_limit=(); [[ -n "$EVAL_LIMIT" ]] && eval_limit=(--set "eval_limit=$EVAL_LIMIT")

# 1. the pairs, and what length and slot alone would score on each split
timed "$PYTHON" -m j1train data --recipe verifiable --seed 0 --out "$DATA"
for split in train validation test; do
  for baseline in longer first; do
    "$PYTHON" -m j1eval run --judge "$baseline" --bench pairs --data-dir "$DATA/$split" \
      --out "$OUT/baselines/$split-$baseline" --no-progress >/dev/null
  done
done

# 2. the base-signal check: which families the base judge has a content signal on
judge "$MODEL" "$DATA/validation" pairs "$OUT/judged/validation/base"
"$PYTHON" -m j1train.j1_effect signal "$OUT/judged/validation/base" --out "$OUT/families.json" --threshold "$THRESHOLD"
TRAINED=$("$PYTHON" -c "import json; print(json.dumps(json.load(open('$OUT/families.json'))['trained']))")
"$PYTHON" -m j1train.j1_effect filter "$DATA/validation" "$DATA/validation-trained" --families "$OUT/families.json" --which trained
"$PYTHON" -m j1train.j1_effect filter "$DATA/test" "$DATA/test-trained" --families "$OUT/families.json" --which trained
"$PYTHON" -m j1train.j1_effect filter "$DATA/test" "$DATA/test-controls" --families "$OUT/families.json" --which controls

judge_all() {  # judge_all NAME MODEL_DIR: the test split (trained, controls) and the RewardBench sample
  judge "$2" "$DATA/test-trained" pairs "$OUT/judged/test-trained/$1" "${limit[@]}"
  judge "$2" "$DATA/test-controls" pairs "$OUT/judged/test-controls/$1" "${limit[@]}"
  judge "$2" "$DATA_DIR" rewardbench "$OUT/judged/rewardbench/$1" --sample "$RB_SAMPLE"
}
judge_all base "$MODEL"

# 3. the arms: the committed configs with this machine's paths, the trained families, the seed and the sizes
for seed in $SEEDS; do
  for arm in $ARMS; do
    run="$OUT/arms/$arm-seed$seed"
    "$PYTHON" -m j1train.j1_effect config "$arm" --out "$OUT/configs/$arm-seed$seed.yaml" \
      --set "model=$MODEL" --set "output_dir=$run" --set "train_pairs=$DATA/train/pairs.jsonl" \
      --set "subsets=$TRAINED" --set "eval_data_dir=$DATA/validation-trained" --set "seed=$seed" \
      --set "max_steps=$MAX_STEPS" --set "eval_steps=$EVAL_STEPS" "${eval_limit[@]}" >/dev/null
    "$PYTHON" -m j1train grpo --config "$OUT/configs/$arm-seed$seed.yaml" --check
    [[ -d "$run/final" ]] || timed "$PYTHON" -m j1train grpo --config "$OUT/configs/$arm-seed$seed.yaml"
    chosen=$("$PYTHON" -m j1train.j1_effect select "$run" --families "$OUT/families.json" --prune)
    cp "$run/selection.json" "$REPORT/selection_$arm-seed$seed.json"
    # 4. the chosen checkpoint on the test split and the RewardBench sample
    judge_all "$arm-seed$seed" "$chosen/model"
  done
done

# 5. reports: j1eval's tables per set (position bias, McNemar between judges), then the experiment's own
for set in test-trained test-controls rewardbench; do
  "$PYTHON" -m j1eval report "$OUT/judged/$set"/* --out "$REPORT/$set"
done
"$PYTHON" -m j1train.j1_effect report "$OUT" --report "$REPORT" --families "$OUT/families.json" \
  --setting "SmolLM2-135M-Instruct ($MODEL), direct-verdict, GRPO: 16 rollouts, lr 5e-6 constant, beta 0.01, 4 pairs a step" \
  --setting "arms: $ARMS; seeds: $SEEDS; $MAX_STEPS steps; evaluation every $EVAL_STEPS steps on validation (trained families)" \
  --setting "trained families: $TRAINED (threshold $THRESHOLD); RewardBench sample: $RB_SAMPLE pairs (seed 0)" \
  --setting "pairs: $DATA (manifest.json: counts, and longer/first per split and family)"
cp "$OUT/families.md" "$REPORT/base_signal.md"
cp "$DATA/manifest.json" "$REPORT/data_manifest.json"
echo "report in $REPORT; timings in $OUT/timings.txt"
