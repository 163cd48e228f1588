"""The client setups of docs/clients.md (Apollo Client, Relay, urql, GraphQL Code Generator),
each run for real by Node (``npm run <setup>`` in tests/clients) against a served gateway."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.config import Settings
from tests.support import serve_over_http

CLIENTS_PROJECT = Path(__file__).resolve().parent / "clients"

pytestmark = [pytest.mark.node, pytest.mark.slow]


def npm() -> str:
    """npm; skipped without Node or the installed project, except in CI (``CI`` set), where
    a missing tool must fail the run instead of hiding the setups (as for the audit)."""
    found = shutil.which("npm")
    if shutil.which("node") is None or found is None:
        missing = "node and npm are not installed"
    elif not (CLIENTS_PROJECT / "node_modules" / "@apollo" / "client").is_dir():
        missing = "the client setups are not installed: npm ci --prefix tests/clients"
    else:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{missing} (CI is set, so the client setups may not be skipped)")
    pytest.skip(missing)


@pytest.mark.parametrize("setup", ["apollo", "relay", "urql", "codegen"])
def test_the_client_setup_works_against_a_served_gateway(demo_settings: Settings, setup: str):
    command = [npm(), "run", "--silent", setup]
    with serve_over_http(create_app(demo_settings)) as base:
        result = subprocess.run(
            command,
            cwd=CLIENTS_PROJECT,
            env={**os.environ, "GATEWAY_URL": f"{base}/graphql", "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert result.returncode == 0, f"npm run {setup} failed:\n{result.stdout}\n{result.stderr}"
