"""Data-plane benchmark: time from an API write to Envoy serving the change, with 1, 1,000 and 10,000 Backends present.

Runs `apoxy dev` (APOXY_BINARY, default the release build) with a real Envoy and one HTTP upstream on loopback. For
each size N it first fills the API with N Backends, each used by its own HTTPRoute (so Envoy holds N clusters and N
virtual hosts), then measures, per sample: create a Backend and an HTTPRoute for a new host name, and poll Envoy
every 2 ms until that host answers 200 through the new cluster. The clock starts when the API acknowledges the
route (the second write) and stops at the first 200. Then the same probes' Backends get a new endpoint address (only
their load assignments change, EDS) and their routes a second host name (only the route configuration changes, RDS),
each timed from the PATCH's answer to the first answer Envoy gives that shows it. Per kind of change it reports apoxy
dev's and Envoy's CPU per change and the mean write -> ACK per xDS type from /metrics. It also reports the control plane's own translation time
(API objects -> Envoy resources -> checked snapshot), read from its log, for the largest size.

Each size runs twice in one run, on a fresh stack per ADS variant: state of the world (sotw) and incremental (delta).

Usage: python -m dataplane.bench [--sizes 1,1000,10000] [--samples 20] [--protocols sotw,delta] [--output FILE]
(from tests-python/)
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import re
import statistics
import sys
import tempfile
import time

from dataplane.stack import ApoxyDev
from dataplane.upstreams import HTTPUpstream
from dataplane.httpcheck import wait_until
from dataplane.ports import free_port


def api_request(conn, method, path, body=None, content_type="application/json"):
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": content_type, "Accept": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status >= 300:
        raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
    return json.loads(data) if data else None


def backend(name):
    return {"apiVersion": "core.apoxy.dev/v1alpha2", "kind": "Backend", "metadata": {"name": name},
            "spec": {"protocol": "", "endpoints": [{"ip": "127.0.0.1"}]}}


def route(name, port):
    return {"apiVersion": "gateway.apoxy.dev/v1", "kind": "HTTPRoute", "metadata": {"name": name},
            "spec": {"hostnames": [f"{name}.bench.test"], "rules": [{"backendRefs": [{"name": name, "port": port}]}]}}


# What each probe changes: a new Backend and route (CDS + EDS + RDS); an endpoint (EDS); a route's host names (RDS).
CHANGES = ("new_route", "endpoint_edit", "route_edit")
BACKENDS = "/apis/core.apoxy.dev/v1alpha2/backends"
ROUTES = "/apis/gateway.apoxy.dev/v1/httproutes"


def fill(api_port, start, stop, upstream_port, workers=8):
    """Creates Backends and routes start..stop-1 over several keep-alive connections."""
    def work(indices):
        conn = http.client.HTTPConnection("127.0.0.1", api_port, timeout=60)
        for i in indices:
            api_request(conn, "POST", BACKENDS, backend(f"fill-{i}"))
            api_request(conn, "POST", ROUTES, route(f"fill-{i}", upstream_port))
        conn.close()
    chunks = [range(start + k, stop, workers) for k in range(workers)]
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, chunks))


def envoy_cluster_count(dev):
    stats = dev.admin.stats(filter_regex="^cluster_manager.active_clusters$")
    return stats.get("cluster_manager.active_clusters", 0)


def merge_patch(conn, path, patch):
    return api_request(conn, "PATCH", path, patch, content_type="application/merge-patch+json")


def served_ms(dev, host, accepts, what, fresh_connections=False, timeout=60):
    """Polls Envoy every 2 ms with Host `host` until `accepts(response, body)`; milliseconds from the call. With
    `fresh_connections` each request opens a new connection (an established one stays with the host it was opened
    to); otherwise one keep-alive connection is reused and reopened after an error."""
    started = time.perf_counter()
    proxy = http.client.HTTPConnection(*dev.proxy, timeout=5)
    headers = {"Host": host, **({"Connection": "close"} if fresh_connections else {})}
    deadline = started + timeout
    while time.perf_counter() < deadline:
        try:
            proxy.request("GET", "/", headers=headers)
            response = proxy.getresponse()
            body = response.read()
            if accepts(response, body):
                proxy.close()
                return (time.perf_counter() - started) * 1000
            failed = False
        except (OSError, http.client.HTTPException):
            failed = True
        if failed or fresh_connections:
            proxy.close()
            proxy = http.client.HTTPConnection(*dev.proxy, timeout=5)
        time.sleep(0.002)
    raise RuntimeError(f"{what} not served within {timeout}s")


def answered_200(response, body):
    return response.status == 200


def answered_by(server):
    def accepts(response, body):
        try:
            return response.status == 200 and json.loads(body).get("server") == server
        except ValueError:
            return False
    return accepts


def probe(dev, api_conn, name, upstream_port, timeout=60):
    api_request(api_conn, "POST", BACKENDS, backend(name))
    api_request(api_conn, "POST", ROUTES, route(name, upstream_port))
    return served_ms(dev, f"{name}.bench.test", answered_200, name, timeout=timeout)


def edit_probe(dev, api_conn, name, timeout=60):
    """Moves Backend `name`'s endpoint from 127.0.0.1 to 127.0.0.2 (another upstream on the same port) and polls until
    Envoy answers from the new address. Only the Backend's ClusterLoadAssignment changes (EDS): no cluster, listener or
    route configuration is resent."""
    merge_patch(api_conn, f"{BACKENDS}/{name}", {"spec": {"endpoints": [{"ip": "127.0.0.2"}]}})
    return served_ms(dev, f"{name}.bench.test", answered_by("bench-2"), f"{name}'s endpoint edit",
                     fresh_connections=True, timeout=timeout)


def route_edit_probe(dev, api_conn, name, timeout=60):
    """Adds a second host name to route `name` and polls until Envoy serves it: only the route configuration changes
    (RDS), no cluster or load assignment."""
    merge_patch(api_conn, f"{ROUTES}/{name}", {"spec": {"hostnames": [f"{name}.bench.test", f"{name}-alt.bench.test"]}})
    return served_ms(dev, f"{name}-alt.bench.test", answered_200, f"{name}-alt", timeout=timeout)


PROPAGATION = re.compile(r'^apoxy_xds_propagation_seconds_(sum|count)\{type="(\w+)"\} ([0-9.e+-]+)$', re.M)


def propagation_totals(dev):
    """{type: (sum seconds, count)} of the control plane's translation-start -> proxy ACK histogram, from /metrics."""
    conn = http.client.HTTPConnection("127.0.0.1", dev.api_port, timeout=30)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    totals = {}
    for kind, xds_type, value in PROPAGATION.findall(text):
        total, count = totals.get(xds_type, (0.0, 0))
        totals[xds_type] = (float(value), count) if kind == "sum" else (total, int(float(value)))
    return totals


