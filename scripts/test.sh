#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine (root, Swift toolchain on PATH):
# installs the Debian packages if missing, lints, builds, and runs every test on the CPU
# backend and on OpenCL (PoCL here, whatever OpenCL device is present elsewhere).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

# One kernel cache for PoCL (it caches CLBlast's and our compiled kernels) and one for our
# program binaries, kept inside the checkout so repeated runs and CI reuse them.
export POCL_CACHE_DIR="${POCL_CACHE_DIR:-$PWD/.kneeforce-cache/pocl}"
export KNEEFORCE_CACHE_DIR="${KNEEFORCE_CACHE_DIR:-$PWD/.kneeforce-cache/programs}"
mkdir -p "$POCL_CACHE_DIR" "$KNEEFORCE_CACHE_DIR"
# The OpenCL tests must run, not skip, wherever this script runs.
export KNEEFORCE_REQUIRE_OPENCL="${KNEEFORCE_REQUIRE_OPENCL:-1}"

echo "== kernels embedded in the binary match Kernels/"
scripts/embed-kernels.sh >/dev/null
git diff --quiet -- Sources/KneeForceCompute/OpenCL/EmbeddedKernels.swift 2>/dev/null || {
  echo "Kernels/ changed: commit the regenerated EmbeddedKernels.swift" >&2
  exit 1
}

echo "== swift format lint"
swift format lint --strict --recursive Package.swift Sources Tests benchmarks

echo "== build"
start=$(date +%s)
swift build --build-tests 2>&1 | tee /tmp/kneeforce-build.log | grep -E "warning:|error:|Compiling|Build" | grep -v "^\[" || true
if grep -E "^/.*(Sources|Tests)/.*warning:" /tmp/kneeforce-build.log >/dev/null; then
  echo "compiler warnings in our code (see above)" >&2
  exit 1
fi
echo "build: $(( $(date +%s) - start )) s"

echo "== tests"
start=$(date +%s)
swift test --skip-build
echo "tests: $(( $(date +%s) - start )) s"
