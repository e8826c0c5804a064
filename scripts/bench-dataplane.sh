#!/usr/bin/env bash
# Data-plane benchmark: time from an API write to Envoy serving the change with 1, 1,000 and 10,000 Backends
# present, and the control plane's translation time. Release build, real Envoy 1.40, loopback only.
# Prints a table; writes dataplane-results.json. Arguments go to the benchmark (e.g. --sizes 1,100 --samples 5).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh >/dev/null
if [ -z "${APOXY_BINARY:-}" ]; then
    swift build -c release --product apoxy
    APOXY_BINARY="$(swift build -c release --show-bin-path)/apoxy"
fi
export APOXY_BINARY
out="$PWD/dataplane-results.json"
cd tests-python
PYTHONDONTWRITEBYTECODE=1 ../.venv/bin/python -m dataplane.bench --output "$out" "$@"
