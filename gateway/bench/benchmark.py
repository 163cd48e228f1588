"""``lms-gateway bench``: what the gateway costs, measured against what it could cost at best.

Absolute timings depend on the machine, so every headline here is a ratio of two things
measured (or computed) side by side in one run:

* **calls** — upstream calls the gateway made for each ``queries/`` operation, against the
  minimum the TalentLMS v1 API allows for that query over the same simulated data (reasoned
  per operation, as in ``tests/test_queries.py``), and against what a naive
  resolver-per-field implementation without loaders would make (computed, not measured);
* **latency** — p50/p95 over real HTTP against the critical path: the sequential upstream
  round trips the query cannot avoid × the simulated upstream latency;
* **CPU** — gateway CPU time per resolved field (upstream answers replayed from memory, so the
  simulator's own work is not counted) against bare graphql-core executing the same result
  shape from in-memory dicts;
* **throughput** at N concurrent clients against a ``uvicorn`` subprocess (1 worker, and
  2 with ``--workers 2``), and peak RSS;
* a latency-vs-size series (and SVG chart) for a growing dashboard result.

The report goes to ``DIR/report.json``, ``DIR/report.md`` and ``DIR/chart.svg``; see
``docs/benchmark.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from graphql import (
    GraphQLResolveInfo,
    GraphQLSchema,
    OperationDefinitionNode,
    graphql_sync,
    parse,
    print_ast,
)
from graphql import build_schema as build_sdl_schema
from starlette.applications import Starlette

from gateway.config import (
    CacheSettings,
    ExecutionSettings,
    PacingSettings,
    Settings,
    SimulatorSettings,
    UpstreamSettings,
)
from gateway.http.serving import serve_in_thread
from gateway.simulator import Portal, SimulatorConfig, create_simulator_app, generate_portal
from schema.incremental import INCREMENTAL_DIRECTIVES, inline_incremental

__all__ = [
    "BenchConfig",
    "Operation",
    "add_bench_arguments",
    "bench_app",
    "bench_simulator_app",
    "count_fields",
    "load_operations",
    "render_svg",
    "run_bench",
    "run_benchmark",
]

ROOT = Path(__file__).resolve().parents[2]
QUERIES_DIR = ROOT / "queries"
SDL_PATH = ROOT / "schema" / "schema.graphql"

# Knobs that would otherwise throttle a benchmark rather than describe the gateway: the
# simulator's hourly quota and the gateway's pacing and per-operation call budget.
UNLIMITED = 10**9
# The simulator subprocess's portal (JSON of SimulatorConfig fields), for bench_simulator_app.
SIMULATOR_ENV = "LMS_GATEWAY_BENCH_SIMULATOR"
REPLAY_BASE_URL = "http://upstream.bench/api/v1"


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------


def _gateway_app(*args: Any, **kwargs: Any) -> Starlette:
    """``gateway.app.create_app``, imported on first use: the CLI imports this module to
    build its options for every command, and most commands never start a gateway."""
    from gateway.app import create_app

    return create_app(*args, **kwargs)


@dataclass(frozen=True)
class BenchConfig:
    """One benchmark run's knobs (the CLI options, after ``--quick`` is applied)."""

    users: int = 120
    courses: int = 12
    latency_ms: float = 50.0  # the issue states the latency target at 50 ms
    iterations: int = 20
    concurrency: int = 8
    output: Path = Path("bench-report")
    quick: bool = False
    workers: int = 1
    throughput_seconds: float = 5.0
    cpu_repeats: int = 30
    seed: int = 7
    soak_seconds: float = 0.0  # 0: no memory soak
    soak_clients: int = 32

    @classmethod
    def quick_config(cls, output: Path, workers: int = 1) -> BenchConfig:
        """The CI smoke size: finishes in seconds; numbers are meaningless, structure is not."""
        return cls(
            users=12,
            courses=4,
            latency_ms=2.0,
            iterations=3,
            concurrency=2,
            output=output,
            quick=True,
            workers=workers,
            throughput_seconds=0.5,
            cpu_repeats=2,
        )

    def simulator_config(self, latency_ms: float = 0.0) -> SimulatorConfig:
        return SimulatorConfig(
            seed=self.seed,
            users=self.users,
            courses=self.courses,
            latency_ms=latency_ms,
            hourly_limit=UNLIMITED,
            burst_limit=None,
        )

    def settings(self, latency_ms: float) -> Settings:
        """Demo mode, no shared cache (every request makes its real upstream calls)."""
        return Settings(
            upstream=UpstreamSettings(api_key=None, domain=None, base_url=None),
            cache=CacheSettings(enabled=False),
            simulator=SimulatorSettings(
                seed=self.seed, users=self.users, courses=self.courses, latency_ms=latency_ms
            ),
            pacing=PacingSettings(max_calls=UNLIMITED),
            execution=ExecutionSettings(max_upstream_calls=UNLIMITED),
        )

    def simulator_env(self) -> dict[str, str]:
        """The simulator subprocess's portal, for ``bench_simulator_app``."""
        env = dict(os.environ)
        env[SIMULATOR_ENV] = json.dumps(
            {
                "seed": self.seed,
                "users": self.users,
                "courses": self.courses,
                "latency_ms": self.latency_ms,
                "hourly_limit": UNLIMITED,
                "burst_limit": None,
            }
        )
        return env

    def portal_settings(self, base_url: str) -> dict[str, str]:
        """The gateway's settings for the simulator subprocess at ``base_url``, as a real
        portal (no demo mode, no shared cache), by environment variable name."""
        return {
            "TALENTLMS_BASE_URL": f"{base_url}/api/v1",
            "TALENTLMS_API_KEY": SimulatorConfig().api_key,
            "TALENTLMS_DATE_FORMAT": SimulatorConfig().date_format,
            "LMS_GATEWAY_CACHE": "false",
            "TALENTLMS_PACE_MAX_CALLS": str(UNLIMITED),
            "LMS_GATEWAY_MAX_UPSTREAM_CALLS": str(UNLIMITED),
        }

    def server_env(self, upstream_url: str) -> dict[str, str]:
        """The gateway subprocess's environment: ``portal_settings`` and nothing else of
        TalentLMS from the caller's environment."""
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TALENTLMS_")}
        env.update(self.portal_settings(upstream_url))
        return env


