#!/usr/bin/env bash
# The main job on built-in data, from a fresh Debian machine (root, Swift toolchain on PATH):
# installs the Debian packages if missing, builds a release binary and runs `kneeforce demo`
# (synthetic cohort; a leave-one-subject-out sweep of the biLSTM-MLP and the TCN over every
# fold, with the mean_curve and ridge baselines; prints the summary table). Extra arguments
# go to the demo,
# e.g. scripts/demo.sh --out /tmp/kf-demo --device opencl:0
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$PWD/.kneeforce-cache/pocl}"
export KNEEFORCE_CACHE_DIR="${KNEEFORCE_CACHE_DIR:-$PWD/.kneeforce-cache/programs}"
echo "== build (release)"
start=$(date +%s)
if ! swift build -c release --product kneeforce >/tmp/kneeforce-release-build.log 2>&1; then
  tail -40 /tmp/kneeforce-release-build.log >&2
  echo "build failed" >&2
  exit 1
fi
grep -E "warning: |Build" /tmp/kneeforce-release-build.log || true
echo "build: $(( $(date +%s) - start )) s"
bin="$(swift build -c release --show-bin-path)/kneeforce"
"$bin" devices --no-check | head -20
echo
exec "$bin" demo "$@"
