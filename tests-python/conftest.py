"""Shared pytest hooks for tests-python/.

When a test fails, any fixture value that has a `pytest_failure_sections()` method (the data-plane fixtures:
`apoxy dev`, static Envoys) adds its log to the failure report, so a red run shows what the server said.
"""
import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when in ("setup", "call"):
        for value in getattr(item, "funcargs", {}).values():
            # Looked up on the type, so objects with a catch-all __getattr__ (kubernetes' dynamic resources) are
            # never asked.
            sections = getattr(type(value), "pytest_failure_sections", None)
            if callable(sections):
                try:
                    for title, text in sections(value):
                        report.sections.append((title, text))
                except Exception as e:  # noqa: BLE001 - never hide the real failure
                    report.sections.append(("failure sections", repr(e)))