def _unthrottle(app: Starlette) -> Starlette:
    """Lift the embedded simulator's hourly quota and burst cap: a benchmark makes thousands
    of calls, as fast as the gateway can."""
    simulator = app.state.runtime.simulator
    if simulator is not None:
        simulator.state.rate_limiter.limit = UNLIMITED
        simulator.state.burst_limiter.limit = None
    return app


def bench_app() -> Starlette:
    """The gateway the ``uvicorn`` subprocess serves
    (``--factory gateway.bench.benchmark:bench_app``).

    Settings come from the environment ``BenchConfig.server_env`` prepared.
    """
    return _gateway_app(Settings())


def bench_simulator_app() -> Starlette:
    """The simulator subprocess (``--factory gateway.bench.benchmark:bench_simulator_app``):
    its portal comes from ``LMS_GATEWAY_BENCH_SIMULATOR``, which ``BenchConfig.simulator_env``
    sets."""
    return create_simulator_app(SimulatorConfig(**json.loads(os.environ[SIMULATOR_ENV])))


# ---------------------------------------------------------------------------------------------
# Operations and their call models
# ---------------------------------------------------------------------------------------------

CallModel = Callable[[Portal, dict[str, Any], Any], int]


@dataclass
class Operation:
    """A GraphQL operation with what we know about its cost on TalentLMS v1.

    ``minimum`` and ``naive`` are ``None`` when nobody reasoned about the operation:
    the report then says "n/a" rather than inventing a number.
    """

    name: str
    query: str
    variables: dict[str, Any] = field(default_factory=dict)
    minimum: CallModel | None = None
    naive: CallModel | None = None
    depth: int | None = None  # sequential upstream round trips the API forces


def _dashboard_users(portal: Portal, first: int) -> list[str]:
    return portal.user_ids[:first]


def _min_dashboard(first: int) -> CallModel:
    def minimum(portal: Portal, _: dict[str, Any], __: Any) -> int:
        # 1 users page (names, emails, roles) + 1 users/id per user (v1's only source of
        # enrollment statuses) + 1 courses/id per distinct course (units → items, children).
        users = _dashboard_users(portal, first)
        courses = {c["id"] for uid in users for c in portal.user_detail(uid)["courses"]}
        return 1 + len(users) + len(courses)

    return minimum


def _naive_dashboard(first: int) -> CallModel:
    def naive(portal: Portal, _: dict[str, Any], __: Any) -> int:
        # users page, then per user users/id for enrollments, per enrollment courses/id
        # for the course and courses/id again for its items.
        users = _dashboard_users(portal, first)
        enrollments = sum(len(portal.user_detail(uid)["courses"]) for uid in users)
        return 1 + len(users) + 2 * enrollments

    return naive


def _roster(portal: Portal, variables: dict[str, Any]) -> list[dict[str, Any]]:
    roster: list[dict[str, Any]] = portal.course_detail(variables["courseRemoteId"])["users"]
    return roster[:100]


def _min_roster(portal: Portal, variables: dict[str, Any], _: Any) -> int:
    # courses/id lists the roster without statuses; each member's users/id has the status.
    return 1 + len(_roster(portal, variables))


def _naive_roster(portal: Portal, variables: dict[str, Any], _: Any) -> int:
    # course → courses/id; enrollments → courses/id again; per member the enrollment fields
    # → users/id and enrollment.user → users/id again.
    return 2 + 2 * len(_roster(portal, variables))


def _naive_attention(portal: Portal, variables: dict[str, Any], data: Any) -> int:
    # Like the roster, but only the members matching the filter resolve `user`; how many
    # match is read from the result (the status mapping is the gateway's own).
    matches = len(((data or {}).get("course") or {}).get("enrollments", {}).get("nodes", []))
    return 2 + len(_roster(portal, variables)) + matches


def _catalog_page(portal: Portal, variables: dict[str, Any]) -> list[dict[str, Any]]:
    published = [c for c in portal.courses if c["status"] == "active"]
    published.sort(key=lambda c: c["name"].casefold())
    return published[: int(variables.get("first", 10))]


