#!/usr/bin/env bash
# Screenshot of a run's report.html in headless Chromium (Debian's `chromium`), for docs/.
# Usage: scripts/report_screenshot.sh RUN_DIR OUT.png [FRAGMENT] [WIDTHxHEIGHT]
#   FRAGMENT sets the page's state, e.g. "council=886" (default) or "sort=la_name&dir=asc".
set -euo pipefail
run_dir=$(cd "$1" && pwd)
out=$2
fragment=${3:-council=886}
size=${4:-1280x2000}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --hide-scrollbars --user-data-dir="$profile" --virtual-time-budget=5000 \
    --window-size="${size/x/,}" --screenshot="$out" "file://$run_dir/report.html#$fragment"
