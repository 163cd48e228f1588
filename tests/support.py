"""What the test modules share: the gateway in process, any ASGI app or the console script
over real HTTP, a recording TalentLMS double, and the documented examples.

Fixtures live in ``conftest.py``. No test module imports another one
(``test_suite_rules.py`` checks it): a helper two modules need belongs here.
"""

from __future__ import annotations

import codecs
import copy
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.http.serving import serve_in_thread
from gateway.simulator import SimulatorConfig, create_simulator_app
from gateway.simulator.learnworlds.data import MSG_NOT_FOUND as LEARNWORLDS_MSG_NOT_FOUND
from gateway.tenancy.accounts import DEFAULT_ACCOUNT_ID
from gateway.tenancy.authorization import hash_key
from schema.types.node import encode_global_id

__all__ = [
    "DOCS",
    "EXAMPLES",
    "LEARNWORLDS_DENIED",
    "LEARNWORLDS_NOT_FOUND",
    "LEARNWORLDS_OBJECT_ID",
    "LEARNWORLDS_TOO_MANY",
    "QUERIES",
    "README_EXAMPLES",
    "ROOT",
    "Captured",
    "Output",
    "RecordingUpstream",
    "codes",
    "console_script",
    "counted",
    "free_port",
    "gateway_client",
    "gid",
    "graphql_blocks",
    "keyed_settings",
    "merge_parts",
    "multipart_parts",
    "node_tool",
    "post",
    "query_text",
    "replaced",
    "running",
    "serve_over_http",
    "serving",
    "simulator_stats",
    "talentlms_over_http",
    "upstream_settings",
    "wait_until_answering",
    "without_typenames",
]

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "queries"
DOCS = sorted((ROOT / "docs").glob("*.md"))

serve_over_http = serve_in_thread  # any ASGI app over real HTTP on 127.0.0.1


# --- the gateway in process ---------------------------------------------------------------


@asynccontextmanager
async def gateway_client(
    settings: Settings | None = None, upstream: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client wired to a fresh gateway in process (its lifespan runs)."""
    app = create_app(settings or Settings(), upstream_transport=upstream)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


async def post(client: httpx.AsyncClient, query: str, variables: dict | None = None) -> dict:
    """The JSON answer to ``query`` POSTed to /graphql, which must be a 200."""
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    return response.json()


def codes(body: dict) -> list[str]:
    """``extensions.code`` of each error of a GraphQL answer, in order."""
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def query_text(name: str) -> str:
    return (QUERIES / f"{name}.graphql").read_text(encoding="utf-8")


def simulator_stats(client: httpx.AsyncClient) -> dict[str, int]:
    """Calls the embedded simulator has answered, per endpoint name, but for the free
    /ratelimit reads the gateway makes in the background to watch the quota."""
    stats = client.app.state.runtime.simulator.state.stats.by_endpoint  # type: ignore[attr-defined]
    return {name: count for name, count in stats.items() if name != "ratelimit"}


def counted(upstream: dict[str, object]) -> dict[str, object]:
    """``extensions.upstream`` without the portal's quota, which moves on its own."""
    return {k: v for k, v in upstream.items() if k not in ("quotaRemaining", "quotaResetAt")}


class RecordingUpstream(httpx.AsyncBaseTransport):
    """A simulator behind a transport that records requests and can inject failures.

    ``faults`` maps a regular expression on the request path to a response (or an
    exception to raise) used instead of the simulator's answer.
    """

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.simulator = create_simulator_app(config or SimulatorConfig())
        self._inner = httpx.ASGITransport(app=self.simulator)
        self.faults: dict[str, httpx.Response | Exception] = {}
        self.rewrites: list[tuple[str, str]] = []
        self.paths: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        self.paths.append(path)
        for pattern, fault in self.faults.items():
            if re.search(pattern, path):
                if isinstance(fault, Exception):
                    raise fault
                return fault
        for pattern, replacement in self.rewrites:
            path = re.sub(pattern, replacement, path)
        request.url = request.url.copy_with(raw_path=path.encode())
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._inner.handle_async_request(request)
        finally:
            self.in_flight -= 1


@contextmanager
def talentlms_over_http(**config: Any) -> Iterator[tuple[str, Callable[[], dict[str, int]]]]:
    """The TalentLMS simulator over real HTTP: its URL and its call counts (without the
    gateway's /ratelimit reads of the quota)."""
    app = create_simulator_app(SimulatorConfig(**config))
    stats = app.state.simulator.stats

    def calls() -> dict[str, int]:
        return {name: n for name, n in stats.by_endpoint.items() if name != "ratelimit"}

    with serve_over_http(app) as url:
        yield url, calls


# The LearnWorlds API's own answers, as its simulator sends them (both simulator test files).
LEARNWORLDS_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
LEARNWORLDS_NOT_FOUND = {"error": LEARNWORLDS_MSG_NOT_FOUND}
LEARNWORLDS_DENIED = {
    "errors": [
        {
            "code": "401",
            "context": "access_denied",
            "message": "The resource owner or authorization server denied the request.",
        }
    ],
    "success": False,
}
LEARNWORLDS_TOO_MANY = {"error": "Too many requests"}


def keyed_settings(tmp_path: Path, key: str, **overrides: Mapping[str, Any]) -> Settings:
    """``upstream_settings`` behind one gateway API key (``key``) that reaches every account."""
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f'[[api_keys]]\nname = "client"\nsha256 = "{hash_key(key)}"\naccounts = ["*"]\n',
        encoding="utf-8",
    )
    return replaced(upstream_settings(tenancy={"accounts_file": accounts}), **overrides)