def _min_catalog(portal: Portal, variables: dict[str, Any], _: Any) -> int:
    # /courses (v1 does not page it) + /categories, when a course on the page has one.
    page = _catalog_page(portal, variables)
    return 1 + (1 if any(c.get("category_id") for c in page) else 0)


def _naive_catalog(portal: Portal, variables: dict[str, Any], _: Any) -> int:
    # /courses + one categories/id per course's category.
    page = _catalog_page(portal, variables)
    return 1 + sum(1 for c in page if c.get("category_id"))


def _naive_outline(portal: Portal, variables: dict[str, Any], _: Any) -> int:
    # course → courses/id; items → courses/id; per section children → courses/id; per child
    # parent → courses/id.
    units = portal.course_detail(variables["courseRemoteId"])["units"]
    sections = sum(1 for u in units if u["type"] == "Section")
    first_section = next((i for i, u in enumerate(units) if u["type"] == "Section"), len(units))
    children = len(units) - first_section - sections
    return 2 + sections + children


def _naive_transcript(portal: Portal, variables: dict[str, Any], _: Any) -> int:
    # user → users/id; enrollments → users/id again; per enrollment course → courses/id.
    return 2 + min(50, len(portal.user_detail(variables["userRemoteId"])["courses"]))


def _one(*_: Any) -> int:
    return 1


def _const(value: int) -> CallModel:
    def model(*_: Any) -> int:
        return value

    return model


# Per queries/ operation: (minimum, naive, depth). Operations added to queries/ without an
# entry here are still benchmarked, with "n/a" for what nobody reasoned about.
MODELS: dict[str, tuple[CallModel, CallModel, int]] = {
    "learner_dashboard": (_min_dashboard(5), _naive_dashboard(5), 3),
    "learner_dashboard_fragments": (_min_dashboard(5), _naive_dashboard(5), 3),  # same data
    # The same operation with @defer: answered whole here (the bench accepts JSON only).
    "learner_dashboard_deferred": (_min_dashboard(5), _naive_dashboard(5), 3),
    "learner_transcript": (_one, _naive_transcript, 1),  # users/id has it all
    "course_roster": (_min_roster, _naive_roster, 2),
    "course_attention_needed": (_min_roster, _naive_attention, 2),  # filter needs statuses
    "catalog_page": (_min_catalog, _naive_catalog, 1),  # both lists can go in parallel
    "course_outline": (_one, _naive_outline, 1),  # courses/id units[] is the tree
    "enrollment_detail": (_one, _const(3), 1),  # users/id: enrollment, learner, title
    "users_updated_since": (_one, _one, 1),  # the filter is applied to one /users list
}


def _variables_for(name: str, portal: Portal) -> dict[str, Any]:
    """The queries' default variables, replaced where they name data this size lacks."""
    users, courses = portal.user_ids, portal.course_ids
    user_id = "8" if "8" in users else users[-1]
    course_id = "101" if "101" in courses else courses[0]
    if name == "learner_transcript":
        return {"userRemoteId": user_id}
    if name in ("course_roster", "course_attention_needed", "course_outline"):
        return {"courseRemoteId": course_id}
    if name == "enrollment_detail":
        entries = [c["id"] for c in portal.user_detail(user_id)["courses"]]
        course = "104" if "104" in entries else (entries[0] if entries else course_id)
        return {"remoteId": f"{user_id}:{course}"}
    if name == "catalog_page":
        return {"first": 10}
    return {}


def load_operations(portal: Portal, queries_dir: Path = QUERIES_DIR) -> list[Operation]:
    """Every ``queries/*.graphql`` operation, with its call models where we have them."""
    operations = []
    for path in sorted(queries_dir.glob("*.graphql")):
        minimum, naive, depth = MODELS.get(path.stem, (None, None, None))
        query = path.read_text(encoding="utf-8")
        variables = _variables_for(path.stem, portal)
        # GraphQL ignores variables an operation does not declare: a renamed one would
        # silently benchmark the defaults instead.
        declared = {
            definition.variable.name.value
            for operation in parse(query).definitions
            if isinstance(operation, OperationDefinitionNode)
            for definition in operation.variable_definitions or ()
        }
        if undeclared := set(variables) - declared:
            raise ValueError(f"{path.name} declares no {sorted(undeclared)}")
        operations.append(
            Operation(
                name=path.stem,
                query=query,
                variables=variables,
                minimum=minimum,
                naive=naive,
                depth=depth,
            )
        )
    return operations


def _size_query() -> str:
    """The example dashboard (queries/learner_dashboard.graphql) with the user count a variable."""
    text = (QUERIES_DIR / "learner_dashboard.graphql").read_text(encoding="utf-8")
    sized = text.replace("query LearnerDashboard {", "query Sized($first: Int!) {").replace(
        "users(first: 5)", "users(first: $first)"
    )
    if "$first" not in sized or "users(first: $first)" not in sized:
        raise RuntimeError("queries/learner_dashboard.graphql no longer has the expected shape")
    return sized


def size_operation(first: int) -> Operation:
    """The dashboard for the first ``first`` users: the result grows with ``first``."""
    return Operation(
        name=f"dashboard[{first}]",
        query=_size_query(),
        variables={"first": first},
        minimum=_min_dashboard(first),
        naive=_naive_dashboard(first),
        depth=3,
    )


