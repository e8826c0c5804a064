"""A schemathesis check (loaded through SCHEMATHESIS_HOOKS) that fails on every server error but one that is
kube-apiserver's documented answer: a list or get with `resourceVersion` newer than the store's revision is
504 Timeout, "Too large resource version", with `retryAfterSeconds` (client-go's reflector retries on it). The fuzzer
reaches it whenever it sends a positive resourceVersion to an empty store; every other 5xx still fails the run.
"""
import json
from urllib.parse import parse_qs, urlsplit

import schemathesis
from schemathesis.checks import not_a_server_error


def is_kube_too_large_resource_version(status_code: int, body: bytes, url: str) -> bool:
    """True only for 504 with a Status of reason Timeout naming a too-large resourceVersion the request really sent."""
    if status_code != 504:
        return False
    try:
        status = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(status, dict) or status.get("kind") != "Status" or status.get("reason") != "Timeout":
        return False
    if not str(status.get("message", "")).startswith("Too large resource version"):
        return False
    if not isinstance(status.get("details"), dict) or not status["details"].get("retryAfterSeconds"):
        return False
    versions = parse_qs(urlsplit(url).query).get("resourceVersion", [])
    return any(version.isdigit() and int(version) > 0 for version in versions)


@schemathesis.check
def kube_not_a_server_error(ctx, response, case):
    """schemathesis's own not_a_server_error, except kube's 504 for a resourceVersion newer than the store."""
    if is_kube_too_large_resource_version(response.status_code, response.content, response.request.url or ""):
        return None
    return not_a_server_error(ctx, response, case)