def upstream_settings(**overrides: Mapping[str, Any]) -> Settings:
    """Settings for a gateway pointed at a TalentLMS double (not demo mode); ``overrides``
    change fields of groups, as in ``upstream_settings(retry={"attempts": 1})``."""
    portal = {"base_url": "http://upstream.test/api/v1", "api_key": SimulatorConfig().api_key}
    return replaced(Settings(upstream=portal), **overrides)


def replaced(settings: Settings, **groups: Mapping[str, Any]) -> Settings:
    """``settings`` with some fields of some groups changed (and validated again):
    ``replaced(settings, cache={"enabled": False})``."""
    changed = {}
    for name, fields in groups.items():
        group = getattr(settings, name)
        changed[name] = type(group)(**{**group.model_dump(), **fields})
    return settings.model_copy(update=changed)


class Captured:
    """What the JSON handler on the root logger wrote during a test (the ``logs`` fixture)."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    @property
    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines()]  # each must be JSON


# --- answers in parts (multipart/mixed) ---------------------------------------------------


def multipart_parts(content_type: str, chunks: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """The JSON parts of a ``multipart/mixed`` answer, each as soon as its chunks are in, read
    the way Apollo Client 3 reads them (``readMultipartBody`` in
    ``@apollo/client/link/http/parseAndCheckHttpResponse``), step for step: the boundary is
    the ``boundary=`` parameter (quotes removed; ``-`` without one); a part ends where
    ``CRLF--boundary`` starts; its headers end at the first blank line and any
    ``Content-Type`` must name ``application/json``; a part that is only ``{"hasNext":
    false}`` ends the answer, and a part with one key that is neither ``data``,
    ``incremental`` nor ``errors`` is skipped. What follows the last boundary (the closing
    ``--``) is never read."""
    marker = "boundary="
    value = "-"
    if marker in content_type:
        value = content_type[content_type.index(marker) + len(marker) :]
        value = re.sub(r";(.*)", "", re.sub(r"['\"]", "", value)).strip()
    boundary = f"\r\n--{value}"
    decoder = codecs.getincrementaldecoder("utf-8")()
    buffer = ""
    for chunk in chunks:
        search_from = max(len(buffer) - len(boundary) + 1, 0)
        buffer += decoder.decode(chunk)
        at = buffer.find(boundary, search_from)
        while at > -1:
            message, buffer = buffer[:at], buffer[at + len(boundary) :]
            blank = message.find("\r\n\r\n")
            headers = {}
            for line in message[:blank].split("\n"):
                name, colon, rest = line.partition(":")
                if colon:
                    headers[name.strip().lower()] = rest.strip()
            part_type = headers.get("content-type")
            assert part_type is None or "application/json" in part_type.lower(), part_type
            body = message[blank:]
            if body:
                result = json.loads(body)
                if len(result) > 1 or {"data", "incremental", "errors", "payload"} & set(result):
                    yield result
                elif result == {"hasNext": False}:
                    return
            at = buffer.find(boundary)


def merge_parts(parts: Iterable[Mapping[str, Any]]) -> tuple[Any, list[dict[str, Any]]]:
    """The data and the errors the parts of an answer add up to, in either format: the
    ``path`` of each ``incremental`` entry (deferSpec=20220824), or the ``path`` its ``id`` was
    announced with in ``pending`` and its ``subPath`` (graphql-core's). Deferred data is merged
    into the object at its path; streamed items go into the list at their path, from the index
    given (deferSpec=20220824) or at its end."""
    data: Any = None
    errors: list[dict[str, Any]] = []
    pending: dict[str, list[str | int]] = {}
    for index, part in enumerate(parts):
        if index == 0:
            data = copy.deepcopy(part.get("data"))  # the parts themselves stay as they came
        errors += part.get("errors", [])
        for announced in part.get("pending", []):
            pending[announced["id"]] = announced["path"]
        for entry in part.get("incremental", []):
            errors += entry.get("errors", [])
            if "id" in entry:
                path = [*pending[entry["id"]], *entry.get("subPath", [])]
                start = None
            else:
                path = list(entry["path"])
                start = path.pop() if "items" in entry else None
            if "items" in entry:
                target = _at(data, path)
                if entry["items"] is not None:
                    at = len(target) if start is None else int(start)
                    target[at:at] = copy.deepcopy(entry["items"])
            elif entry["data"] is None:
                _put(data, path, None)
            else:
                _deep_merge(_at(data, path), copy.deepcopy(entry["data"]))
        for done in part.get("completed", []):
            errors += done.get("errors", [])
    return data, errors


def _at(data: Any, path: list[str | int]) -> Any:
    for key in path:
        data = data[key]
    return data


def _put(data: Any, path: list[str | int], value: Any) -> None:
    _at(data, path[:-1])[path[-1]] = value


def _deep_merge(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    for key, value in source.items():
        if isinstance(target.get(key), dict) and isinstance(value, Mapping):
            _deep_merge(target[key], value)
        else:
            target[key] = value


# --- the console script as a process ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def console_script() -> list[str]:
    found = shutil.which("lms-gateway", path=os.path.dirname(sys.executable))
    return [found] if found else [sys.executable, "-m", "gateway"]


class Output:
    stderr = ""


def wait_until_answering(process: subprocess.Popen[str], url: str, seconds: float = 30) -> None:
    """Until ``url`` answers without a server error; fails if ``process`` exits first."""
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise AssertionError(f"exited early: {process.communicate()[1]}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("did not start in time")
        time.sleep(0.1)


@contextmanager
def running(args: list[str], env: dict[str, str], ready_url: str) -> Iterator[Output]:
    """Run the console script until the block ends; its stderr is readable afterwards."""
    output = Output()
    process = subprocess.Popen(
        console_script() + args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_until_answering(process, ready_url)
        yield output
    finally:
        process.terminate()
        output.stderr = process.communicate(timeout=10)[1]


@contextmanager
def serving(
    env: dict[str, str], command: list[str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``lms-gateway serve`` (or ``command``, which must then take its port from
    ``LMS_GATEWAY_PORT`` in ``env``) once /healthz answers: the process and its URL. Killed
    on the way out if the test has not ended it."""
    if command is None:
        port = free_port()
        command = [*console_script(), "serve", "--port", str(port)]
    else:
        port = int(env["LMS_GATEWAY_PORT"])
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until_answering(process, f"{base}/healthz")
    try:
        yield process, base
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


# --- the documented examples --------------------------------------------------------------


def graphql_blocks(text: str) -> list[str]:
    """The fenced ``graphql`` code blocks of a Markdown text."""
    return re.findall(r"```graphql\n(.*?)```", text, re.S)


README_EXAMPLES = graphql_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
# The README's example first: test_readme compares it with its printed answer.
EXAMPLES = README_EXAMPLES + [
    block for doc in DOCS for block in graphql_blocks(doc.read_text(encoding="utf-8"))
]


def gid(type_name: str, remote_id: object, account: str = DEFAULT_ACCOUNT_ID) -> str:
    """The global id the gateway gives ``type_name``'s record ``remote_id`` (the provider's id)
    in ``account`` (the single-account and demo gateway's is ``default``)."""
    return encode_global_id(type_name, account, str(remote_id))


def without_typenames(value: Any) -> Any:
    """``value`` (a GraphQL result) without its ``__typename`` keys."""
    if isinstance(value, dict):
        return {k: without_typenames(v) for k, v in value.items() if k != "__typename"}
    if isinstance(value, list):
        return [without_typenames(v) for v in value]
    return value


def node_tool(project: Path, installed: Path, what: str, tool: str = "node") -> str:
    """The path of ``tool`` (``node`` or ``npm``) for the Node project under ``tests/`` at
    ``project``, once ``installed`` (a file or folder its ``npm ci`` writes) is there; skipped
    otherwise, except in CI (``CI`` set), where a missing tool must fail the run instead of
    hiding ``what`` it checks."""
    found = shutil.which(tool)
    if shutil.which("node") is None or found is None:
        missing = f"{tool} is not installed"
    elif not installed.exists():
        missing = f"the Node project is not installed: npm ci --prefix {project.relative_to(ROOT)}"
    else:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{missing} (CI is set, so {what} may not be skipped)")
    pytest.skip(missing)
