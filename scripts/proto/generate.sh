#!/usr/bin/env bash
# Regenerates Protos/ and the generated Swift from upstream: Sources/EnvoyAPI/Generated/ from PyPI xds-protos'
# descriptors, Sources/EtcdAPI/Generated/ from etcd's own .proto files (Debian golang-etcd-server-dev).
# Builds protoc-gen-swift 1.39.0 once (about 3 minutes) from the local package mirror into .build-protoc-gen-swift.
# CI never runs this: the generated Swift is committed, and tests-python/test_proto_subset.py and
# tests-python/test_etcd_proto_subset.py check it is current.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/install-tools.sh >/dev/null
PLUGIN_SRC=.build-protoc-gen-swift/swift-protobuf
if [ ! -x "$PLUGIN_SRC/.build/release/protoc-gen-swift" ]; then
    rm -rf "$PLUGIN_SRC"
    git clone -q "${SWIFT_PROTOBUF_GIT:-https://github.com/apple/swift-protobuf.git}" "$PLUGIN_SRC"
    git -C "$PLUGIN_SRC" checkout -q 1.39.0
    (cd "$PLUGIN_SRC" && swift build -c release --product protoc-gen-swift)
fi
.venv/bin/python scripts/proto/generate.py --swift "$PLUGIN_SRC/.build/release/protoc-gen-swift"
.venv/bin/python scripts/proto/generate.py --etcd --swift "$PLUGIN_SRC/.build/release/protoc-gen-swift"
