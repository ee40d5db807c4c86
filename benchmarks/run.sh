#!/usr/bin/env bash
# Measures KneeForce and the PyTorch baseline in the same run, alternating them, several
# repeats, then prints medians and ratios (benchmarks/summarize.py). Needs a release build
# and PyTorch installed locally (never in CI):
#   pip install -r scripts/requirements-fixtures.txt
#   benchmarks/run.sh [REPEATS] [DEVICES]        e.g. benchmarks/run.sh 3 cpu,opencl:0
# Raw JSON goes to benchmarks/out/<timestamp>/; copy the summary into benchmarks/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-3}"
devices="${2:-cpu}"
threads="${THREADS:-$(nproc)}"
# DROPOUT=0 measures both sides without dropout (default 0.1, as users train).
dropout="${DROPOUT:-0.1}"
# SIZES: options both sides take with the same names, e.g. the sweep's demo sizes
#   SIZES="--sequences 960 --batch 32 --channels 16 --hidden 64"; FOLDS=1,3,6 (ours only:
#   K models in lockstep; PyTorch trains one, the ratio is per fold).
sizes="${SIZES:-}"
folds="${FOLDS:-1}"
models="${MODELS:-bilstm_mlp tcn}"
# OPENBLAS_TOO=1 also runs our CPU backend with its own kernels switched off (every GEMM on
# OpenBLAS: the engine before the packed kernels), in the same rotation.
openblas_too="${OPENBLAS_TOO:-0}"
out="benchmarks/out/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
swift build -c release --static-swift-stdlib --product kneeforce >/dev/null
bin="$(swift build -c release --static-swift-stdlib --show-bin-path)/kneeforce"
for r in $(seq 1 "$repeats"); do
  for model in $models; do
    echo "== repeat $r/$repeats: $model (kneeforce, $devices)"
    "$bin" bench --model "$model" --devices "$devices" --epochs 2 --inference-repeats 2 \
      --dropout "$dropout" --folds "$folds" $sizes --json "$out/kneeforce-$model-$r.json"
    if [ "$openblas_too" = 1 ]; then
      echo "== repeat $r/$repeats: $model (kneeforce, OpenBLAS only)"
      KNEEFORCE_RECURRENT_KERNEL=blas KNEEFORCE_WEIGHT_GEMM=blas \
        "$bin" bench --model "$model" --devices "$devices" --epochs 2 --inference-repeats 2 \
        --dropout "$dropout" --folds "$folds" $sizes --json "$out/openblas-$model-$r.json"
    fi
    echo "== repeat $r/$repeats: $model (pytorch, $threads threads)"
    python3 benchmarks/pytorch_baseline.py --model "$model" --threads "$threads" --epochs 2 \
      --warmup 1 --inference-repeats 2 --dropout "$dropout" $sizes --json "$out/pytorch-$model-$r.json"
  done
done
python3 benchmarks/summarize.py "$out"