def _size_steps(users: int, quick: bool) -> list[int]:
    steps = [1, 2, 4] if quick else [1, 2, 5, 10, 20, 50, 100]
    return [n for n in steps if n <= min(users, 100)]


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


def count_fields(value: Any) -> int:
    """Resolved fields in a result: every key of every object (leaves and objects alike)."""
    if isinstance(value, dict):
        return sum(1 + count_fields(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_fields(v) for v in value)
    return 0


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


class Progress:
    """A one-line textual progress bar on stderr (no dependency, no terminal tricks)."""

    def __init__(self, total: int, stream: Any = None, width: int = 30) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.width = width

    def step(self, label: str) -> None:
        self.done = min(self.done + 1, self.total)
        filled = self.width * self.done // self.total
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {label[:40]:<40}")
        if self.done == self.total:
            self.stream.write("\n")
        self.stream.flush()


class ReplayUpstream(httpx.AsyncBaseTransport):
    """Answers each distinct upstream request from memory after the simulator answered it once.

    Used only for CPU: the simulator runs in this process, so without replay its JSON work
    would be counted as the gateway's.
    """

    def __init__(self, simulator: Starlette) -> None:
        self._inner = httpx.ASGITransport(app=simulator)
        self._answers: dict[tuple[str, str, bytes], tuple[int, list[tuple[bytes, bytes]], bytes]]
        self._answers = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        key = (request.method, str(request.url), body)
        if key not in self._answers:
            response = await self._inner.handle_async_request(request)
            content = await response.aread()
            self._answers[key] = (response.status_code, list(response.headers.raw), content)
        status, headers, content = self._answers[key]
        return httpx.Response(status, headers=headers, content=content, request=request)


def _payload(op: Operation) -> dict[str, Any]:
    return {"query": op.query, "variables": op.variables}


def _checked(response: httpx.Response, op: Operation) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"{op.name} failed ({response.status_code}): {body.get('errors')}")
    return body


async def _measure_calls(
    config: BenchConfig, operations: list[Operation], progress: Progress
) -> dict[str, dict[str, Any]]:
    """Each operation once on a cacheless gateway: its result and ``extensions.upstream``."""
    app = _unthrottle(_gateway_app(config.settings(latency_ms=0.0)))
    out: dict[str, dict[str, Any]] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            for op in operations:
                body = _checked(await client.post("/graphql", json=_payload(op)), op)
                out[op.name] = {"data": body["data"], "upstream": body["extensions"]["upstream"]}
                progress.step(f"calls {op.name}")
    return out


def _bare_schema(sdl: str) -> GraphQLSchema:
    """The SDL's schema for bare graphql-core, without ``@defer`` and ``@stream``: its
    ``execute`` refuses a schema that declares them, and it answers the operations whole."""
    built = build_sdl_schema(sdl)
    kwargs: dict[str, Any] = dict(built.to_kwargs())
    kwargs["directives"] = [d for d in built.directives if d.name not in INCREMENTAL_DIRECTIVES]
    return GraphQLSchema(**kwargs)


def _bare_query(query: str) -> str:
    """``query`` as bare graphql-core runs it: the gateway answers a JSON client's @defer
    and @stream whole, so the same document without them."""
    document = parse(query)
    inlined = inline_incremental(document)
    return query if inlined is document else print_ast(inlined)


def _cpu_resolver(source: Any, info: GraphQLResolveInfo[Any], **_: Any) -> Any:
    """Resolve by response key from the dict shaped like the gateway's own result."""
    return source.get(info.path.key) if isinstance(source, dict) else None


async def _measure_cpu(
    config: BenchConfig,
    operations: list[Operation],
    results: dict[str, dict[str, Any]],
    sdl_schema: GraphQLSchema,
    progress: Progress,
) -> dict[str, dict[str, float]]:
    """Gateway CPU per resolved field (upstream replayed) vs. bare graphql-core, same data:
    the least CPU time of ``cpu_repeats`` requests on each side, taken alternately."""
    simulator = create_simulator_app(config.simulator_config())
    settings = Settings(
        upstream=UpstreamSettings(
            base_url=REPLAY_BASE_URL,
            api_key=simulator.state.config.api_key,
            date_format="DDMMYYYY",
        ),
        cache=CacheSettings(enabled=False),
        pacing=PacingSettings(max_calls=UNLIMITED),
        execution=ExecutionSettings(max_upstream_calls=UNLIMITED),
    )
    app = _gateway_app(settings, upstream_transport=ReplayUpstream(simulator))
    out: dict[str, dict[str, float]] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            for op in operations:
                _checked(await client.post("/graphql", json=_payload(op)), op)  # record
                data = results[op.name]["data"]
                # Alternating, and the least of each side: a GC pause or a preemption only
                # ever adds time, so the minimum is the steadiest estimate of the work.
                gateway_samples, core_samples = [], []
                bare_query = _bare_query(op.query)
                for _ in range(config.cpu_repeats):
                    started = time.process_time()
                    _checked(await client.post("/graphql", json=_payload(op)), op)
                    gateway_samples.append(time.process_time() - started)
                    started = time.process_time()
                    bare = graphql_sync(
                        sdl_schema,
                        bare_query,
                        root_value=data,
                        variable_values=op.variables,
                        field_resolver=_cpu_resolver,
                    )
                    core_samples.append(time.process_time() - started)
                    if bare.errors:
                        raise RuntimeError(
                            f"graphql-core baseline failed for {op.name}: {bare.errors}"
                        )
                gateway_cpu, core_cpu = min(gateway_samples), min(core_samples)
                fields = max(count_fields(data), 1)
                out[op.name] = {
                    "gateway_us_per_field": gateway_cpu / fields * 1e6,
                    "graphql_core_us_per_field": core_cpu / fields * 1e6,
                    "ratio": gateway_cpu / core_cpu if core_cpu > 0 else float("nan"),
                }
                progress.step(f"cpu {op.name}")
    return out


