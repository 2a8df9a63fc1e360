#!/usr/bin/env bash
# The GPU check, as one script for a lent GPU machine (see docs/development.md and docs/performance.md).
# Cheapest and most telling first, each part under its own time limit, so a
# slow part never costs the figures of the others:
#   1. the GPU tests (-m gpu: every experiment kind on cuda against the CPU,
#      the dashboard training on cuda in its child process);
#   2. every bundled scenario headless with --device cuda --json (status, time, finals);
#   3. the batched-training ratios on the GPU (bench_stacked; bench_custom);
#   4. the whole suite on the GPU machine (informative: CI runs it without a GPU).
# Usage: bash benchmarks/gpu_check.sh OUTDIR [LOGDIR]   (wheels of missing packages in .whl/ are installed first)
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
export REGTUI_RUNS_DIR="$out/runs"
nvidia-smi -L
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0))"
part() { echo; echo "=== $1 ($(date +%T))"; }

part "1. GPU tests"
timeout 240 python3 -m pytest -q -m gpu -p no:cacheprovider -rs tests/engine/test_gpu.py tests/app/test_gpu_dashboard.py 2>&1 | tee "$out/gpu_tests.log" | tail -n 25

part "2. every bundled scenario on cuda"
for f in scenarios/*.toml; do
  s=$(basename "$f" .toml)
  start=$(date +%s.%N)
  timeout 120 python3 -m regtui --scenario "$s" --device cuda --json --no-save > "$out/$s.json" 2> "$out/$s.err"
  code=$?
  python3 - "$out/$s.json" "$s" "$code" "$start" <<'PY'
import json, sys, time
path, name, code, start = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
keys = ("train_loss", "test_loss", "test_accuracy", "output_std", "weight_norm", "diverged")
try:
    d = json.load(open(path))
    finals = {v["name"]: {k: v["final"].get(k) for k in keys if k in v["final"]} for v in d["variants"]}
    print(f"{name}: exit {code} {d['status']} {d['device']} run {d['elapsed_s']} s, process {time.time() - start:.1f} s")
    print("   ", json.dumps(finals)[:300])
except Exception as exc:
    print(f"{name}: exit {code}, bad JSON: {exc}; stderr: {open(path[:-5] + '.err').read()[-300:]}")
PY
done 2>&1 | tee "$out/scenarios.log"

part "2b. a detached run on cuda, followed from another process, then one stopped"
id=$(timeout 30 python3 -m regtui --scenario digits-norms --device cuda --detach 2> "$out/detach.err")
echo "detached run id: $id"
timeout 120 python3 -m regtui runs follow "$id" 2>&1 | tail -n 4; echo "follow exit: ${PIPESTATUS[0]}"
id2=$(timeout 30 python3 -m regtui --scenario digits-norms --device cuda --detach 2>> "$out/detach.err")
sleep 8; timeout 60 python3 -m regtui runs stop "$id2"; echo "stop exit: $?"
python3 -m regtui runs list 2>&1 | tail -n 3
cat "$out/detach.err" | tail -n 4

part "3. batched training on cuda"
timeout 90 python3 benchmarks/bench_stacked.py --device cuda --iters 400 --rounds 4 2>&1 | tee "$out/bench_stacked.log"
# The train kind: digits-overfit's 12 runs (4 variants x 3 seeds) stacked vs one at a time, on cuda, twice each.
for round in 1; do
  for mode in on off; do
    timeout 120 python3 -m regtui --scenario digits-overfit --device cuda --set stack_runs=$mode --json --no-save \
      > "$out/digits-$mode.json" 2> "$out/digits-$mode.err"
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('digits-overfit stack_runs=$mode round $round:', d['status'], d['elapsed_s'], 's', {v['name']: round(v['final']['test_accuracy'], 4) for v in d['variants']})" "$out/digits-$mode.json" \
      || tail -3 "$out/digits-$mode.err"
  done
done 2>&1 | tee "$out/bench_digits.log"

part "4. the whole suite on this machine"
timeout 100 python3 -m pytest -q -n 8 -p no:cacheprovider tests 2>&1 | tee "$out/tests.log" | tail -n 15
part "done"
# The logs (a lent machine hands back a few files: the logs, not the per-scenario documents).
if [ -n "${2:-}" ]; then cp "$out"/*.log "$2"/; fi
