"""kopf (PyPI, pinned in scripts/install-tools.sh) runs an operator on Backends against a real `apoxy server`,
unchanged: its create, update and delete handlers fire, its patches of the object and of /status land, its
finalizer holds a delete until the delete handler ran, and the Events it records are listed by `kubectl get events`
by field selectors.

kopf finds resources through discovery (`/api`, `/apis`), needs `v1` Namespaces and Events, and watches with
resourceVersion resumption; every step has a deadline, and a failure shows the operator's and the server's logs.
"""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from dataplane.httpcheck import wait_until
from test_dynamic_client import _log_tail, run_server

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
KUBECTL = os.environ.get("APOXY_KUBECTL", os.path.join(ROOT, ".venv", "bin", "kubectl"))
OPERATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kopf", "operator.py")


class Operator:
    """`kopf run` as a child process, with its log for failure reports."""

    def __init__(self, workdir, kubeconfig):
        self.log_path = os.path.join(workdir, "kopf.log")
        self.server_log = None
        env = dict(os.environ, KUBECONFIG=kubeconfig)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kopf", "run", "--standalone", "--all-namespaces", "--verbose", OPERATOR],
                stdout=log, stderr=subprocess.STDOUT, env=env)

    def pytest_failure_sections(self):
        yield "kopf log", _log_tail(self.log_path, 80)
        if self.server_log:
            yield "apoxy server log", _log_tail(self.server_log, 40)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def kopf_server():
    with run_server("sqlite") as running:
        yield running


@pytest.fixture(scope="module")
def kopf_stack(kopf_server):
    server = kopf_server
    kubeconfig = os.path.join(server["workdir"], "kopf-kubeconfig")
    with open(kubeconfig, "w") as f:
        f.write(
            "apiVersion: v1\nkind: Config\n"
            f"clusters: [{{name: apoxy, cluster: {{server: \"{server['base']}\"}}}}]\n"
            "users: [{name: anyone, user: {}}]\n"
            "contexts: [{name: apoxy, context: {cluster: apoxy, user: anyone}}]\n"
            "current-context: apoxy\n")
    operator = Operator(server["workdir"], kubeconfig)
    operator.server_log = server["log"]
    try:
        yield {"kubeconfig": kubeconfig, "operator": operator}
    finally:
        operator.stop()


def kubectl(stack, *args, stdin=None, check=True):
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", stack["kubeconfig"], *args], input=stdin, capture_output=True, text=True, timeout=30)
    if check:
        assert result.returncode == 0, f"kubectl {' '.join(args)}: {result.stderr}"
    return result


def backend_json(stack, name):
    result = kubectl(stack, "get", "backend", name, "-o", "json", check=False)
    return json.loads(result.stdout) if result.returncode == 0 else None


def events_for(stack, name):
    out = kubectl(stack, "get", "events", "-A", "-o", "json",
                  f"--field-selector=involvedObject.kind=Backend,involvedObject.name={name}").stdout
    return json.loads(out)["items"]


def test_kopf_handlers_fire_patch_status_finalize_and_record_events(kopf_stack, request):
    request.node.funcargs["kopf_operator"] = kopf_stack["operator"]  # its log in a failure report
    name = f"kopf-{os.getpid()}"
    manifest = (
        "apiVersion: core.apoxy.dev/v1alpha2\nkind: Backend\n"
        f"metadata: {{name: {name}}}\nspec: {{protocol: h2c, endpoints: [{{ip: 10.0.0.1}}]}}\n")
    kubectl(kopf_stack, "apply", "-f", "-", stdin=manifest)

    # on.create: the label (object patch), the condition (/status patch) and the finalizer all land.
    created = wait_until(lambda: (b := backend_json(kopf_stack, name))
        and b["metadata"].get("labels", {}).get("kopf-seen") == "created" and b, timeout=45, message="kopf's create handler")
    assert "kopf.example.apoxy.dev/finalizer" in created["metadata"]["finalizers"]
    reviewed = wait_until(lambda: [c for c in (backend_json(kopf_stack, name) or {}).get("status", {}).get(
            "conditions", []) if c["type"] == "Reviewed"], timeout=45, message="the status condition")
    assert reviewed[0]["reason"] == "Created", reviewed
    # kopf's own bookkeeping went to annotations (the schema keeps no unknown status members).
    assert any(k.startswith("kopf.zalando.org/") for k in created["metadata"].get("annotations", {})), created["metadata"]

    # The Event it recorded is in namespace default, as for every cluster-scoped object.
    event = wait_until(lambda: [e for e in events_for(kopf_stack, name) if e["reason"] == "KopfCreated"], timeout=45, message="kopf's Event")[0]
    assert event["metadata"]["namespace"] == "default"
    assert event["involvedObject"]["uid"] == created["metadata"]["uid"]
    assert event["source"]["component"] == "kopf-test"
    table = kubectl(kopf_stack, "get", "events", "-n", "default").stdout
    assert "KopfCreated" in table and f"backend/{name}" in table, table

    # on.update for a spec change.
    kubectl(kopf_stack, "patch", "backend", name, "--type=merge", "-p", '{"spec":{"protocol":"h2"}}')
    wait_until(lambda: (backend_json(kopf_stack, name) or {}).get("metadata", {}).get("labels", {}).get("kopf-seen") == "updated", timeout=45, message="kopf's update handler")
    wait_until(lambda: [e for e in events_for(kopf_stack, name) if e["reason"] == "KopfUpdated"], timeout=45, message="the update Event")
    # (`kubectl describe` would not show them, here as on kube: kopf sets involvedObject.namespace to "default" for a
    # cluster-scoped object, and describe looks for an empty one.)

    # Delete waits for the finalizer: the object goes only after on.delete ran and kopf removed it.
    kubectl(kopf_stack, "delete", "backend", name, "--wait=false")
    wait_until(lambda: backend_json(kopf_stack, name) is None, timeout=45, message="the object to go")
    assert [e for e in events_for(kopf_stack, name) if e["reason"] == "KopfDeleted"], events_for(kopf_stack, name)
