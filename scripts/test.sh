#!/usr/bin/env bash
# The whole test suite: installs every tool it needs, builds, and runs unit, storage, HTTP integration,
# process (restart, kill -9) and kubectl tests, then the official Python client's DynamicClient end-to-end test
# (tests-python/, pytest). Missing tools fail the run; nothing is skipped.
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
PYTHONDONTWRITEBYTECODE=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests-python
