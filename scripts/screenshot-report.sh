#!/usr/bin/env bash
# Renders a sweep report in headless Chromium (Debian's `chromium`, installed when missing)
# and writes a PNG of the whole page; also measures how long the page takes to open.
#
#   scripts/screenshot-report.sh OUT [PNG]     OUT: a sweep output folder with report.html
#   scripts/screenshot-report.sh --fixture DIR [PNG]
#       writes the 48-unit --lofo fixture of the report tests into DIR first (swift test) and
#       builds its report with `kneeforce report`.
#
# Not part of scripts/test.sh: it needs Chromium and takes ~10-30 s.
# Prints: page size, Chromium's navigation timings of the page (DOMContentLoaded, load,
# first contentful paint), and headless wall time of the page against an empty page.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--fixture" ]; then
  out=${2:?usage: $0 --fixture DIR [PNG]}
  png=${3:-$out/report.png}
  swift build --build-tests >/dev/null
  KNEEFORCE_REPORT_FIXTURE="$out" swift test --skip-build \
    --filter KneeForceReportTests.SweepReportTests/testLargeLOFOSweepPageStaysUnderFiveMegabytes \
    2>&1 | grep -E "large LOFO|Executed|error" || true
  "$(swift build --show-bin-path)/kneeforce" report "$out"
else
  out=${1:?usage: $0 OUT [PNG] | --fixture DIR [PNG]}
  png=${2:-$out/report.png}
fi
page="$out/report.html"
[ -f "$page" ] || { echo "no $page (run kneeforce report $out)" >&2; exit 1; }

if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing chromium (Debian)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

abs_page=$(cd "$(dirname "$page")" && pwd)/$(basename "$page")
flags=(--headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run
  --disable-extensions --disable-background-networking --user-data-dir="$(mktemp -d)")

echo "== page: $abs_page, $(stat -c %s "$page") bytes"

# A copy of the page with a probe appended (the report itself has no script): after load it
# writes the navigation timings into the DOM, which --dump-dom prints.
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
sed 's#</body>#<script>addEventListener("load",()=>setTimeout(()=>{const n=performance.getEntriesByType("navigation")[0];const p=performance.getEntriesByType("paint").find(e=>e.name==="first-contentful-paint");document.body.setAttribute("data-timing","dcl="+n.domContentLoadedEventEnd.toFixed(0)+"ms load="+n.loadEventEnd.toFixed(0)+"ms fcp="+(p?p.startTime.toFixed(0):"?")+"ms")},0))</script></body>#' \
  "$page" >"$probe_dir/report.html"
echo '<!DOCTYPE html><html><body>empty</body></html>' >"$probe_dir/empty.html"
timing=$(chromium "${flags[@]}" --virtual-time-budget=10000 --dump-dom \
  "file://$probe_dir/report.html" 2>/dev/null | grep -o 'data-timing="[^"]*"' || echo "?")
echo "== Chromium navigation timing: $timing"

t0=$(date +%s.%N)
chromium "${flags[@]}" --dump-dom "file://$probe_dir/empty.html" >/dev/null 2>&1
t1=$(date +%s.%N)
chromium "${flags[@]}" --dump-dom "file://$abs_page" >/dev/null 2>&1
t2=$(date +%s.%N)
echo "== headless wall time: empty page $(echo "$t1 - $t0" | bc) s, report $(echo "$t2 - $t1" | bc) s"

width=${WIDTH:-1300}
height=${HEIGHT:-4000}
chromium "${flags[@]}" --window-size="$width,$height" --screenshot="$png" "file://$abs_page" \
  2>/dev/null
echo "== wrote $png (${width}x${height})"
