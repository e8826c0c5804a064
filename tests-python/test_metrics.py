"""Metrics, access log and JSON logs of the real `apoxy server`.

A fresh server (SQLite) gets a scripted set of requests; its `/metrics` is parsed with prometheus-client's own text
parser (which must accept the whole exposition) and the counters and histograms must hold exactly the expected
samples. Its `--log-format json` log must be JSON lines with one `HTTP` access line per request. A second server
with a token file and RBAC serves `/metrics` to kube's `system:monitoring` group only.
"""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest
from prometheus_samples import samples, value

DEFAULT_BINARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "debug", "apoxy")
BACKENDS = "/apis/core.apoxy.dev/v1alpha2/backends"


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, workdir, extra=()):
        binary = os.environ.get("APOXY_BINARY", DEFAULT_BINARY)
        if not os.access(binary, os.X_OK):
            pytest.fail(f"apoxy binary not found: {binary} (set APOXY_BINARY)")
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(workdir, f"server-{self.port}.log")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [binary, "server", "--listen", f"127.0.0.1:{self.port}", "--data-dir", os.path.join(workdir, str(self.port)),
                 "--log-format", "json", *extra],
                stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 15
        while True:
            if self.proc.poll() is not None:
                pytest.fail(f"apoxy exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"apoxy not listening within 15s:\n{self.log()}")
            time.sleep(0.05)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def request(self, method, path, body=None, content_type="application/json", token=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def workdir():
    with tempfile.TemporaryDirectory(prefix="apoxy-metrics-") as path:
        yield path


def backend(name):
    return {"apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "metadata": {"name": name},
            "spec": {"endpoints": [{"ip": "10.0.0.1"}], "protocol": "tls"}}


def request_labels(verb, scope, code=None):
    labels = dict(verb=verb, dry_run="", group="core.apoxy.dev", version="v1alpha2", resource="backends",
                  subresource="", scope=scope, component="apiserver")
    if code is not None:
        labels["code"] = str(code)
    return labels


def test_scripted_requests_give_exact_samples_and_json_access_log(workdir):
    server = Server(workdir)
    try:
        for name in ("m-a", "m-b", "m-c"):
            assert server.request("POST", BACKENDS, backend(name))[0] == 201
        assert server.request("POST", BACKENDS, backend("m-a"))[0] == 409
        assert server.request("GET", BACKENDS + "/m-a")[0] == 200
        assert server.request("GET", BACKENDS + "/m-b")[0] == 200
        assert server.request("GET", BACKENDS + "/missing")[0] == 404
        assert server.request("GET", BACKENDS)[0] == 200
        assert server.request(
            "PATCH", BACKENDS + "/m-c?fieldManager=test", {"apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend",
                                                             "metadata": {"name": "m-c", "labels": {"a": "b"}}},
            content_type="application/apply-patch+yaml")[0] == 200
        assert server.request("POST", BACKENDS + "?dryRun=All", backend("m-dry"))[0] == 201
        assert server.request("DELETE", BACKENDS + "/m-b")[0] == 200
        # A watch from now with a timeout: its ADDED events for the two remaining objects, then the end.
        status, body = server.request("GET", BACKENDS + "?watch=true&timeoutSeconds=1")
        assert status == 200
        assert [json.loads(line)["type"] for line in body.splitlines()] == ["ADDED", "ADDED"]

        deadline = time.monotonic() + 10
        while True:
            status, text = server.request("GET", "/metrics")
            assert status == 200
            all_samples = samples(text.decode())
            # The watch is recorded when its stream ends, just after the client read the end.
            if value(all_samples, "apiserver_request_total", **request_labels("WATCH", "cluster", 200)) == 1:
                break
            assert time.monotonic() < deadline, "the watch never appeared in apiserver_request_total"
            time.sleep(0.05)

        expected_counts = {
            ("POST", "cluster", 201): 3, ("POST", "cluster", 409): 1, ("GET", "resource", 200): 2,
            ("GET", "resource", 404): 1, ("LIST", "cluster", 200): 1, ("APPLY", "resource", 200): 1,
            ("DELETE", "resource", 200): 1, ("WATCH", "cluster", 200): 1,
        }
        for (verb, scope, code), count in expected_counts.items():
            labels = request_labels(verb, scope, code)
            assert value(all_samples, "apiserver_request_total", **labels) == count, (verb, scope, code)
        dry = dict(request_labels("POST", "cluster", 201), dry_run="All")
        assert value(all_samples, "apiserver_request_total", **dry) == 1
        # Only these requests reached the Backend collection (each verb/scope/code counted above and the dry run).
        assert value(all_samples, "apiserver_request_total", resource="backends") == sum(expected_counts.values()) + 1
        assert value(all_samples, "apiserver_request_duration_seconds_count", **request_labels("POST", "cluster")) == 4
        assert value(all_samples, "apiserver_request_duration_seconds_bucket",
                     **request_labels("GET", "resource"), le="+Inf") == 3
        assert value(all_samples, "apiserver_request_duration_seconds_sum", **request_labels("GET", "resource")) > 0
        assert value(all_samples, "apiserver_storage_objects", resource="backends.core.apoxy.dev") == 2
        assert value(all_samples, "apiserver_watch_events_total", kind="Backend") == 2
        assert value(all_samples, "apiserver_registered_watchers", kind="Backend") == 0
        assert value(all_samples, "apiserver_current_inflight_requests", request_kind="readOnly") == 1  # the scrape
        assert value(all_samples, "apiserver_current_inflight_requests", request_kind="mutating") == 0
        commits = value(all_samples, "apoxy_storage_commit_duration_seconds_count")
        assert commits >= 1
        assert value(all_samples, "apoxy_storage_commit_batch_size_count") == commits
        # Three creates, the apply and the delete reached storage; the duplicate create may have too.
        assert value(all_samples, "apoxy_storage_commit_batch_size_sum") in (5, 6)

        lines = [json.loads(line) for line in server.log().splitlines() if line.strip()]
        assert all("ts" in line and "msg" in line for line in lines)
        access = [line for line in lines if line["msg"] == "HTTP" and line["URI"].startswith(BACKENDS)]
        assert sorted((line["verb"], line["resp"]) for line in access) == sorted(
            [("POST", "201")] * 4 + [("POST", "409"), ("GET", "200"), ("GET", "200"), ("GET", "404"), ("LIST", "200"),
             ("APPLY", "200"), ("DELETE", "200"), ("WATCH", "200")])
        assert all(line["user"] == "system:anonymous" and line["srcIP"] == "127.0.0.1" for line in access)
    finally:
        server.stop()


def test_metrics_off_and_rbac_for_scrapers(workdir):
    tokens = os.path.join(workdir, "tokens.csv")
    with open(tokens, "w") as f:
        f.write('scraper-token,prometheus,1,"system:monitoring"\nplain-token,alice,2\n')
    server = Server(workdir, ["--token-auth-file", tokens, "--authorization-mode", "RBAC"])
    try:
        status, text = server.request("GET", "/metrics", token="scraper-token")
        assert status == 200
        assert value(samples(text.decode()), "apiserver_current_inflight_requests", request_kind="readOnly") == 1
        status, body = server.request("GET", "/metrics", token="plain-token")
        assert status == 403
        assert json.loads(body)["message"] == 'forbidden: User "alice" cannot get path "/metrics"'
    finally:
        server.stop()
    off = Server(workdir, ["--disable-metrics"])
    try:
        assert off.request("GET", "/metrics")[0] == 404
        assert off.request("GET", BACKENDS)[0] == 200
    finally:
        off.stop()


def test_accept_yaml_answers_yaml_for_every_verb_but_watch(workdir):
    import yaml
    server = Server(workdir, ["--disable-metrics"])

    def call(method, path, body=None, accept="application/yaml"):
        req = urllib.request.Request(server.base + path, data=json.dumps(body).encode() if body else None, method=method)
        req.add_header("Accept", accept)
        if body:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.headers["Content-Type"], resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.headers["Content-Type"], err.read().decode()

    try:
        status, content_type, text = call("POST", BACKENDS, backend("y-a"))
        assert (status, content_type) == (201, "application/yaml")
        created = yaml.safe_load(text)
        assert created["metadata"]["name"] == "y-a" and created["spec"]["protocol"] == "tls"
        status, content_type, text = call("GET", BACKENDS + "/y-a")
        assert (status, content_type) == (200, "application/yaml") and text.endswith("\n")
        assert yaml.safe_load(text) == json.loads(call("GET", BACKENDS + "/y-a", accept="application/json")[2])
        status, _, text = call("GET", BACKENDS)
        assert yaml.safe_load(text)["kind"] == "BackendList"
        # Errors are Status documents in YAML too.
        status, content_type, text = call("GET", BACKENDS + "/missing")
        assert (status, content_type) == (404, "application/yaml")
        assert yaml.safe_load(text)["reason"] == "NotFound"
        # JSON first in the client's order wins; a watch cannot be YAML.
        assert call("GET", BACKENDS + "/y-a", accept="application/json, application/yaml")[1] == "application/json"
        status, _, text = call("GET", BACKENDS + "?watch=true&timeoutSeconds=1")
        assert status == 406 and json.loads(text)["reason"] == "NotAcceptable"
    finally:
        server.stop()
