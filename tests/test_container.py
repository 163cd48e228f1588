"""The Dockerfile's contract, checked without a Docker engine: what it declares, and its
default command and HEALTHCHECK run here against a real ``lms-gateway serve``."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support import console_script, free_port, serving

ROOT = Path(__file__).resolve().parent.parent
# The Container section of the production guide.
OPERATIONS = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")


def instructions(text: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` in order, continuation lines joined, comments dropped."""
    joined = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions((ROOT / "Dockerfile").read_text(encoding="utf-8"))
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def one(stage: list[tuple[str, str]], keyword: str) -> str:
    values = [rest for found, rest in stage if found == keyword]
    assert len(values) == 1, f"{keyword}: {values}"
    return values[0]


def environment(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, rest in stage:
        if keyword == "ENV":
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def healthcheck_command(stage: list[tuple[str, str]]) -> str:
    options, _, command = one(stage, "HEALTHCHECK").partition(" CMD ")
    assert "--timeout=" in options and "--interval=" in options
    return command.strip()


@pytest.mark.unit
def test_the_image_runs_slim_as_an_unprivileged_user_and_declares_its_port_and_health():
    stage = final_stage()
    assert re.fullmatch(r"python:3\.1[1-9]-slim\S*", one(stage, "FROM"))
    user = one(stage, "USER").split(":")[0]
    assert user not in ("", "0", "root")
    env = environment(stage)
    assert one(stage, "EXPOSE") == env["LMS_GATEWAY_PORT"]
    check = healthcheck_command(stage)
    assert "/healthz" in check and "curl" not in check and "wget" not in check
    # Configuration by environment: the image carries no portal, key or accounts file.
    assert not [name for name in env if name.startswith("TALENTLMS_")]
    assert "LMS_GATEWAY_ACCOUNTS_FILE" not in env and "ALLOW_ANONYMOUS" not in str(env)


@pytest.mark.unit
def test_the_default_command_is_the_one_the_docs_document():
    command = json.loads(one(final_stage(), "CMD"))
    assert command == ["lms-gateway", "serve", "--host", "0.0.0.0"]
    assert " ".join(command) in OPERATIONS


@pytest.mark.unit
def test_the_build_context_is_an_allow_list():
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "gateway", "schema"}


def run_healthcheck(check: str, port: int) -> int:
    """The HEALTHCHECK command as Docker runs it (``/bin/sh -c``), with our Python."""
    env = {
        **os.environ,
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "LMS_GATEWAY_PORT": str(port),
    }
    return subprocess.run(["/bin/sh", "-c", check], env=env, timeout=30).returncode


@pytest.mark.http
@pytest.mark.slow
def test_the_default_command_serves_demo_data_and_passes_its_own_healthcheck():
    stage = final_stage()
    command = json.loads(one(stage, "CMD"))
    assert command[0] == "lms-gateway"
    port = free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TALENTLMS_", "LMS_GATEWAY_"))
    }
    image_env = {k: v for k, v in environment(stage).items() if k.startswith("LMS_GATEWAY_")}
    env.update(image_env, LMS_GATEWAY_PORT=str(port))
    with serving(env, [*console_script(), *command[1:]]) as (process, base):
        assert run_healthcheck(healthcheck_command(stage), port) == 0
        answer = httpx.post(f"{base}/graphql", json={"query": '{ user(remoteId: "8") { name } }'})
        assert answer.json()["data"] == {"user": {"name": "Ingrid Rossi"}}
        assert httpx.get(f"{base}/readyz").status_code == 200
        process.send_signal(signal.SIGTERM)  # what `docker stop` sends
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "DEMO DATA" in stderr
    assert run_healthcheck(healthcheck_command(stage), port) != 0  # and it notices a dead one


@pytest.mark.http
@pytest.mark.slow
def test_with_real_portals_and_no_gateway_keys_the_image_refuses_to_start():
    command = json.loads(one(final_stage(), "CMD"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TALENTLMS_", "LMS_GATEWAY_"))},
        "TALENTLMS_BASE_URL": "http://127.0.0.1:9/api/v1",
        "TALENTLMS_API_KEY": "portal-key-not-to-be-shown",
        "LMS_GATEWAY_PORT": str(free_port()),
    }
    image = subprocess.run(
        [*console_script(), *command[1:]], env=env, capture_output=True, text=True, timeout=60
    )
    # The same policy when the address comes from LMS_GATEWAY_HOST instead of --host.
    by_env = subprocess.run(
        [*console_script(), "serve"],
        env={**env, "LMS_GATEWAY_HOST": "0.0.0.0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    for result in (image, by_env):
        assert result.returncode == 2
        assert "LMS_GATEWAY_ACCOUNTS_FILE" in result.stderr
        assert "portal-key-not-to-be-shown" not in result.stderr
