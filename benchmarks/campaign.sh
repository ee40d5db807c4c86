#!/usr/bin/env bash
# The CPU engine's measurement set (benchmarks/RESULTS.md, "CPU engine"): every configuration
# the engine's targets name, each through benchmarks/alternate.py (ours and PyTorch epoch by
# epoch, alternating, in one run), raw JSON and the printed rounds under
# benchmarks/out/campaign-<timestamp>/. Needs a release build (static stdlib) and PyTorch:
#   swift build -c release --static-swift-stdlib --product kneeforce
#   benchmarks/campaign.sh [ROUNDS]
# VARIANTS="name=ENV,... name2=ENV" adds configurations of ours to the reference biLSTM runs,
# e.g. VARIANTS="avx2=KNEEFORCE_AVX512=0".
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
out="benchmarks/out/campaign-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
variants=()
for v in ${VARIANTS:-}; do variants+=(--variant "$v"); done
sweep=(--sequences 960 --batch 32 --channels 16 --hidden 64)
run() {
  local name="$1"
  shift
  echo "== $name" | tee -a "$out/summary.txt"
  python3 benchmarks/alternate.py --json "$out/$name.json" "$@" 2>&1 | tee "$out/$name.txt" \
    | grep -E '^\||^round' >>"$out/summary.txt"
}
for dropout in 0.1 0; do
  run "bilstm-ref-d$dropout" --model bilstm_mlp --rounds "$rounds" --dropout "$dropout" \
    "${variants[@]}" -- --sequences 1024
  run "tcn-ref-d$dropout" --model tcn --rounds "$rounds" --dropout "$dropout" -- --sequences 1024
done
for folds in 1 3 6; do
  run "bilstm-sweep-k$folds-d0.1" --model bilstm_mlp --rounds "$rounds" --dropout 0.1 \
    --folds "$folds" -- "${sweep[@]}"
done
run "bilstm-sweep-k1-d0" --model bilstm_mlp --rounds "$rounds" --dropout 0 -- "${sweep[@]}"
echo "written: $out/summary.txt"
