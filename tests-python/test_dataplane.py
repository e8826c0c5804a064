"""End-to-end data-plane tests: `apoxy dev` (API server + ADS control plane + a real Envoy 1.40) with real upstream
servers, a real DNS server and a test CA, all on loopback.

Objects go in with `kubectl apply -f -` (YAML written here); traffic goes through Envoy's listener; every wait is a
poll (wait_until), never a fixed sleep. The fixtures (tests-python/dataplane/) are proven independently of our
control plane by dataplane/test_fixtures_with_static_envoy.py.

Runs by default, as every test of the suite does; APOXY_DEV_E2E=0 narrows a run to skip it. The binary is
env APOXY_BINARY (default .build/debug/apoxy), Envoy is APOXY_ENVOY or .venv/bin/envoy, kubectl APOXY_KUBECTL or
.venv/bin/kubectl. See dataplane/stack.py for the command-line contract.
"""
import http.client
import json
import urllib.request
import os
import socket as socket_module
import ssl
import subprocess
import textwrap
import time

import pytest

if os.environ.get("APOXY_DEV_E2E") == "0" and os.environ.get("CI") != "true":
    pytest.skip("APOXY_DEV_E2E=0 skips the `apoxy dev` end-to-end tests (never under CI=true)",
                allow_module_level=True)

import yaml  # noqa: E402 (PyYAML, a dependency of the kubernetes client)

from dataplane.envoy import find_envoy  # noqa: E402
from dataplane.stack import (ApoxyDev, curl_proxy, find_apoxy, find_kubectl, process_alive,  # noqa: E402
                             servers_reached, wait_until)
from dataplane.tools import require  # noqa: E402
from dataplane.world import World  # noqa: E402
from prometheus_samples import samples as samples_of, value as metric_value  # noqa: E402

CONVERGE = 20  # seconds allowed for an applied change to show up in Envoy or in status


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    ok, missing = World.tools_present()
    if not ok:
        require(None, ", ".join(missing))
    w = World(str(tmp_path_factory.mktemp("world"))).start()
    w.dns.set("wrong-san.test", a=["127.0.0.1"])   # tls-a's server; its certificate says backend-a.test
    w.dns.set("dual2.test", a=["127.0.0.1"], aaaa=["::1"])
    yield w
    w.stop()


def _require_binaries():
    require(find_apoxy(), "apoxy binary (APOXY_BINARY)")
    require(find_envoy(), "envoy (.venv/bin/envoy or APOXY_ENVOY)")
    require(find_kubectl(), "kubectl (.venv/bin/kubectl or APOXY_KUBECTL)")


@pytest.fixture(scope="module", params=["delta", "sotw"])
def dev(world, tmp_path_factory, request):
    """The stack, once with Envoy on incremental (delta) ADS, the default, and once on state of the world."""
    _require_binaries()
    stack = ApoxyDev(workdir=str(tmp_path_factory.mktemp(f"apoxy-dev-{request.param}")), dns_resolver=world.dns_address,
                     ca_file=world.bundle,
                     # Envoy's /clusters read every half second (default 5), so endpoint health shows up quickly.
                     extra_args=["--xds-protocol", request.param, "--endpoint-health-interval", "0.5"])
    try:
        stack.start()
    except Exception as e:
        pytest.fail(f"apoxy dev did not start: {e}")
    yield stack
    stack.stop()


class Objects:
    """kubectl apply for one test; everything applied is deleted after the test. (A failing test's report carries
    the `apoxy dev` log through the `dev` fixture, see conftest.py.)"""

    def __init__(self, dev):
        self.dev = dev
        self.k = dev.kubectl
        self.applied = []

    def apply(self, text):
        text = textwrap.dedent(text)
        for doc in yaml.safe_load_all(text):
            if doc:
                ref = (_resource(doc["kind"]), doc["metadata"]["name"])
                if ref not in self.applied:
                    self.applied.append(ref)
        return self.k.apply(text)

    def get(self, kind, name):
        return self.k.get(_resource(kind), name)

    def patch(self, kind, name, patch):
        return self.k.patch(_resource(kind), name, patch)

    def cleanup(self):
        for kind, name in reversed(self.applied):
            self.k.delete(kind, name, check=False)  # best effort: a dead stack must not hide the test's own failure


@pytest.fixture
def objs(dev):
    o = Objects(dev)
    yield o
    o.cleanup()


def _resource(kind):
    return {"Backend": "backends.core.apoxy.dev", "HTTPRoute": "httproutes.gateway.apoxy.dev"}[kind]


# --- YAML ----------------------------------------------------------------------------------------------------


