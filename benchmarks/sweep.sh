#!/usr/bin/env bash
# The sweep benchmarks of benchmarks/RESULTS.md (release build, CPU backend unless said
# otherwise; PyTorch installed locally, never in CI). Every sweep runs `--recipe plain` (the
# round-1 settings: one model per fold, no inner validation, training z-scores), the work
# benchmarks/pytorch_sweep.py does and the figures before the small-cohort recipe measured;
# RECIPE="--recipe small_cohort" measures the default recipe instead (benchmarks/recipe.sh
# times it per part). STEPS picks them (default all three):
#   lofo:  the full --lofo sweep of both models on the default synthetic cohort (2 models x 4
#          input sets x 6 folds = 48 units, plus 30 baseline units) with the sweep's defaults;
#   ratio: fold batching against --fold-batch 1 on the same work, --patience 0 (12 units: both
#          models, input set all, 6 folds, $EPOCHS epochs each, default 60), then the same 12
#          units in PyTorch (benchmarks/pytorch_sweep.py: a plain sequential LOSO loop, same
#          models, epochs, batch), one after the other in this run;
#   pocl:  a small sweep on PoCL (--device opencl:0).
# Each command's wall, user and system seconds go to OUT/<name>.time (GNU time).
# FOLDS=N limits PyTorch to the first N folds of each model (its units are timed one by one).
# Usage: [STEPS="ratio pocl"] [EPOCHS=60] [FOLDS=0] benchmarks/sweep.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-benchmarks/out/sweep-$(date -u +%Y%m%dT%H%M%SZ)}"
steps="${STEPS:-lofo ratio pocl}"
epochs="${EPOCHS:-60}"
mkdir -p "$out"
bin="${KNEEFORCE_BIN:-$(swift build -c release --show-bin-path)/kneeforce}"
[ -x "$bin" ] || swift build -c release --product kneeforce >/dev/null
threads="${THREADS:-$(nproc)}"
recipe="${RECIPE:---recipe plain}"
data="$out/cohort"
# The cohort of the earlier figures (`--nuisance none`: 180 trials); NUISANCE=realistic gives
# today's default cohort (more trials per subject, so more work per epoch).
[ -d "$data" ] || "$bin" synth --out "$data" --nuisance "${NUISANCE:-none}" >/dev/null
timed() { # NAME COMMAND...: output into OUT/NAME.log, "wall user system" seconds into OUT/NAME.time
  local name=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$out/$name.time" "$@" >"$out/$name.log" 2>&1
  echo "$name: wall, user, system seconds $(cat "$out/$name.time"); load $(cut -d' ' -f1-3 /proc/loadavg)"
}
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for step in $steps; do
  case $step in
  lofo) timed lofo "$bin" sweep --data "$data" --out "$out/lofo" --device cpu --lofo $recipe ;;
  ratio)
    timed batched "$bin" sweep --data "$data" --out "$out/batched" --device cpu --patience 0 \
      --epochs "$epochs" $recipe
    timed sequential "$bin" sweep --data "$data" --out "$out/sequential" --device cpu \
      --patience 0 --epochs "$epochs" --fold-batch 1 $recipe
    timed pytorch python3 benchmarks/pytorch_sweep.py --data "$data" --epochs "$epochs" \
      --batch 32 --threads "$threads" --folds "${FOLDS:-0}" --json "$out/pytorch.json"
    ;;
  pocl)
    timed pocl "$bin" sweep --data "$data" --out "$out/pocl" --device opencl:0 \
      --activities walking --epochs 5 --patience 0 --hidden 16 --mlp 16,16 --channels 16 \
      --levels 2 $recipe
    ;;
  esac
done
for name in lofo batched sequential pocl; do
  [ -f "$out/$name/sweep.json" ] || continue
  python3 -c "import json; r=json.load(open('$out/$name/sweep.json')); t=r['timings']; \
print('$name', r['units'], 'total %.1f s, training %.1f s, baselines %.1f s, fold batch %d' % \
(t['seconds'], t['training_seconds'], t['baseline_seconds'], r['run']['fold_batch']))"
done
if [ -f "$out/pytorch.json" ]; then
  python3 -c "import json; r=json.load(open('$out/pytorch.json')); print('pytorch', \
len(r['units']), 'units, training %.1f s' % r['training_seconds'])"
fi
