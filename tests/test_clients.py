"""The client setups of docs/clients.md (Apollo Client, Relay, urql, GraphQL Code Generator),
each run for real by Node (``npm run <setup>`` in tests/clients) against a served gateway."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gateway.app import create_app
from gateway.config import Settings
from tests.support import node_tool, serve_over_http

CLIENTS_PROJECT = Path(__file__).resolve().parent / "clients"

pytestmark = [pytest.mark.node, pytest.mark.slow]


def npm() -> str:
    """npm (skipped without Node or the installed project, except in CI)."""
    installed = CLIENTS_PROJECT / "node_modules" / "@apollo" / "client"
    return node_tool(CLIENTS_PROJECT, installed, "the client setups", tool="npm")


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