def _measure_latency(
    config: BenchConfig,
    operations: list[Operation],
    iterations: int,
    upstream_url: str,
    progress: Progress,
) -> dict[str, dict[str, float]]:
    """p50/p95 end to end over real HTTP.

    The gateway is served by uvicorn in a thread of this process and reaches the simulator
    subprocess at ``upstream_url`` (answering at ``latency_ms``) over HTTP, as a real portal:
    the simulator's CPU is not the gateway's. The client here waits on its socket (releasing
    the GIL) while the gateway works.
    """
    variables = {"TALENTLMS_DOMAIN": None, **config.portal_settings(upstream_url)}
    app = _gateway_app(Settings.from_variables(variables))
    out: dict[str, dict[str, float]] = {}
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url, timeout=60) as client:
        for op in operations:
            _checked(client.post("/graphql", json=_payload(op)), op)  # warm-up
            samples = []
            for _ in range(iterations):
                started = time.perf_counter()
                _checked(client.post("/graphql", json=_payload(op)), op)
                samples.append((time.perf_counter() - started) * 1000)
            out[op.name] = {
                "p50_ms": _percentile(samples, 0.5),
                "p95_ms": _percentile(samples, 0.95),
                "mean_ms": statistics.fmean(samples),
            }
            progress.step(f"latency {op.name}")
    return out


async def _drive(base_url: str, op: Operation, clients: int, seconds: float) -> dict[str, float]:
    """``clients`` concurrent loops sending ``op`` for ``seconds``: requests per second."""
    done = 0
    failed = 0
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        stop = time.perf_counter() + seconds

        async def loop() -> None:
            nonlocal done, failed
            while time.perf_counter() < stop:
                response = await client.post("/graphql", json=_payload(op))
                if response.status_code == 200 and not response.json().get("errors"):
                    done += 1
                else:
                    failed += 1

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {"requests": done, "failed": failed, "seconds": elapsed, "rps": done / elapsed}


_SERVER_PEAKS: list[int | None] = []


