"""Upstream HTTP servers that answer every request with JSON describing what they saw:

    {"server": <name>, "http_version": "1.1" | "2", "scheme": "http" | "https", "host": <Host or :authority>,
     "path": <path with query>, "method": <method>, "sni": <SNI the server saw, or null>}

* HTTPUpstream: stdlib ThreadingHTTPServer (HTTP/1.1) in a thread, on 127.0.0.1 / 127.0.0.2 / ::1, optionally TLS
  with a given certificate; the SNI of each connection is recorded through SSLContext.sni_callback, and failed
  TLS handshakes are counted (`handshake_errors`).
* HypercornUpstream: hypercorn (ASGI) as a subprocess of the venv python, for h2 over TLS (ALPN h2) and h2c (prior
  knowledge on a cleartext port). Its `sni` is the last SNI the process saw (hypercorn does not expose it per
  request).

Every server keeps the list of requests it answered (`requests`, for hypercorn read from its log file).
"""
import http.server
import json
import os
import socket
import ssl
import subprocess
import sys
import threading

from .ports import wait_for_port

ASGI_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "asgi_server.py")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        upstream = self.server.upstream
        record = {
            "server": upstream.name,
            "http_version": self.request_version.removeprefix("HTTP/"),  # "1.1", as ASGI reports it
            "scheme": "https" if upstream.tls else "http",
            "host": self.headers.get("Host"),
            "path": self.path,
            "method": self.command,
            "sni": getattr(self.connection, "apoxy_sni", None),
        }
        upstream._record(record)
        body = json.dumps(record).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _answer

    def log_message(self, fmt, *args):  # keep pytest output clean
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, upstream):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.upstream = upstream
        super().__init__(address, _Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, not in the accept loop.
        ctx = self.upstream.ssl_context
        if ctx is None:
            return super().finish_request(request, client_address)
        try:
            tls = ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.upstream._handshake_error(e)
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass


class HTTPUpstream:
    """`HTTPUpstream("plain-a", "127.0.0.1", port).start()`; with cert=Leaf for TLS (HTTP/1.1 ALPN)."""

    def __init__(self, name, host, port, cert=None):
        self.name = name
        self.host = host
        self.port = port
        self.tls = cert is not None
        self.ssl_context = None
        if cert is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert.cert, cert.key)
            ctx.set_alpn_protocols(["http/1.1"])
            ctx.sni_callback = self._sni
            self.ssl_context = ctx
        self._lock = threading.Lock()
        self.requests = []
        self.sni_seen = []
        self.handshake_errors = []
        self._server = None
        self._thread = None

    def _sni(self, sslobj, server_name, ctx):
        sslobj.apoxy_sni = server_name  # the SSLSocket (we wrap sockets, so this is the socket itself)
        with self._lock:
            self.sni_seen.append(server_name)
        return None

    def _record(self, record):
        with self._lock:
            self.requests.append(record)

    def _handshake_error(self, error):
        with self._lock:
            self.handshake_errors.append(repr(error))

    def start(self):
        self._server = _Server((self.host, self.port), self)
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"upstream-{self.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def authority(self):
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def __repr__(self):
        return f"HTTPUpstream({self.name} {self.authority}{' tls' if self.tls else ''})"


class HypercornUpstream:
    """hypercorn serving asgi_server.py: h2 over TLS when cert is given (ALPN h2, http/1.1), else cleartext that
    accepts HTTP/1.1 and HTTP/2 with prior knowledge (h2c)."""

    def __init__(self, name, host, port, workdir, cert=None):
        self.name = name
        self.host = host
        self.port = port
        self.cert = cert
        self.tls = cert is not None
        self.log_path = os.path.join(workdir, f"hypercorn-{name}.log")
        self.requests_path = os.path.join(workdir, f"hypercorn-{name}.requests.jsonl")
        self._proc = None

    def start(self, timeout=15):
        cmd = [sys.executable, ASGI_SERVER, "--name", self.name, "--bind", self.authority,
               "--requests-file", self.requests_path]
        if self.cert is not None:
            cmd += ["--certfile", self.cert.cert, "--keyfile", self.cert.key]
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(self.host, self.port, timeout=timeout, proc=self._proc)
        except Exception:
            self.stop()
            raise RuntimeError(f"hypercorn {self.name} did not start:\n{self.log()}")
        return self

    @property
    def requests(self):
        try:
            with open(self.requests_path) as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    @property
    def authority(self):
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def __repr__(self):
        return f"HypercornUpstream({self.name} {self.authority}{' h2' if self.tls else ' h2c'})"
