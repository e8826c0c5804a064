"""An authoritative-only DNS server (dnslib, UDP and TCP on 127.0.0.1) for the tests.

Records live in a dict the test may change at run time; every query is logged as (name, type, transport) so a test
can assert which record types Envoy asked for. Unknown names get NXDOMAIN; a known name without records of the
asked type gets NOERROR with no answer (NODATA), as a real server would.
"""
import socket
import threading
import time

from dnslib import AAAA, QTYPE, RCODE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from .ports import free_port_on_all

DEFAULT_RECORDS = {
    "backend-a.test": {"A": ["127.0.0.1"]},
    "backend-b.test": {"A": ["127.0.0.2"]},
    "h2.test": {"A": ["127.0.0.1"]},
    "dual.test": {"A": ["127.0.0.1"], "AAAA": ["::1"]},
    "v4.test": {"A": ["127.0.0.1"]},
    "v6.test": {"AAAA": ["::1"]},
}


class _Resolver(BaseResolver):
    def __init__(self, owner):
        self.owner = owner

    def resolve(self, request, handler):
        reply = request.reply()
        qname = str(request.q.qname).rstrip(".").lower()
        qtype = QTYPE[request.q.qtype]
        transport = "tcp" if handler.protocol == "tcp" else "udp"
        with self.owner._lock:
            self.owner._queries.append((qname, qtype, transport, time.monotonic()))
            entry = self.owner._records.get(qname)
            entry = {k: list(v) for k, v in entry.items()} if entry is not None else None
            ttl = self.owner.ttl
        if entry is None:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for address in entry.get(qtype, []) if qtype in ("A", "AAAA") else []:
            rdata = A(address) if qtype == "A" else AAAA(address)
            reply.add_answer(RR(qname, getattr(QTYPE, qtype), rdata=rdata, ttl=ttl))
        return reply


class TestDNSServer:
    """`with TestDNSServer() as dns:` serves DEFAULT_RECORDS on dns.address (127.0.0.1, dns.port)."""

    __test__ = False  # not a pytest test class

    def __init__(self, records=None, ttl=1, host="127.0.0.1"):
        self.host = host
        self.ttl = ttl
        self._lock = threading.Lock()
        self._records = {k.lower(): {t: list(v) for t, v in r.items()} for k, r in (records or DEFAULT_RECORDS).items()}
        self._queries = []
        self._servers = []
        self.port = None

    # --- records -------------------------------------------------------------------------------------------
    def set(self, name, a=None, aaaa=None):
        """Create or replace `name` with the given A / AAAA lists (None or [] = no records of that type)."""
        with self._lock:
            self._records[name.lower()] = {"A": list(a or []), "AAAA": list(aaaa or [])}

    def remove(self, name):
        with self._lock:
            self._records.pop(name.lower(), None)

    # --- query log -----------------------------------------------------------------------------------------
    def mark(self):
        """An index into the query log; pass it to queries(since=...) to see only later queries."""
        with self._lock:
            return len(self._queries)

    def queries(self, name=None, since=0):
        """[(name, type, transport)] seen so far (optionally for one name, and only after mark `since`)."""
        with self._lock:
            log = self._queries[since:]
        return [(n, t, tr) for n, t, tr, _ in log if name is None or n == name.lower()]

    def query_types(self, name, since=0):
        return {t for _, t, _ in self.queries(name, since)}

    # --- lifecycle -----------------------------------------------------------------------------------------
    @property
    def address(self):
        return f"{self.host}:{self.port}"

    def start(self):
        self.port = free_port_on_all([self.host], kinds=(socket.SOCK_DGRAM, socket.SOCK_STREAM))
        quiet = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
        resolver = _Resolver(self)
        for tcp in (False, True):
            server = DNSServer(resolver, address=self.host, port=self.port, tcp=tcp, logger=quiet)
            server.server.daemon_threads = True
            server.start_thread()
            self._servers.append(server)
        return self

    def stop(self):
        for server in self._servers:
            server.stop()
            server.server.server_close()
        self._servers = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
