"""``lms-gateway`` as people run it: ``--version``, every command's ``--help`` (plain text, each
option's default), the log format on a terminal, and a port already in use."""

from __future__ import annotations

import argparse
import os
import pty
import re
import socket
import subprocess
import threading
from importlib.metadata import version

import httpx
import pytest

from gateway.cli import build_parser
from gateway.simulator import SimulatorConfig
from tests.support import console_script, free_port, wait_until_answering

# reST roles (:class:`X`), inline literals (``x``) and interpreted text (`x`).
REST_MARKUP = re.compile(r"`|:[a-z]+:")


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # A fixed width: argparse wraps help to the terminal's (COLUMNS when it is set).
    return subprocess.run(
        [*console_script(), *args],
        env={**env, "COLUMNS": "100"},
        capture_output=True,
        text=True,
        timeout=30,
    )


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser of the command line with the words that reach it, the top one first."""
    found = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                found += commands(subparser, (*path, name))
    return found


COMMANDS = commands(build_parser())


def option_entries(help_text: str) -> dict[str, str]:
    """Each option's entry in a ``--help`` text, by its first option string, lines joined."""
    entries: dict[str, str] = {}
    current = None
    for line in help_text.splitlines():
        start = re.match(r" {2}(-[\w-]+)", line)
        if start:
            current = start.group(1)
            entries[current] = line.strip()
        elif current and line.startswith(" " * 3):  # the entry's help, indented further
            entries[current] += " " + line.strip()
        else:
            current = None
    return entries


@pytest.mark.unit
def test_the_command_line_has_every_command():
    assert {" ".join(path) for path, _ in COMMANDS} == {
        "",
        "serve",
        "simulator",
        "export-schema",
        "bench",
        "hash-key",
        "persisted-queries",
        "persisted-queries build",
    }


@pytest.mark.http
def test_version_prints_the_installed_version(clean_env):
    result = run("--version", env=clean_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"lms-gateway {version('lms-gateway')}"


@pytest.mark.http
@pytest.mark.parametrize(
    ("path", "parser"), COMMANDS, ids=[" ".join(path) or "lms-gateway" for path, _ in COMMANDS]
)
def test_help_is_plain_text_and_names_every_default(clean_env, path, parser):
    result = run(*path, "--help", env=clean_env)
    assert result.returncode == 0, result.stderr
    assert not REST_MARKUP.findall(result.stdout), result.stdout
    entries = option_entries(result.stdout)
    takes_a_value = [
        action.option_strings[0]
        for action in parser._actions
        if action.option_strings and action.nargs != 0  # a flag's default is its absence
    ]
    missing = [
        option
        for option in takes_a_value
        if "(default: " not in entries[option] or "default: None" in entries[option]
    ]
    assert not missing, result.stdout


@pytest.mark.http
def test_serve_help_names_the_variable_behind_each_option(clean_env):
    entries = option_entries(run("serve", "--help", env=clean_env).stdout)
    assert entries["--host"].endswith("(default: 127.0.0.1; env LMS_GATEWAY_HOST)")
    assert entries["--port"].endswith("(default: 8000; env LMS_GATEWAY_PORT)")
    assert entries["--log-level"].endswith("(default: info; env LMS_GATEWAY_LOG_LEVEL)")


@pytest.mark.http
def test_simulator_help_names_its_default_api_key(clean_env):
    entries = option_entries(run("simulator", "--help", env=clean_env).stdout)
    assert f"(default: {SimulatorConfig().api_key})" in entries["--api-key"]


@pytest.mark.http
@pytest.mark.parametrize("given_by", ["option", "environment"])
def test_a_port_in_use_is_one_clear_line_before_anything_starts(clean_env, given_by):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        if given_by == "option":
            result = run("serve", "--port", str(port), env=clean_env)
        else:
            result = run("serve", env={**clean_env, "LMS_GATEWAY_PORT": str(port)})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"lms-gateway: error: port {port} on 127.0.0.1 is already in use "
        "(set --port or LMS_GATEWAY_PORT)"
    ]
    assert "startup complete" not in result.stderr.lower() + result.stdout.lower()


@pytest.mark.http
def test_an_address_not_of_this_machine_is_one_clear_line(clean_env):
    # 192.0.2.0/24 is reserved for documentation: no machine has it.
    result = run("serve", "--host", "192.0.2.1", "--port", str(free_port()), env=clean_env)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("lms-gateway: error: cannot listen on 192.0.2.1 port ")


@pytest.mark.http
@pytest.mark.slow
def test_serve_writes_plain_text_logs_to_a_terminal(clean_env):
    port = free_port()
    terminal, stderr = pty.openpty()
    written: list[bytes] = []

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # EIO: the process closed its end
                return
            if not chunk:
                return
            written.append(chunk)

    process = subprocess.Popen(
        [*console_script(), "serve", "--port", str(port)],
        env=clean_env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    os.close(stderr)
    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    try:
        wait_until_answering(process, f"http://127.0.0.1:{port}/healthz")
        httpx.get(f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "tty-1"})
    finally:
        process.terminate()
        process.wait(timeout=10)
        reader.join(timeout=10)
        os.close(terminal)
    text = b"".join(written).decode()
    assert "gateway.access [tty-1] http request" in text
    assert not any(line.lstrip().startswith("{") for line in text.splitlines())