def _peak_rss_kib(pid: int) -> int | None:
    """Largest ``VmHWM`` (peak RSS, KiB) of ``pid`` and its child processes (Linux /proc).

    ``getrusage(RUSAGE_CHILDREN)`` is no use here: a forked child inherits its parent's
    high-water mark, so it would report the bench process's own peak.
    """
    peaks = []
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(p) for p in (task / "children").read_text().split()]
    except OSError:
        return None
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]))
        except OSError:
            continue
    return max(peaks) if peaks else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _uvicorn_subprocess(
    factory: str, env: dict[str, str], workers: int, ready_path: str
) -> Iterator[tuple[str, int]]:
    """``uvicorn --workers N --factory FACTORY`` on 127.0.0.1; yields its URL and pid once
    ``ready_path`` answers 200."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"uvicorn ({factory}) exited with {process.returncode}")
            try:
                if httpx.get(base_url + ready_path, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn ({factory}) did not start within 30 s")
            time.sleep(0.1)
        yield base_url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def _simulator_subprocess(config: BenchConfig) -> Iterator[str]:
    """The simulated portal in its own process, answering at ``latency_ms``: its base URL."""
    env = config.simulator_env()
    factory = "gateway.bench.benchmark:bench_simulator_app"
    with _uvicorn_subprocess(factory, env, 1, "/_simulator/health") as (base_url, _):
        yield base_url


@contextmanager
def _gateway_subprocess(
    config: BenchConfig, upstream_url: str, workers: int
) -> Iterator[tuple[str, int]]:
    """The gateway (``uvicorn --workers N``) over the simulator subprocess; peak RSS kept."""
    env = config.server_env(upstream_url)
    app = "gateway.bench.benchmark:bench_app"
    with _uvicorn_subprocess(app, env, workers, "/healthz") as served:
        try:
            yield served
        finally:
            _SERVER_PEAKS.append(_peak_rss_kib(served[1]))


def _rss_kib(pid: int) -> int | None:
    """Current resident set (``VmRSS``, KiB) of ``pid`` (Linux /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _measure_soak(
    config: BenchConfig, op: Operation, upstream_url: str, progress: Progress
) -> dict[str, Any]:
    """RSS of one worker before and after ``soak_seconds`` of ``soak_clients`` clients.

    Warmed up first, so that imports, caches and connection pools are in the start figure;
    what is left is growth that would continue in production.
    """
    if config.soak_seconds <= 0:
        return {"measured": False, "note": "not measured (run with --soak SECONDS)"}
    samples: list[int | None] = []
    requests = failed = 0
    with _gateway_subprocess(config, upstream_url, 1) as (base_url, pid):
        asyncio.run(_drive(base_url, op, config.soak_clients, min(5.0, config.soak_seconds)))
        samples.append(_rss_kib(pid))
        chunks = 6
        for _ in range(chunks):
            result = asyncio.run(
                _drive(base_url, op, config.soak_clients, config.soak_seconds / chunks)
            )
            requests += int(result["requests"])
            failed += int(result["failed"])
            samples.append(_rss_kib(pid))
    progress.step("memory soak")
    start, end = samples[0], samples[-1]
    growth = (end - start) / start * 100 if start and end else None
    return {
        "measured": True,
        "seconds": config.soak_seconds,
        "clients": config.soak_clients,
        "requests": requests,
        "failed": failed,
        "rss_kib_samples": samples,
        "rss_growth_percent": growth,
    }


def _measure_throughput(
    config: BenchConfig, op: Operation, upstream_url: str, progress: Progress
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for workers in (1, 2):
        key = f"workers_{workers}"
        if workers > config.workers:
            out[key] = {"measured": False, "note": f"not measured (run with --workers {workers})"}
            continue
        with _gateway_subprocess(config, upstream_url, workers) as (base_url, _):
            asyncio.run(_drive(base_url, op, 1, min(0.5, config.throughput_seconds)))  # warm
            result = asyncio.run(
                _drive(base_url, op, config.concurrency, config.throughput_seconds)
            )
        out[key] = {"measured": True, **result}
        progress.step(f"throughput {workers} worker(s)")
    return out


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _operation_row(
    op: Operation,
    portal: Portal,
    measured: dict[str, Any],
    latency: dict[str, float],
    cpu: dict[str, float] | None,
    latency_ms: float,
) -> dict[str, Any]:
    data = measured["data"]
    calls = int(measured["upstream"]["calls"])
    minimum = op.minimum(portal, op.variables, data) if op.minimum else None
    naive = op.naive(portal, op.variables, data) if op.naive else None
    critical = op.depth * latency_ms if op.depth is not None else None
    return {
        "name": op.name,
        "variables": op.variables,
        "fields": count_fields(data),
        "calls": {
            "measured": calls,
            "by_endpoint": measured["upstream"]["byEndpoint"],
            "minimum": minimum,
            "naive_computed": naive,
            "measured_over_minimum": _ratio(calls, minimum),
            "naive_over_measured": _ratio(naive, calls),
        },
        "latency": {
            **latency,
            "depth": op.depth,
            "critical_path_ms": critical,
            "p50_over_critical": _ratio(latency["p50_ms"], critical),
        },
        "cpu": cpu,
    }


def run_benchmark(config: BenchConfig, stream: Any = None) -> dict[str, Any]:
    """Run everything; write ``report.json``, ``report.md`` and ``chart.svg``; return the report."""
    portal = generate_portal(config.simulator_config())
    operations = load_operations(portal)
    sizes = [size_operation(n) for n in _size_steps(len(portal.user_ids), config.quick)]
    size_iterations = max(3, config.iterations // 4)
    everything = operations + sizes
    throughput_steps = min(config.workers, 2)
    soak_steps = 1 if config.soak_seconds > 0 else 0
    progress = Progress(3 * len(everything) + throughput_steps + soak_steps, stream)
    sdl_schema = _bare_schema(SDL_PATH.read_text(encoding="utf-8"))

    started = time.perf_counter()
    _SERVER_PEAKS.clear()
    measured = asyncio.run(_measure_calls(config, everything, progress))
    cpu = asyncio.run(_measure_cpu(config, everything, measured, sdl_schema, progress))
    dashboard = next((op for op in operations if op.name == "learner_dashboard"), operations[0])
    with _simulator_subprocess(config) as upstream_url:
        latency = _measure_latency(config, operations, config.iterations, upstream_url, progress)
        latency.update(_measure_latency(config, sizes, size_iterations, upstream_url, progress))
        throughput = _measure_throughput(config, dashboard, upstream_url, progress)
        soak = _measure_soak(config, dashboard, upstream_url, progress)

    rows = [
        _operation_row(
            op, portal, measured[op.name], latency[op.name], cpu[op.name], config.latency_ms
        )
        for op in operations
    ]
    series = [
        {"first": op.variables["first"]}
        | _operation_row(
            op, portal, measured[op.name], latency[op.name], cpu[op.name], config.latency_ms
        )
        for op in sizes
    ]
    report: dict[str, Any] = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "operations": rows,
        "size_series": series,
        "throughput": {
            "operation": dashboard.name,
            "concurrency": config.concurrency,
            "seconds": config.throughput_seconds,
            **throughput,
        },
        "memory": {
            "soak": soak,
            "peak_rss_kib_bench_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "peak_rss_kib_server_process": max(
                (peak for peak in _SERVER_PEAKS if peak is not None), default=None
            ),
        },
        "wall_seconds": time.perf_counter() - started,
    }
    report["headline"] = _headline(report)
    write_report(report, config.output)
    return report


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _headline(report: dict[str, Any]) -> dict[str, Any]:
    rows = report["operations"]
    reasoned = [r for r in rows if r["calls"]["minimum"] is not None]
    cpu_ratios = [r["cpu"]["ratio"] for r in rows if r["cpu"]]
    return {
        "operations_at_minimum_calls": sum(
            1 for r in reasoned if r["calls"]["measured"] == r["calls"]["minimum"]
        ),
        "operations_with_a_minimum": len(reasoned),
        "median_naive_over_measured_calls": _median(
            [r["calls"]["naive_over_measured"] for r in rows]
        ),
        "median_p50_over_critical_path": _median([r["latency"]["p50_over_critical"] for r in rows]),
        "median_cpu_gateway_over_graphql_core": _median(cpu_ratios),
    }


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render_svg(points: list[tuple[float, float]], x_label: str, y_label: str, title: str) -> str:
    """A small line chart as SVG: axes, ticks, labels and one polyline (no plotting library)."""
    width, height, left, right, top, bottom = 640, 400, 70, 20, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    max_x = max((x for x, _ in points), default=1.0) or 1.0
    max_y = max((y for _, y in points), default=1.0) or 1.0

    def sx(x: float) -> float:
        return left + plot_w * x / max_x

    def sy(y: float) -> float:
        return top + plot_h * (1 - y / max_y)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="black"/>',
    ]
    for i in range(5):
        fx, fy = max_x * i / 4, max_y * i / 4
        parts.append(
            f'<text x="{sx(fx):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{fx:.0f}</text>'
        )
        parts.append(f'<text x="{left - 6}" y="{sy(fy) + 4:.1f}" text-anchor="end">{fy:.0f}</text>')
        parts.append(
            f'<line x1="{left}" y1="{sy(fy):.1f}" x2="{left + plot_w}" y2="{sy(fy):.1f}" '
            'stroke="#ddd"/>'
        )
    polyline = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)
    parts.append(f'<polyline points="{polyline}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
    for x, y in points:
        parts.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="#1f77b4"/>')
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 10}" text-anchor="middle">{x_label}</text>'
    )
    parts.append(
        f'<text x="15" y="{top + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 15 {top + plot_h / 2})">{y_label}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


QUICK_NOTE = " **Quick (CI smoke) size: the numbers are not meaningful.**"


def _markdown(report: dict[str, Any]) -> str:
    cfg, head = report["config"], report["headline"]
    lines = [
        "# lms-gateway benchmark",
        "",
        f"Demo portal: {cfg['users']} users, {cfg['courses']} courses (seed {cfg['seed']}); "
        f"simulated upstream latency {cfg['latency_ms']} ms; {cfg['iterations']} iterations; "
        f"Python {report['environment']['python']} on {report['environment']['platform']} "
        f"({report['environment']['cpus']} CPUs).{QUICK_NOTE if cfg['quick'] else ''}",
        "",
        "Ratios measured side by side in this run are the headline; absolute times are context.",
        "See docs/benchmark.md for what each column means.",
        "",
        "## Headline",
        "",
        f"- Operations at the TalentLMS v1 minimum of upstream calls: "
        f"{head['operations_at_minimum_calls']} of {head['operations_with_a_minimum']}",
        f"- Naive (no loaders, computed) / gateway calls, median: "
        f"{_fmt(head['median_naive_over_measured_calls'], 2)}×",
        f"- p50 latency / critical path, median: {_fmt(head['median_p50_over_critical_path'], 2)}×",
        f"- Gateway CPU / bare graphql-core CPU per field, median: "
        f"{_fmt(head['median_cpu_gateway_over_graphql_core'], 1)}×",
        "",
        "## Upstream calls",
        "",
        "| operation | fields | calls | minimum | calls/min | naive (computed) | naive/calls |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["operations"]:
        c = r["calls"]
        lines.append(
            f"| {r['name']} | {r['fields']} | {c['measured']} | {_fmt(c['minimum'])} | "
            f"{_fmt(c['measured_over_minimum'], 2)} | {_fmt(c['naive_computed'])} | "
            f"{_fmt(c['naive_over_measured'], 2)} |"
        )
    lines += [
        "",
        "## Latency (real HTTP)",
        "",
        "| operation | p50 ms | p95 ms | depth | critical path ms | p50/critical |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in report["operations"]:
        la = r["latency"]
        lines.append(
            f"| {r['name']} | {_fmt(la['p50_ms'])} | {_fmt(la['p95_ms'])} | {_fmt(la['depth'])} | "
            f"{_fmt(la['critical_path_ms'])} | {_fmt(la['p50_over_critical'], 2)} |"
        )
    lines += [
        "",
        "## CPU per resolved field (upstream replayed from memory)",
        "",
        "| operation | fields | gateway µs/field | graphql-core µs/field | gateway/graphql-core |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in report["operations"]:
        cpu = r["cpu"]
        lines.append(
            f"| {r['name']} | {r['fields']} | {_fmt(cpu['gateway_us_per_field'])} | "
            f"{_fmt(cpu['graphql_core_us_per_field'], 2)} | {_fmt(cpu['ratio'], 1)} |"
        )
    tp = report["throughput"]
    lines += [
        "",
        f"## Throughput ({tp['operation']}, {tp['concurrency']} concurrent clients, "
        f"{tp['seconds']} s, uvicorn subprocess)",
        "",
        "| workers | requests/s | requests | failed |",
        "|---|---:|---:|---:|",
    ]
    for workers in (1, 2):
        t = tp[f"workers_{workers}"]
        if t["measured"]:
            lines.append(f"| {workers} | {t['rps']:.1f} | {t['requests']} | {t['failed']} |")
        else:
            lines.append(f"| {workers} | {t['note']} | | |")
    mem = report["memory"]
    lines += [
        "",
        f"Peak RSS: bench process (in-process gateway runs) {mem['peak_rss_kib_bench_process']} "
        f"KiB; uvicorn server process (largest of master and workers) "
        f"{_fmt(mem['peak_rss_kib_server_process'])} KiB.",
        "",
        _soak_line(mem["soak"]),
        "",
        "## Latency vs. result size (dashboard for the first N users)",
        "",
        "![p50 latency vs. resolved fields](chart.svg)",
        "",
        "| users | fields | calls | minimum | p50 ms | p95 ms | critical ms | "
        "gateway µs/field | gateway/graphql-core CPU |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["size_series"]:
        lines.append(
            f"| {r['first']} | {r['fields']} | {r['calls']['measured']} | "
            f"{_fmt(r['calls']['minimum'])} | {_fmt(r['latency']['p50_ms'])} | "
            f"{_fmt(r['latency']['p95_ms'])} | {_fmt(r['latency']['critical_path_ms'])} | "
            f"{_fmt(r['cpu']['gateway_us_per_field'])} | {_fmt(r['cpu']['ratio'], 1)} |"
        )
    lines += ["", f"Run took {report['wall_seconds']:.1f} s.", ""]
    return "\n".join(lines)


def _soak_line(soak: dict[str, Any]) -> str:
    if not soak["measured"]:
        return f"Memory soak: {soak['note']}."
    samples = ", ".join(_fmt(sample) for sample in soak["rss_kib_samples"])
    return (
        f"Memory soak ({soak['clients']} clients, {soak['seconds']:g} s, {soak['requests']} "
        f"requests, {soak['failed']} failed): RSS {_fmt(soak['rss_growth_percent'], 1)} % "
        f"growth after warm-up; samples (KiB) {samples}."
    )


def write_report(report: dict[str, Any], output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    (output / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (output / "report.md").write_text(_markdown(report), encoding="utf-8")
    points = [(float(r["fields"]), float(r["latency"]["p50_ms"])) for r in report["size_series"]]
    svg = render_svg(points, "resolved fields", "p50 latency (ms)", "p50 latency vs. result size")
    (output / "chart.svg").write_text(svg, encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``lms-gateway bench`` options (the CLI wires them to ``run_bench``)."""
    defaults = BenchConfig()
    parser.add_argument("--users", type=int, default=defaults.users, help="demo portal users")
    parser.add_argument("--courses", type=int, default=defaults.courses, help="demo courses")
    parser.add_argument(
        "--latency-ms", type=float, default=defaults.latency_ms, help="simulated upstream latency"
    )
    parser.add_argument(
        "--iterations", type=int, default=defaults.iterations, help="requests per latency sample"
    )
    parser.add_argument(
        "--concurrency", type=int, default=defaults.concurrency, help="throughput clients"
    )
    parser.add_argument("--output", type=Path, default=defaults.output, help="report directory")
    parser.add_argument("--quick", action="store_true", help="tiny size, for a CI smoke run")
    parser.add_argument(
        "--soak",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="also run SECONDS of --soak-clients clients and report the server's RSS growth",
    )
    parser.add_argument(
        "--soak-clients", type=int, default=defaults.soak_clients, help="clients of the soak"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        choices=[1, 2],
        help="also measure throughput with 2 uvicorn workers",
    )


def run_bench(args: argparse.Namespace) -> int:
    """Run the benchmark from parsed ``add_bench_arguments`` options; 0 on success."""
    if args.quick:
        config = replace(
            BenchConfig.quick_config(Path(args.output), workers=args.workers),
            soak_seconds=max(0.0, args.soak),
            soak_clients=max(1, args.soak_clients),
        )
    else:
        config = BenchConfig(
            users=args.users,
            courses=args.courses,
            latency_ms=args.latency_ms,
            iterations=max(1, args.iterations),
            concurrency=max(1, args.concurrency),
            output=Path(args.output),
            workers=args.workers,
            soak_seconds=max(0.0, args.soak),
            soak_clients=max(1, args.soak_clients),
        )
    try:
        report = run_benchmark(config)
    except (RuntimeError, ValueError) as exc:
        print(f"lms-gateway bench: {exc}", file=sys.stderr)
        return 1
    head = report["headline"]
    print(
        f"lms-gateway bench: {head['operations_at_minimum_calls']}/"
        f"{head['operations_with_a_minimum']} operations at the minimum call count; "
        f"report in {config.output}/report.md",
        file=sys.stderr,
    )
    return 0
