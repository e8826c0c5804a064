"""Fixtures for the data-plane tests: real DNS, certificates, upstream HTTP servers, Envoy and `apoxy dev`.

Everything listens on loopback only (127.0.0.1, 127.0.0.2, ::1) on ports picked at run time.

    dns.py        dnslib DNS server (UDP+TCP), records changeable at run time, query log
    certs.py      test CA + leaf certificates (openssl CLI), bundle = system CA bundle + test CA
    upstreams.py  HTTP/1.1 (optionally TLS, records SNI) servers in threads; hypercorn h2 / h2c subprocesses
                  (asgi_server.py); every answer is JSON {server, http_version, scheme, host, path, method, sni}
    world.py      all of the above as the set both test files use
    envoy.py      Envoy binary lookup, admin API reader, static-bootstrap runner
    bootstraps.py the reference clusters/bootstraps (shared/reference/envoy/tested-bootstraps) with run-time ports
    stack.py      `apoxy dev` subprocess + kubectl with a generated kubeconfig; wait_until, curl_proxy
    httpcheck.py  curl_proxy / wait_until / servers_reached

Run (after scripts/install-tools.sh):
    .venv/bin/python -m pytest -q tests-python/dataplane          # fixtures against a static Envoy
    .venv/bin/python -m pytest -q tests-python/test_dataplane.py   # against `apoxy dev`
"""
