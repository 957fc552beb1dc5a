#!/usr/bin/env bash
# One prepared GPU check of j1train (a few minutes): a few GRPO steps of a tiny chat model built on the
# spot (no download), first with transformers generation, then through vLLM (colocate) where vLLM is
# installed; each checkpoint is then loaded and run by j1eval. Needs: pip install -c constraints.txt -e '.[train]'
# (plus '.[vllm]' for the second part). Usage: scripts/gpu_train_check.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
WORK=${1:-$(mktemp -d /tmp/j1train_gpu.XXXX)}
export HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
mkdir -p "$WORK"
"$PY" -c "import torch; assert torch.cuda.is_available(), 'no GPU'; print('GPU:', torch.cuda.get_device_name(0))"

"$PY" - "$WORK" <<'PYEOF'
import sys
from pathlib import Path
sys.path.insert(0, "tests")
from tiny_model import build_tiny_model, tiny_pairs, write_pairs_jsonl
work = Path(sys.argv[1])
build_tiny_model(work / "model", hidden=64)
write_pairs_jsonl(work / "pairs.jsonl", tiny_pairs(8))
PYEOF

config() {  # $1 = name, $2.. = extra YAML lines
  local name=$1; shift
  {
    echo "model: $WORK/model"
    echo "train_pairs: $WORK/pairs.jsonl"
    echo "output_dir: $WORK/$name"
    echo "num_generations: 4"
    echo "per_device_train_batch_size: 8"
    echo "max_completion_length: 32"
    echo "max_steps: 3"
    echo "save_steps: 2"
    echo "learning_rate: 1.0e-4"
    printf '%s\n' "$@"
  } > "$WORK/$name.yaml"
  echo "$WORK/$name.yaml"
}

check() {  # $1 = name
  local out=$WORK/$1
  test -f "$out/final/config.json" && test -f "$out/final/j1train_card.json"
  ls "$out"/completions/*.parquet > /dev/null
  "$PY" -m j1eval run --judge "hf:$out/final" --bench judgebench --limit 2 --max-tokens 8 \
    --data-dir "${J1EVAL_DATA_DIR:-../shared/data}" --out "$out/eval" --no-progress
  echo "OK $1"
}

echo "== transformers generation (bf16 chosen from the hardware)"
time "$PY" -m j1train grpo --config "$(config hf)"
check hf

if "$PY" -c "import vllm" 2>/dev/null; then
  echo "== vLLM colocate"
  time "$PY" -m j1train grpo --config "$(config vllm 'use_vllm: true' 'vllm_mode: colocate' 'vllm_gpu_memory_utilization: 0.2')"
  check vllm
else
  echo "== vLLM not installed: colocate check skipped"
fi
echo "all GPU checks passed; outputs in $WORK"
