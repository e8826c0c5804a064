#!/usr/bin/env bash
# The full benchmark: release build, then apoxy-bench (starts its own server on loopback with a fresh data
# directory), then the chart. Prints the ratio table; writes benchmark-results.json and docs/benchmark.png.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh >/dev/null
if ! .venv/bin/python -c 'import matplotlib' 2>/dev/null; then
    .venv/bin/pip install -q --disable-pip-version-check "matplotlib==3.10.8"
fi
swift build -c release --product apoxy
swift build -c release --product apoxy-bench
"$(swift build -c release --show-bin-path)/apoxy-bench" --output benchmark-results.json "$@"
mkdir -p docs
.venv/bin/python scripts/bench-chart.py benchmark-results.json docs/benchmark.png
echo "chart: docs/benchmark.png"
