#!/usr/bin/env bash
# The GPU check, as one script for a lent GPU machine (see README, Performance):
# the test suite with the GPU tests enabled, every bundled scenario with
# --device cuda --json, and the batched-training ratios on the GPU.
# Usage: bash benchmarks/gpu_check.sh OUTDIR   (wheels of missing packages in .whl/ are installed first)
set -uo pipefail
out="${1:-/tmp/gpu-check}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH="/tmp/site:$PWD" || exit 1
else
  export PYTHONPATH="$PWD"
fi
nvidia-smi -L
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
python3 -m pytest -q -n 4 -p no:cacheprovider tests 2>&1 | tee "$out/tests.log" | tail -n 15
for s in weight-decay dropout bn bn-stats norms weight-decay-sweep dropout-sweep; do
  start=$(date +%s.%N)
  python3 -m regtui --scenario "$s" --device cuda --json > "$out/$s.json" 2> "$out/$s.err"
  code=$?
  python3 - "$out/$s.json" "$s" "$code" "$start" <<'PY'
import json, sys, time
path, name, code, start = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
try:
    d = json.load(open(path))
    finals = {v["name"]: {k: v["final"].get(k) for k in ("train_loss", "test_loss", "test_accuracy", "output_std", "diverged") if k in v["final"]} for v in d["variants"]}
    print(f"{name}: exit {code} {d['status']} {d['device']} run {d['elapsed_s']} s, process {time.time() - start:.1f} s")
    print("   ", json.dumps(finals)[:400])
except Exception as exc:
    print(f"{name}: exit {code}, bad JSON: {exc}")
PY
done
python3 benchmarks/bench_stacked.py --device cuda --iters 400 --rounds 4 2>&1 | tee "$out/bench_stacked.log"
