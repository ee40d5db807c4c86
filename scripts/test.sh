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
scripts/embed-kernels.sh --check

echo "== swift format lint"
swift format lint --strict --recursive Package.swift Sources Tests benchmarks

echo "== build"
start=$(date +%s)
set +e
swift build --build-tests >/tmp/kneeforce-build.log 2>&1
build_status=$?
set -e
grep -E "warning:|error:|Build" /tmp/kneeforce-build.log | grep -v "^\[" || true
if [ "$build_status" -ne 0 ]; then
  tail -40 /tmp/kneeforce-build.log >&2
  echo "build failed" >&2
  exit "$build_status"
fi
if grep -E "^/.*(Sources|Tests)/.*warning:" /tmp/kneeforce-build.log | grep -v "/\.build" >/dev/null; then
  echo "compiler warnings in our code (see above)" >&2
  exit 1
fi
echo "build: $(( $(date +%s) - start )) s"

echo "== tests"
start=$(date +%s)
# The suite is XCTest; Swift Testing's own runner would only report that it found nothing.
set +e
swift test --skip-build --disable-swift-testing 2>&1 | tee /tmp/kneeforce-test.log
status=${PIPESTATUS[0]}
set -e
echo "tests: $(( $(date +%s) - start )) s"
# "Executed N tests, with F failures" or "..., with S tests skipped and F failures"
summary=$(grep -E "Executed [0-9]+ tests?, with ([0-9]+ tests? skipped and )?[0-9]+ failures?" \
  /tmp/kneeforce-test.log | tail -1)
executed=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failures=$(echo "$summary" | sed -E 's/.* ([0-9]+) failures?.*/\1/')
skipped=$(echo "$summary" | grep -oE "[0-9]+ tests? skipped" | grep -oE "^[0-9]+" || echo 0)
if [ -n "$summary" ]; then
  echo "$((executed - failures - skipped)) passed, $failures failed, $skipped skipped"
fi
exit "$status"
