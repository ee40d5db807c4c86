#!/usr/bin/env bash
# The sweep benchmarks of benchmarks/RESULTS.md, in one run (release build, CPU backend unless
# said otherwise; PyTorch installed locally, never in CI):
#   1. the full --lofo sweep of both models on the default synthetic cohort (2 models x 4 input
#      sets x 6 folds = 48 units, plus 30 baseline units) with the sweep's defaults;
#   2. fold batching against --fold-batch 1 on the same work, --patience 0 (12 units: both
#      models, input set all, 6 folds, 60 epochs each), then the same 12 units in PyTorch
#      (benchmarks/pytorch_sweep.py: a plain sequential LOSO loop, same models, epochs, batch);
#   3. a small sweep on PoCL (--device opencl:0).
# Usage: benchmarks/sweep.sh [OUT]   (default benchmarks/out/sweep-<timestamp>)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-benchmarks/out/sweep-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
bin="${KNEEFORCE_BIN:-$(swift build -c release --show-bin-path)/kneeforce}"
[ -x "$bin" ] || swift build -c release --product kneeforce >/dev/null
threads="${THREADS:-$(nproc)}"
data="$out/cohort"
[ -d "$data" ] || "$bin" synth --out "$data" >/dev/null
timed() { # NAME COMMAND...: wall seconds into $out/NAME.seconds, output into $out/NAME.log
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  "$@" >"$out/$name.log" 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc >"$out/$name.seconds"
  echo "$name: $(cat "$out/$name.seconds") s"
}
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
timed lofo_sweep "$bin" sweep --data "$data" --out "$out/lofo" --device cpu --lofo
timed batched "$bin" sweep --data "$data" --out "$out/batched" --device cpu --patience 0
timed sequential "$bin" sweep --data "$data" --out "$out/sequential" --device cpu --patience 0 \
  --fold-batch 1
timed pytorch python3 benchmarks/pytorch_sweep.py --data "$data" --epochs 60 --batch 32 \
  --threads "$threads" --json "$out/pytorch.json"
timed pocl "$bin" sweep --data "$data" --out "$out/pocl" --device opencl:0 --activities walking \
  --epochs 5 --patience 0 --hidden 16 --mlp 16,16 --channels 16 --levels 2
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
for name in lofo batched sequential pocl; do
  python3 -c "import json,sys; r=json.load(open('$out/$name/sweep.json')); t=r['timings']; \
print('$name', r['units'], 'total %.1f s, training %.1f s, baselines %.1f s, fold batch %d' % \
(t['seconds'], t['training_seconds'], t['baseline_seconds'], r['run']['fold_batch']))"
done
python3 -c "import json; r=json.load(open('$out/pytorch.json')); print('pytorch', len(r['units']), \
'units, training %.1f s' % r['training_seconds'])"
