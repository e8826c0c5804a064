#!/usr/bin/env bash
# The whole test suite: installs every tool it needs, builds, and runs unit, storage, HTTP integration,
# process (restart, kill -9), kubectl, translator golden and xDS tests, then the Python suites (tests-python/, pytest),
# among them the data plane end to end with a real Envoy. Missing tools fail the run; nothing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every stage has its own time limit and says which one it passed: a hung stage fails the run, it never stalls CI.
stage() {
    local name="$1" minutes="$2"
    shift 2
    local status=0
    timeout --kill-after=30s "${minutes}m" "$@" || status=$?
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        echo "test.sh: stage '$name' passed its limit of $minutes minutes and was stopped" >&2
    fi
    return "$status"
}

stage "install tools" 20 scripts/install-tools.sh
# Formatting (swift-format from the toolchain, settings in .swift-format): `swift format format -i -r Sources Tests
# Package.swift` fixes what this reports.
stage "format" 5 swift format lint --strict -r Sources Tests Package.swift
stage "build" 45 swift build --build-tests
APOXY_BINARY="$(swift build --show-bin-path)/apoxy"
export APOXY_BINARY
export APOXY_KUBECTL="$PWD/.venv/bin/kubectl"
export APOXY_REQUIRE_TOOLS=1
export PYTHONDONTWRITEBYTECODE=1
stage "swift tests" 30 swift test --skip-build "$@"
# The benchmark in its quick configuration, so it cannot rot (no timing assertions; see BENCHMARKS.md).
stage "quick benchmark" 10 "$(swift build --show-bin-path)/apoxy-bench" --quick --output "$(swift build --show-bin-path)/benchmark-quick.json"
# Python: the official client's DynamicClient, the Envoy proto subset against upstream, the data-plane fixtures
# against a static Envoy, and the data plane end to end through `apoxy dev` (real Envoy 1.40).
stage "python tests" 25 .venv/bin/python -m pytest -q -p no:cacheprovider tests-python
# The data-plane benchmark in a quick configuration (seconds), for the same reason as above.
(cd tests-python && stage "data-plane benchmark" 10 ../.venv/bin/python -m dataplane.bench --sizes 1,50 --samples 3 \
    --output "$(cd .. && swift build --show-bin-path)/dataplane-quick.json")
