"""Fuzzing in CI: schemathesis (PyPI) generates requests from the server's own published OpenAPI v3 documents, about
30 s per API group, and the run must find zero server errors (`--checks kube_not_a_server_error`, from
kube_fuzz_checks.py: schemathesis's not_a_server_error, no 5xx and no dropped connection, except kube's own 504 for a
resourceVersion newer than the store). The server must still answer `/readyz` afterwards. One worker: with two,
CPython 3.11's AST compiler (which hypothesis calls to describe its strategies) raced between threads and failed the
run with a SystemError in schemathesis itself, not in the server.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from test_dynamic_client import DEFAULT_BINARY, _free_port, _log_tail

from kube_fuzz_checks import is_kube_too_large_resource_version

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
VENV_BIN = os.path.join(TESTS_DIR, "..", ".venv", "bin")
SECONDS_PER_GROUP = int(os.environ.get("APOXY_FUZZ_SECONDS", "30"))


@pytest.fixture(scope="module")
def fuzz_server():
    binary = os.environ.get("APOXY_BINARY", DEFAULT_BINARY)
    workdir = tempfile.mkdtemp(prefix="apoxy-fuzz-")
    log_path = os.path.join(workdir, "server.log")
    port = _free_port()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [binary, "server", "--listen", f"127.0.0.1:{port}", "--data-dir", os.path.join(workdir, "data")],
            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"apoxy did not start:\n{_log_tail(log_path)}")
            time.sleep(0.05)
    yield {"base": base, "workdir": workdir, "log": log_path}
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize("group", ["apis/core.apoxy.dev/v1alpha2", "apis/gateway.apoxy.dev/v1"])
def test_schemathesis_finds_no_server_error(fuzz_server, group):
    schemathesis = os.path.join(VENV_BIN, "schemathesis")
    assert os.access(schemathesis, os.X_OK), "schemathesis missing: scripts/install-tools.sh installs it"
    result = subprocess.run(
        [schemathesis, "run", f"{fuzz_server['base']}/openapi/v3/{group}", "--checks", "kube_not_a_server_error",
         "--max-time", str(SECONDS_PER_GROUP), "--workers", "1", "--seed", "20261204", "--no-color"],
        cwd=fuzz_server["workdir"], capture_output=True, text=True, timeout=SECONDS_PER_GROUP + 120,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "kube_fuzz_checks",
             "PYTHONPATH": os.pathsep.join(filter(None, [TESTS_DIR, os.environ.get("PYTHONPATH")]))})
    summary = result.stdout[-3000:]
    assert result.returncode == 0, f"schemathesis found failures:\n{summary}\n{result.stderr[-2000:]}\n{_log_tail(fuzz_server['log'])}"
    assert " passed" in summary and "generated" in summary, summary
    with urllib.request.urlopen(fuzz_server["base"] + "/readyz", timeout=5) as resp:
        assert resp.status == 200


def test_too_large_resource_version_is_the_one_server_error_allowed(fuzz_server):
    """The server's real answer passes the check; any other 5xx, or a 504 without its markers, does not."""
    url = fuzz_server["base"] + "/apis/core.apoxy.dev/v1alpha2/backends?resourceVersion=999999"
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(url, timeout=10)
    body = raised.value.read()
    assert raised.value.code == 504, body
    assert is_kube_too_large_resource_version(504, body, url)
    assert not is_kube_too_large_resource_version(500, body, url)
    assert not is_kube_too_large_resource_version(504, body, url.split("?")[0])
    assert not is_kube_too_large_resource_version(504, body.replace(b"Too large", b"Something"), url)
    assert not is_kube_too_large_resource_version(504, b"upstream timed out", url)
    assert not is_kube_too_large_resource_version(503, body, url)
