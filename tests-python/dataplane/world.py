"""The test world both test files use: the DNS server, the test CA and certificates, and every upstream server.

    w = World(workdir).start()   # ... w.stop()

Ports: plain servers plain-a 127.0.0.1:P / plain-b 127.0.0.2:P (same P), TLS servers tls-a 127.0.0.1:T (cert SAN
backend-a.test) / tls-b 127.0.0.2:T (SAN backend-b.test), dual-ipv4 127.0.0.1:D / dual-ipv6 [::1]:D, hypercorn h2
over TLS on 127.0.0.1:H2 (SAN h2.test) and h2c on 127.0.0.1:H2C.
"""
import os
import shutil

from . import certs, dns, upstreams
from .ports import free_port, free_port_on_all


class World:
    def __init__(self, workdir):
        self.workdir = workdir
        self.dns = dns.TestDNSServer()
        self.servers = {}
        self.ca = None
        self.bundle = None
        self.leaves = {}

    def start(self):
        try:
            self.dns.start()
            self.ca = certs.TestCA(os.path.join(self.workdir, "certs"))
            for name, sans in (("backend-a", ["backend-a.test"]), ("backend-b", ["backend-b.test"]),
                               ("h2", ["h2.test"])):
                self.leaves[name] = self.ca.issue(name, sans)
            self.bundle = self.ca.bundle()
            self.plain_port = free_port_on_all(["127.0.0.1", "127.0.0.2"])
            self.tls_port = free_port_on_all(["127.0.0.1", "127.0.0.2"])
            self.dual_port = free_port_on_all(["127.0.0.1", "::1"])
            self.h2_port = free_port()
            self.h2c_port = free_port()
            for s in (
                upstreams.HTTPUpstream("plain-a", "127.0.0.1", self.plain_port),
                upstreams.HTTPUpstream("plain-b", "127.0.0.2", self.plain_port),
                upstreams.HTTPUpstream("tls-a", "127.0.0.1", self.tls_port, cert=self.leaves["backend-a"]),
                upstreams.HTTPUpstream("tls-b", "127.0.0.2", self.tls_port, cert=self.leaves["backend-b"]),
                upstreams.HTTPUpstream("dual-ipv4", "127.0.0.1", self.dual_port),
                upstreams.HTTPUpstream("dual-ipv6", "::1", self.dual_port),
                upstreams.HypercornUpstream("h2", "127.0.0.1", self.h2_port, self.workdir, cert=self.leaves["h2"]),
                upstreams.HypercornUpstream("h2c", "127.0.0.1", self.h2c_port, self.workdir),
            ):
                self.servers[s.name] = s.start()
        except Exception:
            self.stop()
            raise
        return self

    def __getitem__(self, name):
        return self.servers[name]

    @property
    def dns_address(self):
        return self.dns.address

    @property
    def dns_hostport(self):
        return (self.dns.host, self.dns.port)

    def stop(self):
        for s in self.servers.values():
            s.stop()
        self.servers = {}
        self.dns.stop()

    @staticmethod
    def tools_present():
        """(ok, what is missing)."""
        missing = [t for t in ("openssl",) if shutil.which(t) is None]
        for module in ("dnslib", "hypercorn"):
            try:
                __import__(module)
            except ImportError:
                missing.append(module)
        return not missing, missing
