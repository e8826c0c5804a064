"""`apoxy dev` as a subprocess, and kubectl against its API server.

Contract (what the tests assume of the command):

    apoxy dev --data-dir DIR --api-listen 127.0.0.1:PORT --xds-listen 127.0.0.1:PORT --proxy-listen 127.0.0.1:PORT
              --envoy-admin 127.0.0.1:PORT [--envoy PATH] [--dns-resolver 127.0.0.1:PORT] [--ca-file FILE]
              [--log-level debug] [--insecure]

runs the API server (SQLite in DIR), the ADS control plane and Envoy (a child process); SIGINT/SIGTERM stop all three
with exit code 0. Without --insecure (the default, and what the tests use unless they measure something else) the API
is HTTPS with RBAC, DIR/kubeconfig is the admin's, DIR/pki holds the CA, and Envoy reaches ADS over mutual TLS.
"""
import ssl
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from .envoy import ROOT, EnvoyAdmin, find_envoy, log_tail
from .httpcheck import ProxyResponse, curl_proxy, servers_reached, wait_until  # noqa: F401 (re-exported)
from .ports import free_port

DEFAULT_APOXY = os.path.join(ROOT, ".build", "debug", "apoxy")


def find_apoxy():
    return os.environ.get("APOXY_BINARY", DEFAULT_APOXY)


def find_kubectl():
    return os.environ.get("APOXY_KUBECTL") or os.path.join(ROOT, ".venv", "bin", "kubectl")


