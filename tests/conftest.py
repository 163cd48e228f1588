"""Fixtures, and the rule that every test names its layer (tests/README.md).

Helpers the test modules share are in ``support.py``; this file holds only fixtures and hooks.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from gateway.config import Settings
from gateway.observability.logs import log_handler
from tests.support import Captured

LAYERS = frozenset({"unit", "http", "browser", "node"})
"""Every test carries exactly one of these markers (registered in pyproject.toml)."""


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects: every collected test is checked
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    wrong = []
    for item in items:
        layers = {mark.name for mark in item.iter_markers()} & LAYERS
        if len(layers) != 1:
            wrong.append(f"{item.nodeid}: {', '.join(sorted(layers)) or 'none'}")
    if wrong:
        raise pytest.UsageError(
            f"every test needs exactly one layer marker of {', '.join(sorted(LAYERS))} "
            "(a module's pytestmark, or on the test or its class; see tests/README.md):\n  "
            + "\n  ".join(wrong)
        )


@pytest.fixture
def demo_settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Demo-mode settings that ignore whatever TALENTLMS_* the machine has set."""
    for name in ("TALENTLMS_DOMAIN", "TALENTLMS_BASE_URL", "TALENTLMS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return Settings()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment without any gateway or TalentLMS setting (for subprocess gateways)."""
    for name in list(os.environ):
        if name.startswith(("TALENTLMS_", "LMS_GATEWAY_")):
            monkeypatch.delenv(name)
    return dict(os.environ)


@pytest.fixture
def logs() -> Iterator[Captured]:
    """Every log record of the test, as the JSON handler writes it."""
    captured = Captured()
    handler = log_handler(captured.stream, "json")
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # every record, the libraries' debug lines included
    # As configure_logging does: httpx's INFO line per request shows URLs (this test's own
    # client's too, with their query strings).
    quiet = logging.getLogger("httpx")
    quiet_level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        quiet.setLevel(quiet_level)