def backend(name, endpoints, protocol="", dns_lookup_family=None):
    """A Backend; endpoints like ["ip:127.0.0.1", "fqdn:backend-a.test"]; dns_lookup_family makes it dynamicProxy."""
    spec = {"protocol": protocol, "endpoints": [dict([e.split(":", 1)]) for e in endpoints]}
    if dns_lookup_family:
        spec["dynamicProxy"] = {"dnsCacheConfig": {"dnsLookupFamily": dns_lookup_family}}
    return {"apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "metadata": {"name": name}, "spec": spec}


def route(name, hostnames, backend_name, port=None, matches=None):
    """An HTTPRoute with one rule (a 5s request timeout) sending to `backend_name` (`port` omitted when None)."""
    ref = {"name": backend_name, "weight": 1}
    if port is not None:
        ref["port"] = port
    rule = {"backendRefs": [ref], "timeouts": {"request": "5s"}}
    if matches:
        rule = {"matches": matches, **rule}
    return {"apiVersion": "gateway.apoxy.dev/v1", "kind": "HTTPRoute", "metadata": {"name": name},
            "spec": {"hostnames": list(hostnames), "rules": [rule]}}


def docs(*objects):
    """The YAML text `kubectl apply -f -` receives."""
    return yaml.safe_dump_all(objects, sort_keys=False, default_flow_style=None)


# --- helpers -------------------------------------------------------------------------------------------------


def served_by(dev, host, server, path="/", **kwargs):
    """Wait until a request with Host `host` is answered 200 by upstream `server`; return that response."""
    def check():
        r = curl_proxy(dev.proxy, path, host_header=host, **kwargs)
        return r if r.status == 200 and r.server == server else None
    return wait_until(check, timeout=CONVERGE, message=f"Host {host}{path} served by {server}")


def status_is(dev, host, status, path="/", **kwargs):
    def check():
        r = curl_proxy(dev.proxy, path, host_header=host, **kwargs)
        return r if r.status == status else None
    return wait_until(check, timeout=CONVERGE, message=f"Host {host}{path} answered {status}")


def conditions(obj):
    return {c["type"]: c for c in (obj or {}).get("status", {}).get("conditions") or []}


def route_conditions(obj):
    parents = (obj or {}).get("status", {}).get("parents") or []
    return {c["type"]: c for c in parents[0].get("conditions") or []} if parents else {}


def stat_sum(dev, suffix):
    return sum(v for k, v in dev.admin.stats().items() if k.endswith(suffix) and isinstance(v, int))


def uptime_seconds(dev):
    return float(dev.admin.server_info()["uptime_current_epoch"].rstrip("s"))


# --- tests ---------------------------------------------------------------------------------------------------


def test_http1_to_ip_endpoint_with_host_routing(dev, world, objs):
    objs.apply(docs(backend("plain-ip", ["ip:127.0.0.1"]),
                    route("plain-ip", ["plain.test"], "plain-ip", port=world.plain_port)))
    r = served_by(dev, "plain.test", "plain-a", path="/hello?x=1")
    assert (r.json["http_version"], r.json["scheme"], r.json["host"], r.json["path"]) == \
        ("1.1", "http", "plain.test", "/hello?x=1")
    assert r.headers.get("server") == "envoy"
    # the Host may carry the listener's port
    assert curl_proxy(dev.proxy, "/", host_header=f"plain.test:{dev.proxy_port}").server == "plain-a"
    # another Host matches no route
    assert curl_proxy(dev.proxy, "/", host_header="elsewhere.test").status == 404


def test_route_matches_path_header_and_method(dev, world, objs):
    objs.apply(docs(backend("match-ip", ["ip:127.0.0.2"]),
                    route("match-ip", ["match.test"], "match-ip", port=world.plain_port,
                          matches=[{"path": {"type": "PathPrefix", "value": "/a"},
                                    "headers": [{"name": "X-Env", "value": "prod"}], "method": "GET"}])))
    served_by(dev, "match.test", "plain-b", path="/a/b", headers={"X-Env": "prod"})
    assert curl_proxy(dev.proxy, "/a", host_header="match.test").status == 404                       # no header
    assert curl_proxy(dev.proxy, "/a", host_header="match.test", headers={"X-Env": "dev"}).status == 404
    assert curl_proxy(dev.proxy, "/b", host_header="match.test", headers={"X-Env": "prod"}).status == 404
    assert curl_proxy(dev.proxy, "/a", host_header="match.test", method="POST",
                      headers={"X-Env": "prod"}).status == 404


def test_tls_two_fqdns_each_with_its_own_sni_and_wrong_san_fails(dev, world, objs):
    objs.apply(docs(backend("tls-ab", ["fqdn:backend-a.test", "fqdn:backend-b.test"], protocol="tls"),
                    route("tls-ab", ["tls.test"], "tls-ab", port=world.tls_port)))
    served_by(dev, "tls.test", "tls-a")  # config is in
    seen = wait_until(lambda: (lambda s: s if {"tls-a", "tls-b"} <= set(s) else None)(
        servers_reached(dev.proxy, {"tls-a", "tls-b"}, host_header="tls.test")),
        timeout=CONVERGE, message="both TLS upstreams answered")
    assert {r.json["sni"] for r in seen["tls-a"]} == {"backend-a.test"}
    assert {r.json["sni"] for r in seen["tls-b"]} == {"backend-b.test"}
    assert all(r.json["scheme"] == "https" for r in seen["tls-a"] + seen["tls-b"])

    san_failures = stat_sum(dev, "ssl.fail_verify_san")
    a_requests = len(world["tls-a"].requests)
    objs.apply(docs(backend("wrong-san", ["fqdn:wrong-san.test"], protocol="tls"),
                    route("wrong-san", ["wrong-san.test"], "wrong-san", port=world.tls_port)))
    wait_until(lambda: curl_proxy(dev.proxy, "/", host_header="wrong-san.test").status == 503
               and stat_sum(dev, "ssl.fail_verify_san") > san_failures,
               timeout=CONVERGE, message="wrong SAN refused by Envoy (503, ssl.fail_verify_san)")
    assert not [r for r in world["tls-a"].requests[a_requests:] if r["host"] == "wrong-san.test"]


def test_h2_over_tls_and_h2c_reach_upstreams_over_http2(dev, world, objs):
    objs.apply(docs(backend("h2-tls", ["fqdn:h2.test"], protocol="h2"),
                    route("h2-tls", ["h2.test"], "h2-tls", port=world.h2_port),
                    backend("h2c-ip", ["ip:127.0.0.1"], protocol="h2c"),
                    route("h2c-ip", ["h2c.test"], "h2c-ip", port=world.h2c_port)))
    r = served_by(dev, "h2.test", "h2")
    assert (r.json["http_version"], r.json["scheme"], r.json["sni"]) == ("2", "https", "h2.test")
    r = served_by(dev, "h2c.test", "h2c")
    assert (r.json["http_version"], r.json["scheme"]) == ("2", "http")


def test_dynamic_proxy_family_and_live_dns_cache_edit(dev, world, objs):
    # The proxy resolves the Backend's one endpoint, with the backendRef's port, whatever Host the client sent.
    objs.apply(docs(backend("dfp-dual", ["fqdn:dual.test"], dns_lookup_family="v4_only"),
                    route("dfp-dual", ["dfp.test"], "dfp-dual", port=world.dual_port)))
    host = "dfp.test"
    r = served_by(dev, host, "dual-ipv4")
    assert r.json["host"] == f"dual.test:{world.dual_port}"
    envoys_before = sorted(dev.envoy_pids())
    uptime_before = uptime_seconds(dev)
    mark = world.dns.mark()

    objs.patch("Backend", "dfp-dual", {"spec": {"dynamicProxy": {"dnsCacheConfig": {"dnsLookupFamily": "v6_only"}}}})
    served_by(dev, host, "dual-ipv6")
    assert "AAAA" in world.dns.query_types("dual.test", since=mark), world.dns.queries("dual.test", since=mark)
    assert sorted(dev.envoy_pids()) == envoys_before and envoys_before, "Envoy was restarted"
    assert uptime_seconds(dev) >= uptime_before


def test_two_dynamic_proxy_backends_with_different_families_on_one_listener(dev, world, objs):
    objs.apply(docs(backend("dfp-v4", ["fqdn:dual2.test"], dns_lookup_family="v4_only"),
                    backend("dfp-v6", ["fqdn:dual2.test"], dns_lookup_family="v6_only"),
                    route("dfp-v4", ["dual2.test"], "dfp-v4", port=world.dual_port,
                          matches=[{"path": {"type": "PathPrefix", "value": "/v4"}}]),
                    route("dfp-v6", ["dual2.test"], "dfp-v6", port=world.dual_port,
                          matches=[{"path": {"type": "PathPrefix", "value": "/v6"}}])))
    host = "dual2.test"
    served_by(dev, host, "dual-ipv4", path="/v4")
    served_by(dev, host, "dual-ipv6", path="/v6")
    assert curl_proxy(dev.proxy, "/v4/again", host_header=host).server == "dual-ipv4"


def test_spec_edit_adds_an_endpoint(dev, world, objs):
    objs.apply(docs(backend("grow", ["ip:127.0.0.1"]), route("grow", ["grow.test"], "grow", port=world.plain_port)))
    served_by(dev, "grow.test", "plain-a")
    objs.apply(docs(backend("grow", ["ip:127.0.0.1", "ip:127.0.0.2"])))
    wait_until(lambda: {"plain-a", "plain-b"} <= set(servers_reached(dev.proxy, {"plain-a", "plain-b"},
                                                                     host_header="grow.test")),
               timeout=CONVERGE, message="both endpoints answer after the edit")


def _cluster_stat(dev, cluster, stat):
    """One cluster's counter or gauge; Envoy writes the ':' of our cluster names as '_' in stat names."""
    name = f"cluster.{cluster.replace(':', '_')}.{stat}"
    return dev.admin.stats(filter_regex="^" + name.replace(".", "\\.") + "$").get(name, 0)


def test_endpoint_edit_keeps_the_cluster_and_its_upstream_connections(dev, world, objs):
    """Endpoints travel as a ClusterLoadAssignment (EDS): an edit updates the cluster's hosts in place, so Envoy
    neither replaces the cluster (`cluster_manager.cluster_modified`) nor drains its connections
    (`upstream_cx_destroy`), and a keep-alive client connection carries on across the edit."""
    objs.apply(docs(backend("longlived", ["ip:127.0.0.1"]),
                    route("longlived", ["longlived.test"], "longlived", port=world.plain_port)))
    served_by(dev, "longlived.test", "plain-a")
    cluster = f"longlived:{world.plain_port}"
    eds = [c for c in dev.admin.config_dump(resource="dynamic_active_clusters")["configs"]
           if c["cluster"]["name"] == cluster]
    assert eds and eds[0]["cluster"]["type"] == "EDS", eds

    client = http.client.HTTPConnection(*dev.proxy, timeout=10)
    try:
        client.request("GET", "/before", headers={"Host": "longlived.test"})
        first = client.getresponse()
        assert (first.status, json.loads(first.read())["server"]) == (200, "plain-a")
        wait_until(lambda: _cluster_stat(dev, cluster, "upstream_cx_active") >= 1, timeout=CONVERGE,
                   message=f"an idle upstream connection kept open by {cluster}")
        modified = stat_sum(dev, "cluster_manager.cluster_modified")
        opened = _cluster_stat(dev, cluster, "upstream_cx_total")

        objs.apply(docs(backend("longlived", ["ip:127.0.0.1", "ip:127.0.0.2"])))
        wait_until(lambda: len(dev.admin.cluster_hosts(cluster)) == 2, timeout=CONVERGE,
                   message=f"{cluster} has both endpoints")

        assert stat_sum(dev, "cluster_manager.cluster_modified") == modified, "the edit replaced the cluster"
        assert _cluster_stat(dev, cluster, "upstream_cx_destroy") == 0, "the edit closed upstream connections"
        assert _cluster_stat(dev, cluster, "upstream_cx_active") >= 1
        # The client's connection is the one it opened before the edit, and still serves.
        client.request("GET", "/after", headers={"Host": "longlived.test"})
        after = client.getresponse()
        assert after.status == 200 and json.loads(after.read())["server"] in ("plain-a", "plain-b")
        assert _cluster_stat(dev, cluster, "upstream_cx_total") >= opened
    finally:
        client.close()
    wait_until(lambda: {"plain-a", "plain-b"} <= set(servers_reached(dev.proxy, {"plain-a", "plain-b"},
                                                                     host_header="longlived.test")),
               timeout=CONVERGE, message="both endpoints answer after the edit")

    # A change that does replace the cluster (its protocol) gets its endpoints at once: Envoy's new cluster is not
    # left warming until EDS's initial fetch timeout (15 s), on either protocol.
    modified = stat_sum(dev, "cluster_manager.cluster_modified")
    objs.apply(docs(backend("longlived", ["ip:127.0.0.1", "ip:127.0.0.2"], protocol="h2c")))
    wait_until(lambda: stat_sum(dev, "cluster_manager.cluster_modified") > modified, timeout=CONVERGE,
               message=f"{cluster} replaced for h2c")
    wait_until(lambda: stat_sum(dev, "cluster_manager.warming_clusters") == 0
               and len(dev.admin.cluster_hosts(cluster)) == 2, timeout=5,
               message=f"{cluster} active with both endpoints within 5 s")


def test_deleted_backend_and_route_leave_envoy(dev, world, objs):
    """Deleting a Backend and its route removes its cluster and virtual host from Envoy (delta: removed_resources;
    state of the world: left out of the next set), while the other Backends keep serving."""
    objs.apply(docs(backend("gone", ["ip:127.0.0.1"]), route("gone", ["gone.test"], "gone", port=world.plain_port),
                    backend("stays", ["ip:127.0.0.1"]), route("stays", ["stays.test"], "stays", port=world.plain_port)))
    served_by(dev, "gone.test", "plain-a")
    cluster = f"gone:{world.plain_port}"
    assert cluster in dev.admin.clusters()
    dev.kubectl.delete("httproutes.gateway.apoxy.dev", "gone")
    dev.kubectl.delete("backends.core.apoxy.dev", "gone")
    wait_until(lambda: cluster not in dev.admin.clusters(), timeout=CONVERGE, message=f"{cluster} removed from Envoy")
    dump = json.dumps(dev.admin.config_dump(resource="dynamic_active_clusters"))
    assert f'"{cluster}"' not in dump
    endpoints = json.dumps(dev.admin.get_json("/config_dump?include_eds"))
    assert f'"{cluster}"' not in endpoints and f'"stays:{world.plain_port}"' in endpoints
    routes = json.dumps(dev.admin.config_dump(resource="dynamic_route_configs"))
    assert "gone.test" not in routes and "stays.test" in routes
    served_by(dev, "stays.test", "plain-a")


def test_invalid_routes_do_not_break_the_rest(dev, world, objs):
    objs.apply(docs(backend("steady", ["ip:127.0.0.1"]),
                    route("steady", ["steady.test"], "steady", port=world.plain_port)))
    served_by(dev, "steady.test", "plain-a")

    objs.apply(docs(route("broken", ["broken.test"], "does-not-exist", port=world.plain_port),
                    route("noport", ["noport.test"], "steady")))
    broken = wait_until(lambda: route_conditions(objs.get("HTTPRoute", "broken")).get("ResolvedRefs"),
                        timeout=CONVERGE, message="broken route has ResolvedRefs")
    assert (broken["status"], broken["reason"]) == ("False", "BackendNotFound"), broken
    noport = wait_until(lambda: route_conditions(objs.get("HTTPRoute", "noport")).get("ResolvedRefs"),
                        timeout=CONVERGE, message="noport route has ResolvedRefs")
    assert (noport["status"], noport["reason"]) == ("False", "InvalidPort"), noport
    assert noport.get("message"), noport
    assert curl_proxy(dev.proxy, "/", host_header="broken.test").status != 200

    # the good route keeps serving, and later edits still take effect
    assert curl_proxy(dev.proxy, "/", host_header="steady.test").server == "plain-a"
    objs.apply(docs(route("steady", ["steady.test", "steady2.test"], "steady", port=world.plain_port)))
    served_by(dev, "steady2.test", "plain-a")
    assert curl_proxy(dev.proxy, "/", host_header="steady.test").server == "plain-a"

    # creating the missing Backend repairs the broken route
    objs.apply(docs(backend("does-not-exist", ["ip:127.0.0.2"])))
    served_by(dev, "broken.test", "plain-b")
    wait_until(lambda: route_conditions(objs.get("HTTPRoute", "broken")).get("ResolvedRefs", {}).get("status")
               == "True", timeout=CONVERGE, message="broken route ResolvedRefs=True once the Backend exists")
    assert curl_proxy(dev.proxy, "/", host_header="steady.test").server == "plain-a"


def _programmed_at(objs, name, generation):
    obj = objs.get("Backend", name)
    c = conditions(obj)
    ok = all(c.get(t, {}).get("status") == "True" and c.get(t, {}).get("observedGeneration") == generation
             for t in ("Accepted", "Programmed"))
    return obj if ok and obj["metadata"]["generation"] == generation else None


def _events(stack, name):
    """The Events about the Backend `name`, as `kubectl get events` lists them."""
    out = stack.kubectl.run("get", "events", "-n", "default", "-o", "json",
                            f"--field-selector=involvedObject.kind=Backend,involvedObject.name={name}").stdout
    return json.loads(out)["items"]


def test_backend_status_follows_generation(dev, world, objs):
    objs.apply(docs(backend("status-be", ["ip:127.0.0.1"]),
                    route("status-be", ["status.test"], "status-be", port=world.plain_port)))
    obj = wait_until(lambda: _programmed_at(objs, "status-be", 1), timeout=CONVERGE,
                     message="Accepted=True and Programmed=True at generation 1")
    for c in conditions(obj).values():
        assert c["reason"] and c["lastTransitionTime"], c
    served_by(dev, "status.test", "plain-a")
    # The control plane recorded each transition as an Event, which `kubectl describe` shows.
    events = wait_until(lambda: (lambda e: e if {"Accepted", "Programmed"} <= {x["reason"] for x in e} else None)(
        _events(dev, "status-be")), timeout=CONVERGE, message="Accepted and Programmed Events")
    programmed_event = next(e for e in events if e["reason"] == "Programmed")
    assert programmed_event["type"] == "Normal" and programmed_event["source"]["component"] == "apoxy.dev/backplane", events
    assert programmed_event["involvedObject"]["uid"] == obj["metadata"]["uid"], programmed_event
    described = dev.kubectl.run("describe", "backends.core.apoxy.dev", "status-be").stdout
    assert "Events:" in described and "apoxy.dev/backplane" in described and "Programmed is True" in described, described

    objs.patch("Backend", "status-be", {"spec": {"endpoints": [{"ip": "127.0.0.1"}, {"ip": "127.0.0.2"}]}})
    obj = wait_until(lambda: _programmed_at(objs, "status-be", 2), timeout=CONVERGE,
                     message="observedGeneration follows generation 2")
    assert obj["metadata"]["generation"] == 2
    # How long generation 2 took to reach the proxy: in status.propagation, the message and `-o wide`.
    obj = wait_until(lambda: (lambda o: o if (o.get("status", {}).get("propagation") or {}).get("observedGeneration") == 2
                              else None)(objs.get("Backend", "status-be")),
                     timeout=CONVERGE, message="status.propagation for generation 2")
    propagation = obj["status"]["propagation"]
    assert propagation["proxies"] == 1
    latency = propagation["latency"]
    millis = float(latency[:-2]) if latency.endswith("ms") and not latency.endswith("µs") else None
    if latency.endswith("µs"):
        millis = float(latency[:-2]) / 1000
    assert millis is not None and 0 < millis < CONVERGE * 1000, latency
    assert f"generation 2 reached 1 proxy in {latency}" in conditions(obj)["Programmed"]["message"]
    wide = dev.kubectl.run("get", "backends.core.apoxy.dev", "status-be", "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "ENDPOINTS", "PROTOCOL", "PROPAGATION", "HEALTHY", "AGE"], wide
    assert latency in wide[1].split(), wide
    # a metadata-only change keeps the generation and the status
    objs.patch("Backend", "status-be", {"metadata": {"labels": {"touched": "yes"}}})
    assert _programmed_at(objs, "status-be", 2)


def _observed(objs, name):
    """The endpoints this stack's backplane wrote for Backend `name`: (cluster, address, port, hostname, health)."""
    proxies = (objs.get("Backend", name) or {}).get("status", {}).get("proxies") or []
    return sorted((e["cluster"], e["address"], e["port"], e.get("hostname"), e["health"])
                  for p in proxies for e in p.get("endpoints") or [])


def test_status_shows_what_envoy_resolved_and_sees_healthy_per_endpoint(dev, world, objs):
    world.dns.set("health.test", a=["127.0.0.1", "127.0.0.2"])
    port = world.plain_port
    objs.apply(docs(backend("health-fqdn", ["fqdn:health.test"]), backend("health-ip", ["ip:127.0.0.1"]),
                    route("health-fqdn", ["health-fqdn.test"], "health-fqdn", port=port),
                    route("health-ip", ["health-ip.test"], "health-ip", port=port)))
    served_by(dev, "health-ip.test", "plain-a")
    # The FQDN resolved through the test DNS server: one entry per address, each naming the FQDN it came from.
    cluster = f"health-fqdn:{port}"
    want = [(cluster, "127.0.0.1", port, "health.test", "Healthy"), (cluster, "127.0.0.2", port, "health.test", "Healthy")]
    wait_until(lambda: _observed(objs, "health-fqdn") == want, timeout=CONVERGE,
               message=f"status.proxies[].endpoints of health-fqdn become {want}")
    # An IP endpoint (EDS) has no hostname.
    wait_until(lambda: _observed(objs, "health-ip") == [(f"health-ip:{port}", "127.0.0.1", port, None, "Healthy")],
               timeout=CONVERGE, message="status.proxies[].endpoints of health-ip")
    wide = dev.kubectl.run("get", "backends.core.apoxy.dev", "health-fqdn", "-o", "wide").stdout.splitlines()
    # (PROTOCOL is empty for HTTP/1.1, so the row is read by column position.)
    column = wide[0].index("HEALTHY")
    assert wide[1][column:].split()[0] == "2/2", wide
    # DNS drops an address: once Envoy re-resolves (every 5 s for STRICT_DNS), the status follows.
    world.dns.set("health.test", a=["127.0.0.2"])
    wait_until(lambda: _observed(objs, "health-fqdn") == want[1:], timeout=CONVERGE,
               message="the dropped address leaves status.proxies[].endpoints")
    # Nothing changes afterwards: the status is not rewritten on every read of Envoy's clusters.
    version = objs.get("Backend", "health-fqdn")["metadata"]["resourceVersion"]
    time.sleep(1.5)  # three reads of /clusters at --endpoint-health-interval 0.5; a rewrite would change the version
    assert objs.get("Backend", "health-fqdn")["metadata"]["resourceVersion"] == version


class _Listener:
    """A TCP port that accepts connections (the backlog does; nothing is read) until closed: an upstream that can be
    stopped and started again on the same port."""

    def __init__(self, port=0):
        self.sock = socket_module.socket(socket_module.AF_INET, socket_module.SOCK_STREAM)
        self.sock.setsockopt(socket_module.SOL_SOCKET, socket_module.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


def test_an_active_health_check_shows_a_stopped_upstream_unhealthy_in_status(world, tmp_path):
    """With --tcp-health-check-interval, Envoy probes each upstream host; a host whose port stops accepting shows
    Unhealthy (failed_active_health_check) in status.proxies[].endpoints and `-o wide`, and Healthy again once it is
    back. Off by default: the Backend API has no health-check settings, so the operator opts in."""
    _require_binaries()
    stack = ApoxyDev(workdir=str(tmp_path / "hc-stack"), dns_resolver=world.dns_address,
                     extra_args=["--tcp-health-check-interval", "200ms", "--endpoint-health-interval", "0.3"])
    stack.start()
    upstream = _Listener()
    try:
        objs = Objects(stack)
        port = upstream.port
        objs.apply(docs(backend("hc-ip", ["ip:127.0.0.1"]), route("hc-ip", ["hc.test"], "hc-ip", port=port)))
        cluster = f"hc-ip:{port}"
        wait_until(lambda: _observed(objs, "hc-ip") == [(cluster, "127.0.0.1", port, None, "Healthy")], timeout=CONVERGE,
                   message="the listening upstream is Healthy")
        upstream.close()
        wait_until(lambda: _observed(objs, "hc-ip") == [(cluster, "127.0.0.1", port, None, "Unhealthy")], timeout=CONVERGE,
                   message="the stopped upstream becomes Unhealthy")
        entry = objs.get("Backend", "hc-ip")["status"]["proxies"][0]["endpoints"][0]
        assert "failed_active_health_check" in entry["reasons"], entry
        wide = stack.kubectl.run("get", "backends.core.apoxy.dev", "hc-ip", "-o", "wide").stdout.splitlines()
        column = wide[0].index("HEALTHY")
        assert wide[1][column:].split()[0] == "0/1", wide
        upstream = _Listener(port)
        wait_until(lambda: _observed(objs, "hc-ip") == [(cluster, "127.0.0.1", port, None, "Healthy")], timeout=CONVERGE,
                   message="the upstream is Healthy again once it accepts")
        objs.cleanup()
    finally:
        upstream.close()
        stack.stop()


def _assert_control_plane_metrics(samples):
    assert metric_value(samples, "apoxy_xds_connected_proxies") == 1
    for xds_type in ("cds", "lds", "rds"):
        assert metric_value(samples, "apoxy_xds_pushes_total", type=xds_type) >= 1, xds_type
        assert metric_value(samples, "apoxy_xds_rejects_total", type=xds_type) == 0, xds_type
    # A Backend was applied after Envoy connected, so at least its CDS push was acknowledged and timed.
    assert metric_value(samples, "apoxy_xds_propagation_seconds_count", type="cds") >= 1
    assert metric_value(samples, "apoxy_xds_propagation_seconds_sum", type="cds") > 0
    assert metric_value(samples, "apoxy_translation_duration_seconds_count") >= 1


def test_dev_serves_api_and_control_plane_metrics_to_kubectl(dev, world, objs):
    objs.apply(docs(backend("metrics-be", ["ip:127.0.0.1"]),
                    route("metrics-be", ["metrics.test"], "metrics-be", port=world.plain_port)))
    served_by(dev, "metrics.test", "plain-a")
    wait_until(lambda: _programmed_at(objs, "metrics-be", 1), timeout=CONVERGE, message="Programmed=True")
    samples = samples_of(dev.kubectl.run("get", "--raw", "/metrics").stdout)
    _assert_control_plane_metrics(samples)
    # kubectl's own requests (client-side apply creates with POST), over TLS as the admin, counted by kube's names.
    assert metric_value(samples, "apiserver_request_total", verb="POST", resource="backends", code="201") >= 1
    # The control plane's status writes.
    assert metric_value(samples, "apiserver_request_total", verb="PATCH", resource="backends", subresource="status") >= 1
    assert metric_value(samples, "apiserver_storage_objects", resource="backends.core.apoxy.dev") >= 1
    # The control plane watches Backends and HTTPRoutes.
    assert metric_value(samples, "apiserver_registered_watchers", kind="Backend") >= 1
    assert metric_value(samples, "apoxy_storage_commit_batch_size_count") >= 1


def test_a_stopped_envoy_never_delays_the_others(dev, world, objs, tmp_path):
    """A second Envoy on the same ADS port (its own node id, the dev stack's client certificate) is SIGSTOPped:
    the stack's own Envoy still gets every change at once, Programmed waits for the stopped proxy (every connected
    proxy must have a generation), and once resumed the stopped one catches up with the latest snapshot only."""
    import signal
    from dataplane.envoy import StaticEnvoy
    from dataplane.ports import free_port
    with open(os.path.join(dev.data_dir, "envoy-bootstrap.json")) as f:
        bootstrap = json.load(f)
    bootstrap["node"]["id"] = "stopped-envoy"
    bootstrap["admin"]["address"]["socket_address"]["port_value"] = free_port()
    second = StaticEnvoy(bootstrap, str(tmp_path), name="stopped-envoy")
    second.start(timeout=30)
    try:
        wait_until(lambda: metric_value(samples_of(dev.kubectl.run("get", "--raw", "/metrics").stdout),
                                   "apoxy_xds_connected_proxies") == 2, timeout=CONVERGE, message="two proxies connected")
        os.kill(second.proc.pid, signal.SIGSTOP)
        try:
            names = [f"stop-{i}" for i in range(8)]
            for name in names:
                objs.apply(docs(backend(name, ["ip:127.0.0.1"]), route(name, [f"{name}.test"], name, port=world.plain_port)))
            wanted = {f"{name}:{world.plain_port}" for name in names}
            wait_until(lambda: wanted <= set(dev.admin.clusters()), timeout=CONVERGE,
                       message="the running Envoy has every new cluster while the other is stopped")
            programmed = conditions(objs.get("Backend", names[-1])).get("Programmed", {})
            assert programmed.get("status") != "True", programmed
        finally:
            os.kill(second.proc.pid, signal.SIGCONT)
        wait_until(lambda: wanted <= set(second.admin.clusters()), timeout=CONVERGE,
                   message="the resumed Envoy catches up")
        wait_until(lambda: conditions(objs.get("Backend", names[-1])).get("Programmed", {}).get("status") == "True",
                   timeout=CONVERGE, message="Programmed once both proxies acknowledged")
        obj = wait_until(lambda: (lambda o: o if (o.get("status", {}).get("propagation") or {}).get("proxies") == 2
                                  else None)(objs.get("Backend", names[-1])), timeout=CONVERGE,
                         message="propagation counts both proxies")
        assert obj["status"]["propagation"]["observedGeneration"] == 1
    finally:
        second.stop()


def test_the_stack_is_secure_by_default_tls_api_and_mutual_tls_ads(dev):
    """`apoxy dev` with no flag: kubectl reaches the API over HTTPS with the generated admin kubeconfig (every other
    test here does too), Envoy holds its ADS connection over TLS with its client certificate, and a client without
    a certificate from the stack's CA cannot open the ADS port."""
    assert dev.secure and dev.api.startswith("https://")
    who = json.loads(dev.kubectl.run("auth", "whoami", "-o", "json").stdout)
    assert who["status"]["userInfo"]["username"] == "apoxy-admin"
    stats = wait_until(lambda: (lambda s: s if s.get("cluster.xds_cluster.ssl.handshake", 0) >= 1 else None)(
        dev.admin.stats(r"cluster\.xds_cluster\.(ssl\.handshake|upstream_cx_active)")),
        timeout=CONVERGE, message="Envoy's xds_cluster completed a TLS handshake")
    assert stats["cluster.xds_cluster.upstream_cx_active"] >= 1, stats
    bootstrap = json.load(open(os.path.join(dev.data_dir, "envoy-bootstrap.json")))
    socket = bootstrap["static_resources"]["clusters"][0]["transport_socket"]["typed_config"]
    assert socket["common_tls_context"]["tls_certificates"][0]["certificate_chain"]["filename"].endswith("pki/envoy.crt")
    # Without a client certificate the server ends the handshake (TLS 1.3 reports it on the first read).
    context = ssl.create_default_context(cafile=dev.ca_certificate)
    context.set_alpn_protocols(["h2"])
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        with socket_module.create_connection(("127.0.0.1", dev.xds_port), timeout=5) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                if not tls.recv(1024):
                    raise ConnectionResetError("closed without data")
    # Nor does a plaintext HTTP/2 client.
    with socket_module.create_connection(("127.0.0.1", dev.xds_port), timeout=5) as raw:
        raw.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        try:
            answer = raw.recv(1024)
        except ConnectionResetError:
            answer = b""
        assert not answer.startswith(b"\x00\x00"), f"the ADS port answered plaintext HTTP/2: {answer!r}"


def test_sigint_stops_everything_with_exit_code_0(world, tmp_path):
    _require_binaries()
    stack = ApoxyDev(workdir=str(tmp_path), dns_resolver=world.dns_address, ca_file=world.bundle)
    try:
        stack.start()
        envoys = stack.envoy_pids()
        assert envoys, "no Envoy child process found under apoxy dev"
        code, took = stack.interrupt(timeout=10)
        assert code == 0, f"exit code {code} after {took:.1f}s:\n{stack.log_tail()}"
        assert took < 10
        assert not [p for p in envoys if process_alive(p)], "Envoy left running"
        assert stack.admin.ready() is None, "Envoy admin still answers"
        with pytest.raises(OSError):
            curl_proxy(stack.proxy, "/", host_header="plain.test", timeout=2)
    finally:
        stack.stop()


@pytest.mark.parametrize("xds_protocol", ["delta", "sotw"])
def test_envoy_rejection_shows_as_programmed_false_and_the_rest_still_serves(world, tmp_path, xds_protocol):
    """A second stack whose upstream CA bundle path does not exist: Envoy NACKs every TLS cluster. The TLS Backend
    gets Programmed=False with Envoy's message; a plain Backend pushed in the same update serves and is Programmed."""
    _require_binaries()
    stack = ApoxyDev(workdir=str(tmp_path / "nack-stack"), dns_resolver=world.dns_address,
                     extra_args=["--system-ca-file", "/nonexistent/ca-bundle.pem", "--xds-protocol", xds_protocol])
    stack.start()
    try:
        objs = Objects(stack)
        objs.apply(docs(backend("tls-nack", ["fqdn:backend-a.test"], protocol="tls"),
                        backend("plain-ok", ["ip:127.0.0.1"]),
                        route("tls-nack", ["tls-nack.test"], "tls-nack", port=world.tls_port),
                        route("plain-ok", ["plain-ok.test"], "plain-ok", port=world.plain_port)))
        programmed = wait_until(
            lambda: (conditions(objs.get("Backend", "tls-nack")).get("Programmed") or {}).get("reason") == "Rejected"
            and conditions(objs.get("Backend", "tls-nack"))["Programmed"],
            timeout=CONVERGE, message="tls-nack Programmed=False (Rejected)")
        assert programmed["status"] == "False", programmed
        assert "/nonexistent/ca-bundle.pem" in programmed["message"], programmed
        assert programmed["observedGeneration"] == objs.get("Backend", "tls-nack")["metadata"]["generation"]
        assert conditions(objs.get("Backend", "tls-nack"))["Accepted"]["status"] == "True"
        # The rejection is a Warning Event with Envoy's text.
        warning = wait_until(lambda: [e for e in _events(stack, "tls-nack") if e["reason"] == "Rejected"],
                             timeout=CONVERGE, message="a Rejected Event")[0]
        assert warning["type"] == "Warning" and "/nonexistent/ca-bundle.pem" in warning["message"], warning
        served_by(stack, "plain-ok.test", "plain-a")
        ok = wait_until(lambda: (conditions(objs.get("Backend", "plain-ok")).get("Programmed") or {}).get("status") == "True",
                        timeout=CONVERGE, message="plain-ok Programmed=True")
        assert ok
    finally:
        stack.stop()


class _Process:
    """A child process with its output in a log file; stop() is SIGTERM, then SIGKILL after 10 s."""

    def __init__(self, name, argv, workdir):
        self.name = name
        self.log_path = os.path.join(workdir, f"{name}.log")
        with open(self.log_path, "wb") as log:
            log.write(("$ " + " ".join(argv) + "\n").encode())
            log.flush()
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-6000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def test_backplane_with_a_token_kubeconfig_and_envoy_over_mutual_tls(world, tmp_path):
    """The several-machines layout on one: `apoxy server` over TLS with a token file and RBAC; `apoxy backplane
    --kubeconfig` as a token user bound (with kubectl) to the built-in ClusterRole apoxy:control-plane, serving ADS
    over mutual TLS; an Envoy started from `apoxy backplane --print-bootstrap` with its client certificate. Traffic
    flows and the backplane writes status; its identity cannot change a spec."""
    _require_binaries()
    from dataplane.certs import TestCA
    from dataplane.ports import free_port
    from dataplane.envoy import EnvoyAdmin, StaticEnvoy
    from dataplane.stack import Kubectl
    work = str(tmp_path)
    ca = TestCA(os.path.join(work, "ca"), name="Apoxy Backplane Test CA")
    api_cert = ca.issue("api", ["localhost"], ip_addresses=["127.0.0.1"])
    xds_cert = ca.issue("xds", ["localhost"], ip_addresses=["127.0.0.1"])
    envoy_cert = ca.issue("envoy-1", [], client=True)
    tokens = os.path.join(work, "tokens.csv")
    with open(tokens, "w") as f:
        f.write('admin-token,admin,uid-admin,"system:masters"\nbackplane-token,backplane-1,uid-bp\n')
    api_port, xds_port, proxy_port, admin_port = free_port(), free_port(), free_port(), free_port()
    metrics_port = free_port()

    def kubeconfig(name, token):
        path = os.path.join(work, f"{name}.kubeconfig")
        with open(path, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "Config",
                       "clusters": [{"name": "api", "cluster": {"server": f"https://127.0.0.1:{api_port}",
                                                                "certificate-authority": ca.cert}}],
                       "users": [{"name": name, "user": {"token": token}}],
                       "contexts": [{"name": "api", "context": {"cluster": "api", "user": name}}],
                       "current-context": "api"}, f)
        return path

    admin_kubeconfig = kubeconfig("admin", "admin-token")
    backplane_kubeconfig = kubeconfig("backplane", "backplane-token")
    xds_tls = ["--xds-tls-cert-file", xds_cert.cert, "--xds-tls-private-key-file", xds_cert.key,
               "--xds-client-ca-file", ca.cert]
    processes = []
    try:
        server = _Process("apoxy-server", [
            find_apoxy(), "server", "--listen", f"127.0.0.1:{api_port}", "--data-dir", os.path.join(work, "data"),
            "--tls-cert-file", api_cert.cert, "--tls-private-key-file", api_cert.key,
            "--token-auth-file", tokens], work)
        processes.append(server)
        admin = Kubectl(None, work, kubeconfig=admin_kubeconfig)
        wait_until(lambda: admin.run("auth", "whoami", check=False).returncode == 0, timeout=CONVERGE,
                   message=f"the API server answers kubectl:\n{server.log()}")
        admin.run("create", "clusterrolebinding", "backplane-1", "--clusterrole=apoxy:control-plane",
                  "--user=backplane-1")
        backplane = _Process("apoxy-backplane", [
            find_apoxy(), "backplane", "--kubeconfig", backplane_kubeconfig, "--xds-listen", f"127.0.0.1:{xds_port}",
            "--proxy-listen", f"127.0.0.1:{proxy_port}", "--proxy-name", "edge-1", "--log-level", "debug",
            "--metrics-listen", f"127.0.0.1:{metrics_port}", *xds_tls], work)
        processes.append(backplane)
        printed = subprocess.run([
            find_apoxy(), "backplane", "--print-bootstrap", "--proxy-name", "edge-1",
            "--xds-listen", f"127.0.0.1:{xds_port}", *xds_tls, "--envoy-cert-file", envoy_cert.cert,
            "--envoy-key-file", envoy_cert.key, "--envoy-ca-file", ca.cert],
            capture_output=True, text=True, timeout=30)
        assert printed.returncode == 0, printed.stderr
        bootstrap = json.loads(printed.stdout)
        bootstrap["admin"]["address"]["socket_address"]["port_value"] = admin_port
        envoy = StaticEnvoy(bootstrap, work, name="edge-1")
        envoy.start(timeout=30)
        processes.append(envoy)
        assert envoy.admin.stats(r"cluster\.xds_cluster\.ssl\.handshake")["cluster.xds_cluster.ssl.handshake"] >= 1

        admin.apply(docs(backend("bp-plain", ["ip:127.0.0.1"]),
                         route("bp-plain", ["bp.test"], "bp-plain", port=world.plain_port)))

        class Stack:
            proxy = ("127.0.0.1", proxy_port)
        served_by(Stack, "bp.test", "plain-a")
        programmed = wait_until(
            lambda: (conditions(admin.get("backends.core.apoxy.dev", "bp-plain")).get("Programmed") or {})
            .get("status") == "True", timeout=CONVERGE, message=f"Programmed=True:\n{backplane.log()}")
        assert programmed
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as resp:
            scraped = samples_of(resp.read().decode())
        _assert_control_plane_metrics(scraped)
        # Least privilege: the backplane's token reads and writes status, and nothing else.
        backplane_kubectl = Kubectl(None, work, kubeconfig=backplane_kubeconfig)
        assert backplane_kubectl.run("auth", "can-i", "patch", "backends.core.apoxy.dev", check=False).stdout.strip() == "no"
        assert backplane_kubectl.run("auth", "can-i", "patch", "backends.core.apoxy.dev", "--subresource=status",
                                     check=False).stdout.strip() == "yes"
        refused = backplane_kubectl.run("patch", "backends.core.apoxy.dev", "bp-plain", "--type", "merge",
                                        "-p", '{"spec":{"protocol":"tls"}}', check=False)
        assert refused.returncode != 0 and "forbidden" in refused.stderr, refused.stderr
    finally:
        for process in reversed(processes):
            process.stop()


def test_two_backplanes_record_their_own_status_without_fighting(world, tmp_path):
    """Two `apoxy backplane` processes (edge-1, edge-2), each with its own Envoy, against one API server: each writes
    only its own `status.proxies` entry and route parent; the top-level Programmed is True once both have the
    generation, both compute the same value, and the object stops changing (no fight)."""
    _require_binaries()
    import time
    from dataplane.ports import free_port
    from dataplane.envoy import StaticEnvoy
    from dataplane.stack import Kubectl
    work = str(tmp_path)
    api_port = free_port()
    processes = []
    try:
        server = _Process("apoxy-server", [
            find_apoxy(), "server", "--listen", f"127.0.0.1:{api_port}", "--data-dir", os.path.join(work, "data")], work)
        processes.append(server)
        kubectl = Kubectl(f"http://127.0.0.1:{api_port}", work)
        wait_until(lambda: kubectl.run("get", "backends.core.apoxy.dev", check=False).returncode == 0, timeout=CONVERGE,
                   message=f"the API server answers:\n{server.log()}")
        proxy_ports = {}
        for name in ("edge-1", "edge-2"):
            xds_port, proxy_ports[name] = free_port(), free_port()
            backplane = _Process(f"backplane-{name}", [
                find_apoxy(), "backplane", "--server", f"http://127.0.0.1:{api_port}", "--proxy-name", name,
                "--xds-listen", f"127.0.0.1:{xds_port}", "--proxy-listen", f"127.0.0.1:{proxy_ports[name]}"], work)
            processes.append(backplane)
            printed = subprocess.run([find_apoxy(), "backplane", "--print-bootstrap", "--proxy-name", name,
                                      "--xds-listen", f"127.0.0.1:{xds_port}"], capture_output=True, text=True, timeout=30)
            assert printed.returncode == 0, printed.stderr
            bootstrap = json.loads(printed.stdout)
            bootstrap["admin"]["address"]["socket_address"]["port_value"] = free_port()
            envoy = StaticEnvoy(bootstrap, work, name=name)
            envoy.start(timeout=30)
            processes.append(envoy)
        kubectl.apply(docs(backend("shared", ["ip:127.0.0.1"]),
                           route("shared", ["shared.test"], "shared", port=world.plain_port)))
        for name, port in proxy_ports.items():
            class Proxy:
                proxy = ("127.0.0.1", port)
            served_by(Proxy, "shared.test", "plain-a")

        def converged():
            obj = kubectl.get("backends.core.apoxy.dev", "shared")
            entries = {p["name"]: p for p in obj.get("status", {}).get("proxies", [])}
            top = conditions(obj).get("Programmed", {})
            ok = set(entries) == {"edge-1", "edge-2"} and all(
                c["status"] == "True" for p in entries.values() for c in p["conditions"] if c["type"] == "Programmed")
            return obj if ok and top.get("status") == "True" else None
        obj = wait_until(converged, timeout=CONVERGE, message="both backplanes' entries and an aggregate Programmed=True")
        assert conditions(obj)["Programmed"]["message"] == "programmed through every backplane: edge-1, edge-2"
        assert obj["status"]["propagation"]["proxies"] == 2
        route_obj = kubectl.get("httproutes.gateway.apoxy.dev", "shared")
        parents = sorted(p["parentRef"]["name"] for p in route_obj["status"]["parents"])
        assert parents == ["edge-1", "edge-2"], route_obj["status"]
        # No fight: the objects stay as they are.
        versions = (obj["metadata"]["resourceVersion"], route_obj["metadata"]["resourceVersion"])
        time.sleep(2)
        assert (kubectl.get("backends.core.apoxy.dev", "shared")["metadata"]["resourceVersion"],
                kubectl.get("httproutes.gateway.apoxy.dev", "shared")["metadata"]["resourceVersion"]) == versions
    finally:
        for process in reversed(processes):
            process.stop()