def descendants(pid):
    """PIDs of all live descendants of `pid` (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name (field 2) may contain spaces; fields after the last ')' are fixed
        fields = stat.rsplit(")", 1)[1].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def process_alive(pid):
    """True when `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def process_exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


class Kubectl:
    """kubectl with a kubeconfig: the one given (`apoxy dev`'s own), else a generated one pointing at the API server
    over plain http with no credentials."""

    def __init__(self, server, workdir, binary=None, kubeconfig=None):
        self.binary = binary or find_kubectl()
        if kubeconfig:
            self.kubeconfig = kubeconfig
            return
        self.kubeconfig = os.path.join(workdir, "kubeconfig")
        with open(self.kubeconfig, "w") as f:
            json.dump({
                "apiVersion": "v1", "kind": "Config",
                "clusters": [{"name": "apoxy", "cluster": {"server": server}}],
                "users": [{"name": "anonymous", "user": {}}],
                "contexts": [{"name": "apoxy", "context": {"cluster": "apoxy", "user": "anonymous"}}],
                "current-context": "apoxy",
            }, f)

    def run(self, *args, input=None, check=True, timeout=30):
        proc = subprocess.run([self.binary, "--kubeconfig", self.kubeconfig, *args], input=input,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
        return proc

    def apply(self, yaml_text):
        return self.run("apply", "-f", "-", input=yaml_text).stdout

    def delete(self, kind, name, check=True):
        return self.run("delete", kind, name, "--ignore-not-found", "--wait=false", check=check).stdout

    def get(self, kind, name):
        """The object as a dict, or None when it does not exist."""
        proc = self.run("get", kind, name, "-o", "json", check=False)
        if proc.returncode != 0:
            if "NotFound" in proc.stderr or "not found" in proc.stderr:
                return None
            raise AssertionError(f"kubectl get {kind} {name}: {proc.stderr}")
        return json.loads(proc.stdout)

    def patch(self, kind, name, patch, patch_type="merge"):
        return json.loads(self.run("patch", kind, name, "--type", patch_type, "-p", json.dumps(patch),
                                   "-o", "json").stdout)


class ApoxyDev:
    """Starts `apoxy dev` with free loopback ports, waits for the API server (/readyz) and Envoy (/ready LIVE)."""

    def __init__(self, workdir=None, dns_resolver=None, ca_file=None, binary=None, envoy=None, log_level="debug",
                 extra_args=(), secure=True):
        self.binary = binary or find_apoxy()
        self.envoy = envoy or find_envoy()
        self.workdir = workdir or tempfile.mkdtemp(prefix="apoxy-dev-")
        os.makedirs(self.workdir, exist_ok=True)
        self.data_dir = os.path.join(self.workdir, "data")
        self.log_path = os.path.join(self.workdir, "apoxy-dev.log")
        self.api_port = free_port()
        self.xds_port = free_port()
        self.proxy_port = free_port()
        self.admin_port = free_port()
        self.dns_resolver = dns_resolver
        self.ca_file = ca_file
        self.log_level = log_level
        self.extra_args = list(extra_args)
        self.secure = secure
        self.proc = None
        self.started_envoy_pids = []
        self.api = f"{'https' if secure else 'http'}://127.0.0.1:{self.api_port}"
        self.admin = EnvoyAdmin(f"127.0.0.1:{self.admin_port}")
        self.proxy = ("127.0.0.1", self.proxy_port)
        self.kubeconfig = os.path.join(self.data_dir, "kubeconfig") if secure else None
        self.ca_certificate = os.path.join(self.data_dir, "pki", "ca.crt") if secure else None
        self.kubectl = Kubectl(self.api, self.workdir, kubeconfig=self.kubeconfig)

    def command(self):
        cmd = [self.binary, "dev", "--data-dir", self.data_dir,
               "--api-listen", f"127.0.0.1:{self.api_port}", "--xds-listen", f"127.0.0.1:{self.xds_port}",
               "--proxy-listen", f"127.0.0.1:{self.proxy_port}", "--envoy-admin", f"127.0.0.1:{self.admin_port}"]
        if self.envoy:
            cmd += ["--envoy", self.envoy]
        if self.dns_resolver:
            cmd += ["--dns-resolver", self.dns_resolver]
        if self.ca_file:
            cmd += ["--ca-file", self.ca_file]
        if self.log_level:
            cmd += ["--log-level", self.log_level]
        if not self.secure:
            cmd += ["--insecure"]
        return cmd + self.extra_args

    def start(self, timeout=30):
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError(f"apoxy binary not found or not executable: {self.binary} (set APOXY_BINARY)")
        with open(self.log_path, "ab") as log:
            log.write(("$ " + " ".join(self.command()) + "\n").encode())
            log.flush()
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not (self._api_ready() and self.admin.ready() == "LIVE"):
            if self.proc.poll() is not None:
                raise RuntimeError(f"apoxy dev exited early with {self.proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"apoxy dev not ready within {timeout}s (API {self.api}, admin "
                                   f"{self.admin.base} /ready={self.admin.ready()!r}):\n{self.log_tail()}")
            time.sleep(0.1)
        self.started_envoy_pids = self.envoy_pids()
        return self

    def _api_ready(self):
        """/readyz answers 200 (anonymous, as kube's public-info-viewer allows) and, when secure, the admin
        kubeconfig has been written."""
        context = None
        if self.secure:
            if not (os.path.exists(self.kubeconfig) and os.path.exists(self.ca_certificate)):
                return False
            context = ssl.create_default_context(cafile=self.ca_certificate)
        try:
            with urllib.request.urlopen(self.api + "/readyz", timeout=1, context=context) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError, ssl.SSLError):
            return False

    def envoy_pids(self):
        """Live descendant processes of `apoxy dev` that are Envoy (by executable name)."""
        if self.proc is None:
            return []
        return [p for p in descendants(self.proc.pid) if "envoy" in os.path.basename(process_exe(p))]

    def interrupt(self, timeout=10):
        """SIGINT, as Ctrl-C would; returns (exit code or None if still running after `timeout`, seconds taken)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        return code, time.monotonic() - started

    def stop(self):
        """SIGTERM, then SIGKILL after 10 s; also kills Envoy children it left behind (so tests never leak)."""
        if self.proc is None:
            return
        children = descendants(self.proc.pid) if self.proc.poll() is None else []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in set(children) | set(self.started_envoy_pids):
            if process_alive(pid) and (pid in children or "envoy" in os.path.basename(process_exe(pid))):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass

    def log_tail(self, n=80):
        return log_tail(self.log_path, n)

    def pytest_failure_sections(self):
        return [("apoxy dev log", self.log_tail(200))]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
