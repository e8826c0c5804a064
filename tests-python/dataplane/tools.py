"""Missing tools: a skip on a developer machine, a failure under CI=true or APOXY_REQUIRE_TOOLS=1."""
import os

import pytest


def tools_required():
    return os.environ.get("CI") == "true" or os.environ.get("APOXY_REQUIRE_TOOLS") == "1"


def require(path, what):
    """Return `path` when it is an executable file; otherwise skip (or fail when tools are required)."""
    if path and os.access(path, os.X_OK):
        return path
    message = f"{what} not found ({path or 'no path'}); run scripts/install-tools.sh"
    if tools_required():
        pytest.fail(message)
    pytest.skip(message)
