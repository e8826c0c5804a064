"""Small HTTP and polling helpers shared by the fixture self-tests and the `apoxy dev` tests."""
import http.client
import json
import time
from dataclasses import dataclass, field


@dataclass
class ProxyResponse:
    status: int
    headers: dict            # lower-cased response header names -> value (Envoy's, e.g. server, x-envoy-*)
    body: bytes
    json: object = field(default=None)

    @property
    def server(self):
        """The upstream's name when it answered (JSON body from upstreams.py), else None."""
        return self.json.get("server") if isinstance(self.json, dict) else None

    def __repr__(self):
        text = self.body[:300].decode("utf-8", "replace")
        return f"ProxyResponse({self.status}, headers={self.headers}, body={text!r})"


def curl_proxy(proxy, path="/", host_header=None, method="GET", headers=None, body=None, timeout=10.0):
    """One request on a new connection to the Envoy listener `proxy` = (host, port). Returns a ProxyResponse
    (json is the parsed body when it is JSON). A new connection per call, so Envoy picks an upstream per call."""
    host, port = proxy
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if host_header is not None:
            hdrs["Host"] = host_header  # http.client then sends no Host of its own
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        parsed = None
        if "json" in (resp.getheader("content-type") or ""):
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = None
        return ProxyResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, parsed)
    finally:
        conn.close()


def wait_until(predicate, timeout=10.0, interval=0.1, message=None):
    """Poll `predicate` until it returns a truthy value (returned) or `timeout` seconds pass (AssertionError that
    shows the last value or exception). Exceptions inside the predicate count as "not yet"."""
    deadline = time.monotonic() + timeout
    last, last_exc = None, None
    while True:
        try:
            last = predicate()
            last_exc = None
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - reported below
            last_exc = e
        if time.monotonic() > deadline:
            detail = f"last exception: {last_exc!r}" if last_exc is not None else f"last value: {last!r}"
            raise AssertionError(f"{message or 'condition'} not met within {timeout}s; {detail}")
        time.sleep(interval)


def servers_reached(proxy, want, host_header=None, path="/", attempts=40, **kwargs):
    """Send requests until every upstream name in `want` answered (or `attempts` ran out); return
    {server name: [ProxyResponse]} for every response received (non-200 ones under key None)."""
    seen = {}
    for _ in range(attempts):
        r = curl_proxy(proxy, path, host_header=host_header, **kwargs)
        seen.setdefault(r.server if r.status == 200 else None, []).append(r)
        if set(want) <= set(seen):
            break
    return seen
