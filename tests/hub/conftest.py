"""The class cycle's steps share one hub: after a failed step the later ones are skipped with
the name of the step that failed (instead of failing on what it left undone)."""

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and getattr(item.module, "STEPS_IN_ORDER", False):
        item.module.FAILED_STEP = item.name


def pytest_runtest_setup(item):
    failed = getattr(item.module, "FAILED_STEP", None)
    if failed:
        pytest.skip(f"an earlier step of the cycle failed: {failed}")
