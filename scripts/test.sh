#!/usr/bin/env bash
# The whole test suite: installs every tool it needs, builds, and runs unit, storage, HTTP integration,
# process (restart, kill -9), kubectl, translator golden and xDS tests, then the Python suites (tests-python/, pytest),
# among them the data plane end to end with a real Envoy. Missing tools fail the run; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-tools.sh
swift build --build-tests
APOXY_BINARY="$(swift build --show-bin-path)/apoxy"
export APOXY_BINARY
export APOXY_KUBECTL="$PWD/.venv/bin/kubectl"
export APOXY_REQUIRE_TOOLS=1
swift test --skip-build "$@"
# The benchmark in its quick configuration, so it cannot rot (no timing assertions; see BENCHMARKS.md).
"$(swift build --show-bin-path)/apoxy-bench" --quick --output "$(swift build --show-bin-path)/benchmark-quick.json"
# Python: the official client's DynamicClient, the Envoy proto subset against upstream, the data-plane fixtures
# against a static Envoy, and the data plane end to end through `apoxy dev` (real Envoy 1.40).
PYTHONDONTWRITEBYTECODE=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests-python
# The data-plane benchmark in a quick configuration (seconds), for the same reason as above.
(cd tests-python && PYTHONDONTWRITEBYTECODE=1 ../.venv/bin/python -m dataplane.bench --sizes 1,50 --samples 3 \
    --output "$(cd .. && swift build --show-bin-path)/dataplane-quick.json")