def mean_propagation_ms(before, after):
    """Mean translation-start -> ACK per xDS type over the ACKs between two /metrics reads."""
    means = {}
    for xds_type, (total, count) in after.items():
        total0, count0 = before.get(xds_type, (0.0, 0))
        if count > count0:
            means[xds_type] = round((total - total0) * 1000 / (count - count0), 1)
    return means


def cpu_seconds(pid):
    """User + system CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    """Resident set size of a process, MiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def envoy_pid(dev):
    """The Envoy that `apoxy dev` started (its child process)."""
    for task in os.listdir(f"/proc/{dev.proc.pid}/task"):
        with open(f"/proc/{dev.proc.pid}/task/{task}/children") as children:
            for pid in children.read().split():
                with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                    if b"envoy" in cmdline.read():
                        return int(pid)
    raise RuntimeError("apoxy dev has no Envoy child")


def percentile(values, p):
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[k]


def translation_times(log_path, backends_at_least):
    pattern = re.compile(r"backends=(\d+) .*?translation_ms=([\d.]+)")
    times = []
    with open(log_path, errors="replace") as log:
        for line in log:
            match = pattern.search(line)
            if match and int(match.group(1)) >= backends_at_least:
                times.append(float(match.group(2)))
    return times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,1000,10000")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--output", default="dataplane-results.json")
    parser.add_argument("--protocols", default="sotw,delta",
                        help="ADS variants to run one after the other in this run (each on a fresh stack)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {"runs": []}
    for protocol in args.protocols.split(","):
        print(f"--- ADS {protocol}", flush=True)
        results["runs"].append(run(protocol, sizes, args.samples))
        results["binary"] = results["runs"][-1].pop("binary")

    print()
    print("| ADS | Backends present | change | write -> Envoy serving p50 | p99 | max | samples | apoxy CPU per change "
          "| Envoy CPU per change | write -> ACK by type (mean) | Envoy RSS |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for run_result in results["runs"]:
        for row in run_result["sizes"]:
            for change in CHANGES:
                c = row.get(change)
                if c is None:
                    continue
                acks = ", ".join(f"{t} {ms}" for t, ms in sorted(c["ack_ms_by_type"].items()))
                print(f"| {run_result['protocol']} | {row['backends_present']:,} | {change.replace('_', ' ')} "
                      f"| {c['p50_ms']} ms | {c['p99_ms']} ms | {c['max_ms']} ms | {c['samples']} "
                      f"| {c['apoxy_cpu_ms_per_change']} ms | {c['envoy_cpu_ms_per_change']} ms | {acks} "
                      f"| {row['envoy_rss_mib']} MiB |")
    for run_result in results["runs"]:
        if "translation_ms_at_largest" in run_result:
            t = run_result["translation_ms_at_largest"]
            print(f"{run_result['protocol']}: translation of {t['backends']:,}+ Backends (and as many routes): "
                  f"p50 {t['p50']} ms, max {t['max']} ms over {t['count']} translations")
    with open(args.output, "w") as out:
        json.dump(results, out, indent=2)
    print(f"results: {args.output}")
    return 0


def run(protocol, sizes, samples):
    """One stack with Envoy on `protocol` (delta or sotw): fill to each size, then time the probes."""

    work = tempfile.mkdtemp(prefix="apoxy-dataplane-bench-")
    upstream_port = free_port()
    upstream = HTTPUpstream("bench", "127.0.0.1", upstream_port)
    upstream.start()
    # The endpoint edits move a Backend here: same port, another loopback address, another name in the answer.
    moved = HTTPUpstream("bench-2", "127.0.0.2", upstream_port)
    moved.start()
    # Plain HTTP: this measures the data plane, and fills the API with a plain keep-alive client.
    dev = ApoxyDev(workdir=work, log_level="info", secure=False, extra_args=["--xds-protocol", protocol])
    dev.start(timeout=60)
    results = {"protocol": protocol, "sizes": [], "binary": dev.binary}
    try:
        api = http.client.HTTPConnection("127.0.0.1", dev.api_port, timeout=60)
        present = 0
        for size in sizes:
            fill_started = time.perf_counter()
            # N Backends present, each with its route (the probes of earlier sizes count too).
            fill(dev.api_port, present, size, upstream_port) if size > present else None
            present = max(present, size)
            wait_until(lambda: envoy_cluster_count(dev) >= present, timeout=600, interval=0.05,
                       message=f"Envoy holds {present} clusters")
            fill_seconds = time.perf_counter() - fill_started
            envoy = envoy_pid(dev)

            def measure(change):
                cpu_before, envoy_before, acks_before = cpu_seconds(dev.proc.pid), cpu_seconds(envoy), propagation_totals(dev)
                latencies = [change(k) for k in range(samples)]
                # The CPU is the whole `apoxy dev` process (the API server's writes and watch fan-out, translation, xDS
                # pushes and status writes) and, separately, Envoy's.
                return {
                    "samples": len(latencies), "p50_ms": round(statistics.median(latencies), 1),
                    "p99_ms": round(percentile(latencies, 99), 1), "max_ms": round(max(latencies), 1),
                    "apoxy_cpu_ms_per_change": round((cpu_seconds(dev.proc.pid) - cpu_before) * 1000 / samples, 1),
                    "envoy_cpu_ms_per_change": round((cpu_seconds(envoy) - envoy_before) * 1000 / samples, 1),
                    "ack_ms_by_type": mean_propagation_ms(acks_before, propagation_totals(dev)),
                }

            # A new Backend and its route: a cluster, its load assignment and the route configuration.
            new_route = measure(lambda k: probe(dev, api, f"probe-{size}-{k}", upstream_port))
            # Then the same Backends' endpoints moved: one load assignment each.
            endpoint_edit = measure(lambda k: edit_probe(dev, api, f"probe-{size}-{k}"))
            # Then their routes given a second host name: the route configuration alone.
            route_edit = measure(lambda k: route_edit_probe(dev, api, f"probe-{size}-{k}"))
            row = {
                "backends_present": present, "fill_seconds": round(fill_seconds, 1),
                "envoy_rss_mib": round(rss_mib(envoy), 1), "new_route": new_route, "endpoint_edit": endpoint_edit,
                "route_edit": route_edit,
                # The new-route figures at the top level too, as earlier runs reported them.
                **{k: new_route[k] for k in ("samples", "p50_ms", "p99_ms", "max_ms", "apoxy_cpu_ms_per_change")},
            }
            results["sizes"].append(row)
            for change in CHANGES:
                c = row[change]
                print(f"N={present:>6} {change:>13}: write -> served p50 {c['p50_ms']} ms, p99 {c['p99_ms']} ms, "
                      f"max {c['max_ms']} ms ({c['samples']} samples; fill {row['fill_seconds']} s); "
                      f"CPU per change apoxy {c['apoxy_cpu_ms_per_change']} ms, Envoy {c['envoy_cpu_ms_per_change']} ms; "
                      f"write -> ACK {c['ack_ms_by_type']}; Envoy RSS {row['envoy_rss_mib']} MiB", flush=True)
        largest = max(sizes)
        times = translation_times(dev.log_path, largest)
        if times:
            results["translation_ms_at_largest"] = {"backends": largest, "p50": statistics.median(times),
                                                    "max": max(times), "count": len(times)}
    finally:
        dev.stop()
        upstream.stop()
        moved.stop()

    return results


if __name__ == "__main__":
    sys.exit(main())
