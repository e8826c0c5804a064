"""The data-plane fixtures, proven against a real Envoy 1.40 with static bootstraps (no control plane involved).

The bootstraps are the reference ones (shared/reference/envoy/tested-bootstraps) rebuilt with this run's ports and
paths. They show that the DNS server, certificates and upstream servers behave as test_dataplane.py relies on, and pin
Envoy behaviours the control plane has to honour (Host port matching, DFP taking host:port from Host).
"""
import os
import socket
import ssl
import http.client
import json

import pytest

from dataplane.tools import require, tools_required

try:
    from dnslib import DNSRecord, QTYPE, RCODE

    from dataplane import bootstraps as bs
    from dataplane.envoy import StaticEnvoy, find_envoy
    from dataplane.httpcheck import curl_proxy, servers_reached, wait_until
    from dataplane.ports import free_port
    from dataplane.world import World
except ImportError as e:  # dnslib / hypercorn missing
    if tools_required():
        raise
    pytest.skip(f"data-plane test tools missing ({e}); run scripts/install-tools.sh", allow_module_level=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    ok, missing = World.tools_present()
    if not ok:
        require(None, ", ".join(missing))
    w = World(str(tmp_path_factory.mktemp("world"))).start()
    yield w
    w.stop()


class Envoys:
    """Starts static Envoys for one test and stops them after it; their logs go into failure reports."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.binary = require(find_envoy(), "envoy (.venv/bin/envoy or APOXY_ENVOY)")
        self.running = []

    def start(self, name, make_bootstrap):
        """make_bootstrap(admin_port, listen_port) -> bootstrap dict. Returns (envoy, (host, listen_port))."""
        admin_port, listen_port = free_port(), free_port()
        envoy = StaticEnvoy(make_bootstrap(admin_port, listen_port), self.workdir, name=name, binary=self.binary)
        validated = envoy.validate()
        assert validated.returncode == 0, f"envoy --mode validate: {validated.stdout}{validated.stderr}"
        self.running.append(envoy)
        envoy.start()
        return envoy, ("127.0.0.1", listen_port)

    def stop(self):
        for e in self.running:
            e.stop()

    def pytest_failure_sections(self):
        return [s for e in self.running for s in e.pytest_failure_sections()]


@pytest.fixture
def envoys(tmp_path):
    e = Envoys(str(tmp_path))
    yield e
    e.stop()


# --- the fixtures on their own ---------------------------------------------------------------------------------


def _dns_query(world, name, qtype, tcp):
    packet = DNSRecord.question(name, qtype).send(world.dns.host, world.dns.port, tcp=tcp, timeout=3)
    reply = DNSRecord.parse(packet)
    return reply.header.rcode, sorted(str(rr.rdata) for rr in reply.rr)


def test_dns_server_udp_tcp_nxdomain_runtime_changes_and_query_log(world):
    mark = world.dns.mark()
    assert _dns_query(world, "dual.test", "A", tcp=False) == (RCODE.NOERROR, ["127.0.0.1"])
    assert _dns_query(world, "dual.test", "AAAA", tcp=True) == (RCODE.NOERROR, ["::1"])
    assert _dns_query(world, "v4.test", "AAAA", tcp=False) == (RCODE.NOERROR, [])  # NODATA
    assert _dns_query(world, "nope.test", "A", tcp=False)[0] == RCODE.NXDOMAIN
    world.dns.set("runtime.test", a=["127.0.0.9"])
    try:
        assert _dns_query(world, "runtime.test", "A", tcp=False) == (RCODE.NOERROR, ["127.0.0.9"])
        world.dns.set("runtime.test", a=["127.0.0.8"], aaaa=["::1"])
        assert _dns_query(world, "runtime.test", "A", tcp=True) == (RCODE.NOERROR, ["127.0.0.8"])
    finally:
        world.dns.remove("runtime.test")
    assert _dns_query(world, "runtime.test", "A", tcp=False)[0] == RCODE.NXDOMAIN
    assert world.dns.queries(since=mark) == [
        ("dual.test", "A", "udp"), ("dual.test", "AAAA", "tcp"), ("v4.test", "AAAA", "udp"),
        ("nope.test", "A", "udp"), ("runtime.test", "A", "udp"), ("runtime.test", "A", "tcp"),
        ("runtime.test", "A", "udp"),
    ]


def test_upstreams_answer_directly(world):
    conn = http.client.HTTPConnection("127.0.0.2", world.plain_port, timeout=5)
    conn.request("GET", "/direct?x=1", headers={"Host": "direct.test"})
    body = json.loads(conn.getresponse().read())
    conn.close()
    assert body == {"server": "plain-b", "http_version": "1.1", "scheme": "http", "host": "direct.test",
                    "path": "/direct?x=1", "method": "GET", "sni": None}

    conn = http.client.HTTPConnection("::1", world.dual_port, timeout=5)
    conn.request("GET", "/")
    assert json.loads(conn.getresponse().read())["server"] == "dual-ipv6"
    conn.close()

    ctx = ssl.create_default_context(cafile=world.ca.cert)
    with socket.create_connection(("127.0.0.2", world.tls_port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="backend-b.test") as tls:
            tls.sendall(b"GET /tls HTTP/1.1\r\nHost: backend-b.test\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
    body = json.loads(data.split(b"\r\n\r\n", 1)[1])
    assert (body["server"], body["scheme"], body["sni"]) == ("tls-b", "https", "backend-b.test")

    # the certificate for backend-a.test does not verify as backend-b.test
    with socket.create_connection(("127.0.0.1", world.tls_port), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ctx.wrap_socket(raw, server_hostname="backend-b.test")

    conn = http.client.HTTPConnection("127.0.0.1", world.h2c_port, timeout=5)
    conn.request("GET", "/hc")
    body = json.loads(conn.getresponse().read())
    conn.close()
    assert (body["server"], body["http_version"], body["scheme"]) == ("h2c", "1.1", "http")


# --- through Envoy ---------------------------------------------------------------------------------------------


def test_plain_http_to_ip_and_host_matching(world, envoys):
    envoy, proxy = envoys.start("plain", lambda admin, listen: bs.bootstrap(
        admin, listen,
        virtual_hosts=[bs.vhost("exact", ["app.test"], "plain"),
                       bs.vhost("with-port", ["port.test", "port.test:*"], "plain")],
        clusters=[bs.cluster("plain", [("ip", "127.0.0.1")], world.plain_port)]))

    r = curl_proxy(proxy, "/a?q=1", host_header="app.test")
    assert r.status == 200, r
    assert r.json == {"server": "plain-a", "http_version": "1.1", "scheme": "http", "host": "app.test",
                      "path": "/a?q=1", "method": "GET", "sni": None}
    assert r.headers.get("server") == "envoy"
    assert curl_proxy(proxy, "/", host_header="other.test").status == 404
    # Envoy matches the whole Host, port included: "app.test" does not match "app.test:PORT" ...
    assert curl_proxy(proxy, "/", host_header=f"app.test:{proxy[1]}").status == 404
    # ... unless the virtual host also lists "name:*"
    assert curl_proxy(proxy, "/", host_header="port.test").status == 200
    r = curl_proxy(proxy, "/", host_header=f"port.test:{proxy[1]}")
    assert r.status == 200 and r.json["host"] == f"port.test:{proxy[1]}", r
    assert envoy.admin.cluster_hosts("plain") == [(f"127.0.0.1:{world.plain_port}", "")]


def test_tls_two_fqdns_each_gets_its_own_sni(world, envoys):
    mark = world.dns.mark()
    envoy, proxy = envoys.start("tls", lambda admin, listen: bs.bootstrap(
        admin, listen, dns=world.dns_hostport,
        virtual_hosts=[bs.vhost("all", ["*"], "tls")],
        clusters=[bs.cluster("tls", [("fqdn", "backend-a.test"), ("fqdn", "backend-b.test")], world.tls_port,
                             protocol="tls", ca_file=world.bundle)]))
    wait_until(lambda: len(envoy.admin.cluster_hosts("tls")) == 2, timeout=10, message="both FQDNs resolved")
    assert sorted(envoy.admin.cluster_hosts("tls")) == [(f"127.0.0.1:{world.tls_port}", "backend-a.test"),
                                                         (f"127.0.0.2:{world.tls_port}", "backend-b.test")]
    seen = servers_reached(proxy, {"tls-a", "tls-b"}, host_header="tls.test")
    assert set(seen) == {"tls-a", "tls-b"}, seen
    for r in seen["tls-a"]:
        assert (r.json["sni"], r.json["scheme"], r.json["http_version"]) == ("backend-a.test", "https", "1.1")
    for r in seen["tls-b"]:
        assert (r.json["sni"], r.json["scheme"]) == ("backend-b.test", "https")
    assert {"backend-a.test", "backend-b.test"} <= {n for n, t, _ in world.dns.queries(since=mark) if t == "A"}
    assert envoy.admin.stats("ssl.handshake")["cluster.tls.ssl.handshake"] >= 2


def test_tls_wrong_san_and_untrusted_ca_fail_with_503(world, envoys):
    world.dns.set("wrong-san.test", a=["127.0.0.1"])  # backend-a's server, whose certificate says backend-a.test
    before_errors = len(world["tls-a"].handshake_errors)
    before_requests = len(world["tls-a"].requests)
    system_only = "/etc/ssl/certs/ca-certificates.crt"
    try:
        envoy, proxy = envoys.start("tls-negative", lambda admin, listen: bs.bootstrap(
            admin, listen, dns=world.dns_hostport,
            virtual_hosts=[bs.vhost("wrong-san", ["wrong-san.test"], "wrong-san"),
                           bs.vhost("system-ca", ["system-ca.test"], "system-ca"),
                           bs.vhost("good", ["good.test"], "good")],
            clusters=[bs.cluster("wrong-san", [("fqdn", "wrong-san.test")], world.tls_port, protocol="tls",
                                 ca_file=world.bundle),
                      bs.cluster("system-ca", [("fqdn", "backend-a.test")], world.tls_port, protocol="tls",
                                 ca_file=system_only),
                      bs.cluster("good", [("fqdn", "backend-a.test")], world.tls_port, protocol="tls",
                                 ca_file=world.bundle)]))
        wait_until(lambda: envoy.admin.cluster_hosts("wrong-san") and envoy.admin.cluster_hosts("system-ca"),
                   timeout=10, message="hosts resolved")
        assert curl_proxy(proxy, "/", host_header="good.test").status == 200
        r = curl_proxy(proxy, "/", host_header="wrong-san.test")
        assert r.status == 503, r
        r = curl_proxy(proxy, "/", host_header="system-ca.test")
        assert r.status == 503, r
        stats = envoy.admin.stats("ssl\\.fail_verify")
        assert stats.get("cluster.wrong-san.ssl.fail_verify_san", 0) >= 1, stats
        assert stats.get("cluster.system-ca.ssl.fail_verify_error", 0) >= 1, stats
        # only the good cluster's request reached the server; the others died in the handshake
        assert len(world["tls-a"].requests) == before_requests + 1
        assert len(world["tls-a"].handshake_errors) >= before_errors + 2
        if os.path.exists(system_only):
            assert os.path.getsize(world.bundle) > os.path.getsize(system_only)
    finally:
        world.dns.remove("wrong-san.test")


def test_h2_over_tls_and_h2c(world, envoys):
    envoy, proxy = envoys.start("h2", lambda admin, listen: bs.bootstrap(
        admin, listen, dns=world.dns_hostport,
        virtual_hosts=[bs.vhost("h2", ["h2.test"], "h2"), bs.vhost("h2c", ["h2c.test"], "h2c")],
        clusters=[bs.cluster("h2", [("fqdn", "h2.test")], world.h2_port, protocol="h2", ca_file=world.bundle),
                  bs.cluster("h2c", [("ip", "127.0.0.1")], world.h2c_port, protocol="h2c")]))
    wait_until(lambda: envoy.admin.cluster_hosts("h2"), timeout=10, message="h2.test resolved")
    r = curl_proxy(proxy, "/two", host_header="h2.test")
    assert r.status == 200, r
    assert {k: r.json[k] for k in ("server", "http_version", "scheme", "host", "path", "sni")} == \
        {"server": "h2", "http_version": "2", "scheme": "https", "host": "h2.test", "path": "/two", "sni": "h2.test"}
    r = curl_proxy(proxy, "/two-c", host_header="h2c.test")
    assert r.status == 200, r
    assert (r.json["server"], r.json["http_version"], r.json["scheme"], r.json["host"]) == \
        ("h2c", "2", "http", "h2c.test")
    stats = envoy.admin.stats("upstream_cx_http")
    assert stats["cluster.h2.upstream_cx_http2_total"] == 1 and stats["cluster.h2.upstream_cx_http1_total"] == 0
    assert stats["cluster.h2c.upstream_cx_http2_total"] == 1 and stats["cluster.h2c.upstream_cx_http1_total"] == 0


@pytest.mark.parametrize("family, expect_server, expect_types, unreachable", [
    ("V4_ONLY", "dual-ipv4", {"A"}, "v6.test"),
    ("V6_ONLY", "dual-ipv6", {"AAAA"}, "v4.test"),
])
def test_dfp_lookup_family_chooses_the_address_family(world, envoys, family, expect_server, expect_types,
                                                      unreachable):
    mark = world.dns.mark()
    cache = bs.dns_cache_config("dfp", family, world.dns_hostport)
    envoy, proxy = envoys.start(f"dfp-{family}", lambda admin, listen: bs.bootstrap(
        admin, listen, http_filters=[bs.dfp_filter(cache)],
        virtual_hosts=[bs.vhost("all", ["*"], "dfp")], clusters=[bs.dfp_cluster("dfp", cache)]))
    host = f"dual.test:{world.dual_port}"
    r = curl_proxy(proxy, "/dfp", host_header=host)
    assert r.status == 200, r
    assert (r.json["server"], r.json["host"]) == (expect_server, host)
    assert world.dns.query_types("dual.test", since=mark) == expect_types
    address = "127.0.0.1" if family == "V4_ONLY" else "[::1]"
    assert envoy.admin.cluster_hosts("dfp") == [(f"{address}:{world.dual_port}", host)]
    # a name with records of the other family only: DNS failure (503, flag DF)
    r = curl_proxy(proxy, "/", host_header=f"{unreachable}:{world.dual_port}")
    assert r.status == 503, r
    assert b"dns_resolution_failure" in r.body or b"DNS resolution failure" in r.body, r


def test_dfp_without_port_in_host_goes_to_port_80(world, envoys):
    cache = bs.dns_cache_config("dfp", "V4_ONLY", world.dns_hostport)
    envoy, proxy = envoys.start("dfp-noport", lambda admin, listen: bs.bootstrap(
        admin, listen, http_filters=[bs.dfp_filter(cache)],
        virtual_hosts=[bs.vhost("all", ["*"], "dfp")], clusters=[bs.dfp_cluster("dfp", cache)]))
    r = curl_proxy(proxy, "/", host_header="dual.test")
    assert r.server is None, r  # not one of our upstreams
    assert envoy.admin.cluster_hosts("dfp") == [("127.0.0.1:80", "dual.test:80")]


def test_strip_any_host_port_matches_bare_domains_but_dfp_then_loses_the_port(world, envoys):
    """Why the control plane should list "name" and "name:*" as domains rather than set strip_any_host_port:
    stripping happens before the DFP filter, which then connects to port 80."""
    cache = bs.dns_cache_config("dfp", "V4_ONLY", world.dns_hostport)
    envoy, proxy = envoys.start("dfp-strip", lambda admin, listen: bs.bootstrap(
        admin, listen, http_filters=[bs.dfp_filter(cache)], hcm_extra={"strip_any_host_port": True},
        virtual_hosts=[bs.vhost("dual", ["dual.test"], "dfp")], clusters=[bs.dfp_cluster("dfp", cache)]))
    r = curl_proxy(proxy, "/", host_header=f"dual.test:{world.dual_port}")
    assert r.server is None, r  # the route matched, but not our upstream on dual_port
    assert r.status == 503, r
    assert envoy.admin.cluster_hosts("dfp") == [("127.0.0.1:80", "dual.test:80")]
