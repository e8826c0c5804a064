"""Static Envoy bootstraps for the fixture self-tests, built like the reference bootstraps that were run
(shared/reference/envoy/tested-bootstraps): one HTTP listener with an inline route table, the reference cluster of
each Backend case, plus the test-only overrides (c-ares resolver pointing at the test DNS server, trusted CA file =
system bundle + test CA).
"""

HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER = {"name": "envoy.filters.http.router",
          "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}
ACCESS_LOG = [{
    "name": "envoy.access_loggers.stdout",
    "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
        "log_format": {"text_format_source": {"inline_string":
            "ACCESS %REQ(:AUTHORITY)% %PROTOCOL% -> cluster=%UPSTREAM_CLUSTER% upstream_host=%UPSTREAM_HOST% "
            "code=%RESPONSE_CODE% flags=%RESPONSE_FLAGS% upstream_tls=%UPSTREAM_TLS_VERSION% "
            "upstream_failure=%UPSTREAM_TRANSPORT_FAILURE_REASON%\n"}},
    },
}]


def socket_address(host, port):
    return {"socket_address": {"address": host, "port_value": port}}


def cares_resolver(dns_host, dns_port):
    return {
        "name": "envoy.network.dns_resolver.cares",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig",
            "resolvers": [socket_address(dns_host, dns_port)],
            "dns_resolver_options": {"use_tcp_for_dns_lookups": False, "no_default_search_domain": True},
        },
    }


def http_protocol_options(http2=False):
    return {"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        "explicit_http_config": {"http2_protocol_options": {}} if http2 else {"http_protocol_options": {}},
    }}


def upstream_tls(ca_file, alpn):
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
            "auto_host_sni": True,
            "auto_sni_san_validation": True,
            "common_tls_context": {
                "tls_params": {"tls_minimum_protocol_version": "TLSv1_2", "tls_maximum_protocol_version": "TLSv1_3"},
                "alpn_protocols": [alpn],
                "validation_context": {"trusted_ca": {"filename": ca_file}},
            },
        },
    }


def cluster(name, endpoints, port, protocol="", ca_file=None, dns_lookup_family="V4_PREFERRED"):
    """The reference cluster for a non-dynamic Backend: endpoints = [("ip"|"fqdn", value)], protocol ""|tls|h2|h2c."""
    has_fqdn = any(kind == "fqdn" for kind, _ in endpoints)
    c = {
        "name": name,
        "type": "STRICT_DNS" if has_fqdn else "STATIC",
        "connect_timeout": "5s",
        "lb_policy": "ROUND_ROBIN",
        "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": [
            {"endpoint": {"address": socket_address(value, port)}} for _, value in endpoints]}]},
        "typed_extension_protocol_options": http_protocol_options(http2=protocol in ("h2", "h2c")),
    }
    if has_fqdn:
        c["dns_lookup_family"] = dns_lookup_family
    if protocol in ("tls", "h2"):
        c["transport_socket"] = upstream_tls(ca_file, "h2" if protocol == "h2" else "http/1.1")
    return c


def dns_cache_config(name, family, dns):
    return {
        "name": name, "dns_lookup_family": family, "dns_refresh_rate": "60s", "dns_min_refresh_rate": "5s",
        "host_ttl": "300s", "max_hosts": 1024, "dns_query_timeout": "5s",
        "typed_dns_resolver_config": cares_resolver(*dns),
    }


def dfp_filter(cache):
    return {"name": "envoy.filters.http.dynamic_forward_proxy", "typed_config": {
        "@type": "type.googleapis.com/envoy.extensions.filters.http.dynamic_forward_proxy.v3.FilterConfig",
        "dns_cache_config": cache}}


def dfp_cluster(name, cache):
    return {"name": name, "connect_timeout": "5s", "lb_policy": "CLUSTER_PROVIDED",
            "cluster_type": {"name": "envoy.clusters.dynamic_forward_proxy", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig",
                "dns_cache_config": cache}}}


def vhost(name, domains, cluster_name, prefix="/"):
    return {"name": name, "domains": domains,
            "routes": [{"match": {"prefix": prefix}, "route": {"cluster": cluster_name}}]}


def bootstrap(admin_port, listen_port, virtual_hosts, clusters, http_filters=(), dns=None, hcm_extra=None):
    hcm = {
        "@type": HCM,
        "stat_prefix": "ingress",
        "codec_type": "AUTO",
        "access_log": ACCESS_LOG,
        "route_config": {"name": "main", "virtual_hosts": list(virtual_hosts)},
        "http_filters": [*http_filters, ROUTER],
    }
    hcm.update(hcm_extra or {})
    b = {
        "node": {"id": "fixture-selftest", "cluster": "fixture-selftest"},
        "admin": {"address": socket_address("127.0.0.1", admin_port)},
        "static_resources": {
            "listeners": [{
                "name": "ingress",
                "address": socket_address("127.0.0.1", listen_port),
                "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                                "typed_config": hcm}]}],
            }],
            "clusters": list(clusters),
        },
    }
    if dns is not None:
        b["typed_dns_resolver_config"] = cares_resolver(*dns)
    return b
