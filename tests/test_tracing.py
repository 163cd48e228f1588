"""OpenTelemetry tracing: an HTTP request span that continues the caller's trace, one span per
GraphQL operation, one per upstream try, and no secret in any of them."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway import cli
from gateway.app import create_app
from gateway.config import Settings
from gateway.observability.tracing.upstream import redacted_path, url_template
from gateway.simulator import SimulatorConfig, create_simulator_app
from tests.support import RecordingUpstream, query_text, serve_over_http, upstream_settings

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN_ID}-01"
GATEWAY_KEY = "gw-secret-0123456789abcdef"  # a bearer token the caller sends


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("TALENTLMS_", "LMS_GATEWAY_", "OTEL_")):
            monkeypatch.delenv(name)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


def hex_trace(span: ReadableSpan) -> str:
    return f"{span.context.trace_id:032x}"


def hex_span(span_id: int) -> str:
    return f"{span_id:016x}"


def by_kind(spans: tuple[ReadableSpan, ...], kind: SpanKind) -> list[ReadableSpan]:
    return [span for span in spans if span.kind is kind]


def counted_calls(spans: tuple[ReadableSpan, ...]) -> list[ReadableSpan]:
    """Client spans of the calls ``extensions.upstream.calls`` counts: all but the free
    /ratelimit read the gateway makes in the background when it first sees a portal."""
    return [
        span
        for span in by_kind(spans, SpanKind.CLIENT)
        if not str(span.attributes["url.template"]).endswith("/ratelimit")
    ]


def children_of(parent: ReadableSpan, spans: list[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]


@asynccontextmanager
async def traced_gateway(
    settings: Settings, provider: TracerProvider, upstream: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, upstream_transport=upstream, tracer_provider=provider)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


class HeaderRecorder(RecordingUpstream):
    """The simulator behind a transport that keeps every request's headers, and answers
    ``fail_first`` (a path fragment) with a 503 the first time it is asked for."""

    def __init__(self, fail_first: str | None = None) -> None:
        super().__init__()
        self.headers: list[httpx.Headers] = []
        self._fail_first = fail_first

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.headers.append(httpx.Headers(request.headers))
        if self._fail_first and self._fail_first in request.url.raw_path.decode():
            self._fail_first = None
            return httpx.Response(503, json={"error": {"message": "maintenance"}})
        return await super().handle_async_request(request)


# --- over real HTTP -------------------------------------------------------------------------


@pytest.mark.http
def test_operation_span_continues_the_callers_trace_over_http(clean_env, provider, exporter):
    """A queries/ operation through uvicorn, against the simulator through uvicorn too."""
    config = SimulatorConfig()
    with serve_over_http(create_simulator_app(config)) as simulator:
        settings = Settings(
            upstream={"base_url": f"{simulator}/api/v1", "api_key": config.api_key},
            tracing={"enabled": True},
        )
        app = create_app(settings, tracer_provider=provider)
        with serve_over_http(app) as base:
            response = httpx.post(
                f"{base}/graphql",
                json={"query": query_text("learner_dashboard")},
                headers={
                    "traceparent": TRACEPARENT,
                    "tracestate": "vendor=abc",
                    "Authorization": f"Bearer {GATEWAY_KEY}",
                },
            )
        # The server has stopped: every span has ended.
    body = response.json()
    assert "errors" not in body, body
    calls = body["extensions"]["upstream"]["calls"]
    assert calls >= 2
    spans = exporter.get_finished_spans()

    [request_span] = by_kind(spans, SpanKind.SERVER)
    assert request_span.name == "POST /graphql"
    assert hex_trace(request_span) == TRACE_ID
    assert request_span.parent is not None and request_span.parent.is_remote
    assert hex_span(request_span.parent.span_id) == CALLER_SPAN_ID
    assert request_span.context.trace_state.get("vendor") == "abc"
    assert request_span.attributes["http.response.status_code"] == 200

    [operation] = [span for span in spans if span.name.startswith("query ")]
    assert operation.name == "query LearnerDashboard"
    assert hex_trace(operation) == TRACE_ID
    assert operation.parent is not None
    assert operation.parent.span_id == request_span.context.span_id
    assert dict(operation.attributes) == {
        "graphql.operation.name": "LearnerDashboard",
        "graphql.operation.type": "query",
        "lms.account.id": "default",
        "lms.upstream.calls": calls,
        "lms.upstream.retries": 0,
        "lms.upstream.cache_hits": 0,
    }
    assert operation.status.status_code is StatusCode.UNSET

    upstream = counted_calls(spans)
    assert len(upstream) == calls
    assert children_of(operation, upstream) == upstream
    port = int(simulator.rsplit(":", 1)[1])
    for span in upstream:
        assert hex_trace(span) == TRACE_ID
        assert span.attributes["server.address"] == "127.0.0.1"
        assert span.attributes["server.port"] == port
        assert span.attributes["http.request.method"] == "GET"
        assert span.attributes["http.response.status_code"] == 200
        assert span.name == f"GET {span.attributes['url.template']}"
    templates = sorted(str(span.attributes["url.template"]) for span in upstream)
    assert "/api/v1/users/id:{id}" in templates
    full = [str(span.attributes["url.full"]) for span in upstream]
    assert any(re.fullmatch(rf"{simulator}/api/v1/users/id:\d+", url) for url in full), full
    assert_no_secret(spans, config.api_key)


def assert_no_secret(spans: tuple[ReadableSpan, ...], api_key: str) -> None:
    """Neither the TalentLMS key, its Basic header, nor the caller's bearer token anywhere."""
    basic = base64.b64encode(f"{api_key}:".encode()).decode()
    texts = []
    for span in spans:
        texts.append(span.name)
        texts.extend(f"{key}={value}" for key, value in (span.attributes or {}).items())
        for event in span.events:
            texts.extend(f"{key}={value}" for key, value in (event.attributes or {}).items())
    assert texts
    for text in texts:
        for secret in (api_key, basic, GATEWAY_KEY, "Basic ", "Bearer"):
            assert secret not in text
        assert "authorization" not in text.lower()


# --- in process -----------------------------------------------------------------------------


@pytest.mark.unit
async def test_each_retry_is_a_span_of_its_own(clean_env, provider, exporter):
    upstream = HeaderRecorder(fail_first="/users/id:8")
    settings = upstream_settings(tracing={"enabled": True}, retry={"base_delay_seconds": 0})
    async with traced_gateway(settings, provider, upstream) as client:
        body = (
            await client.post("/graphql", json={"query": '{ user(remoteId: "8") { name } }'})
        ).json()
    assert body["data"]["user"]["name"]
    assert body["extensions"]["upstream"]["retries"] == 1
    spans = exporter.get_finished_spans()
    tries = [s for s in counted_calls(spans) if s.attributes["url.full"].endswith("/users/id:8")]
    assert len(counted_calls(spans)) == body["extensions"]["upstream"]["calls"] == 2
    assert [s.attributes["http.response.status_code"] for s in tries] == [503, 200]
    assert tries[0].status.status_code is StatusCode.ERROR
    assert tries[0].attributes["error.type"] == "503"
    assert tries[1].status.status_code is StatusCode.UNSET
    [operation] = [s for s in spans if s.name == "query"]  # an anonymous query
    assert children_of(operation, list(tries)) == tries
    # The upstream saw the key in Authorization; no span did.
    assert all(h["authorization"].startswith("Basic ") for h in upstream.headers)
    assert_no_secret(spans, SimulatorConfig().api_key)


@pytest.mark.unit
async def test_batch_has_one_operation_span_per_operation_under_one_request(
    clean_env, provider, exporter
):
    settings = upstream_settings(tracing={"enabled": True})
    batch = [
        {"query": 'query First { user(remoteId: "8") { name } }'},
        {"query": 'query Second { course(remoteId: "101") { title } }'},
    ]
    async with traced_gateway(settings, provider, RecordingUpstream()) as client:
        body = (
            await client.post("/graphql", json=batch, headers={"traceparent": TRACEPARENT})
        ).json()
    spans = exporter.get_finished_spans()
    [request_span] = by_kind(spans, SpanKind.SERVER)
    operations = children_of(request_span, list(spans))
    assert sorted(s.name for s in operations) == ["query First", "query Second"]
    for operation, result in zip(sorted(operations, key=lambda s: s.name), body, strict=True):
        calls = children_of(operation, counted_calls(spans))
        assert len(calls) == result["extensions"]["upstream"]["calls"] >= 1
        assert operation.attributes["lms.upstream.calls"] == len(calls)
        assert hex_trace(operation) == TRACE_ID


@pytest.mark.unit
async def test_failed_operation_carries_its_error_code(clean_env, provider, exporter):
    upstream = RecordingUpstream()
    upstream.faults[r"/users/id:8"] = httpx.Response(500, text="oops")
    settings = upstream_settings(tracing={"enabled": True}, retry={"attempts": 1})
    async with traced_gateway(settings, provider, upstream) as client:
        failed = (
            await client.post(
                "/graphql", json={"query": 'query One { user(remoteId: "8") { name } }'}
            )
        ).json()
        broken = (await client.post("/graphql", json={"query": "{ user("})).json()
    spans = exporter.get_finished_spans()
    [one] = [s for s in spans if s.name == "query One"]
    code = failed["errors"][0]["extensions"]["code"]
    assert code == "UPSTREAM_ERROR"
    assert one.attributes["error.type"] == code
    assert one.status.status_code is StatusCode.ERROR
    [call] = children_of(one, counted_calls(spans))
    assert call.attributes["error.type"] == "500"
    # A document that does not parse has no type or name: the conventions' fallback name.
    assert broken["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    [unparsed] = [s for s in spans if s.name == "GraphQL Operation"]
    assert unparsed.attributes["error.type"] == "GRAPHQL_PARSE_FAILED"
    assert "graphql.operation.type" not in unparsed.attributes


@pytest.mark.unit
async def test_an_answer_in_parts_is_one_operation_span_over_every_part(
    clean_env, provider, exporter
):
    # @defer over multipart/mixed: the span ends after the last part, and the calls the later
    # parts made (users/id for the enrollments, courses/id for the outlines) are its children.
    settings = upstream_settings(tracing={"enabled": True})
    async with traced_gateway(settings, provider, RecordingUpstream()) as client:
        response = await client.post(
            "/graphql",
            json={"query": query_text("learner_dashboard_deferred")},
            headers={"accept": "multipart/mixed;deferSpec=20220824,application/json"},
        )
    assert response.headers["content-type"].startswith("multipart/mixed")
    spans = exporter.get_finished_spans()
    [operation] = [s for s in spans if s.name == "query LearnerDashboardDeferred"]
    calls = children_of(operation, counted_calls(spans))
    assert len(calls) == len(counted_calls(spans)) == 18
    assert operation.attributes["lms.upstream.calls"] == 18
    assert operation.end_time >= max(call.end_time for call in calls)
    assert operation.status.status_code is StatusCode.UNSET


@pytest.mark.unit
async def test_trace_headers_go_to_talentlms_only_when_enabled(clean_env, provider, exporter):
    query = {"query": '{ user(remoteId: "8") { name } }'}
    kept = HeaderRecorder()
    async with traced_gateway(upstream_settings(tracing={"enabled": True}), provider, kept) as c:
        await c.post("/graphql", json=query, headers={"traceparent": TRACEPARENT})
    assert kept.headers
    assert not any("traceparent" in h or "tracestate" in h for h in kept.headers)

    exporter.clear()
    sent = HeaderRecorder()
    settings = upstream_settings(tracing={"enabled": True, "propagate_upstream": True})
    async with traced_gateway(settings, provider, sent) as c:
        await c.post("/graphql", json=query, headers={"traceparent": TRACEPARENT})
    [call] = counted_calls(exporter.get_finished_spans())
    expected = f"00-{TRACE_ID}-{hex_span(call.context.span_id)}-01"
    assert expected in [h.get("traceparent") for h in sent.headers]


@pytest.mark.unit
async def test_tracing_off_records_nothing_and_wraps_nothing(clean_env, provider, exporter):
    async with traced_gateway(upstream_settings(), provider, RecordingUpstream()) as client:
        body = (
            await client.post(
                "/graphql",
                json={"query": '{ user(remoteId: "8") { name } }'},
                headers={"traceparent": TRACEPARENT},
            )
        ).json()
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        assert runtime.tracing is None
        assert type(runtime.http) is httpx.AsyncClient
        graphql_route = next(r for r in client.app.routes if r.path == "/graphql")  # type: ignore[attr-defined]
        assert type(graphql_route.app).__name__ == "RequestGuard"
        # The request guard, the idempotency layer, then the view: no tracing layer between.
        assert type(graphql_route.app._app._app).__name__ == "GraphQLView"
        assert "OperationNaming" not in {
            getattr(e, "__name__", "") for e in runtime.schema.extensions
        }
    assert body["data"]["user"]["name"]
    assert exporter.get_finished_spans() == ()


# --- the environment and the optional extra ---------------------------------------------------


@pytest.mark.http
def test_spans_go_to_the_otlp_endpoint_the_environment_names(clean_env, monkeypatch):
    """OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME, as any OpenTelemetry SDK reads them:
    the spans arrive at a collector over OTLP/HTTP (protobuf) when the gateway stops."""
    received: list[ExportTraceServiceRequest] = []

    async def collect(request: Request) -> Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.body())
        received.append(message)
        return Response(b"", media_type="application/x-protobuf")

    collector = Starlette(routes=[Route("/v1/traces", collect, methods=["POST"])])
    with serve_over_http(collector) as endpoint:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        monkeypatch.setenv("OTEL_SERVICE_NAME", "lms-gateway-test")
        app = create_app(Settings(tracing={"enabled": True}))
        with serve_over_http(app) as base:
            response = httpx.post(f"{base}/graphql", json={"query": query_text("course_outline")})
            assert response.status_code == 200
        # Stopping the gateway flushed the batch of spans.
    names = set()
    services = set()
    for message in received:
        for resource_spans in message.resource_spans:
            for attribute in resource_spans.resource.attributes:
                if attribute.key == "service.name":
                    services.add(attribute.value.string_value)
            for scope_spans in resource_spans.scope_spans:
                names.update(span.name for span in scope_spans.spans)
    assert services == {"lms-gateway-test"}
    assert {"POST /graphql", "query CourseOutline"} <= names
    assert "GET /api/v1/courses/id:{id}" in names


@pytest.mark.unit
def test_unknown_exporter_is_a_clear_startup_error(clean_env, monkeypatch, capsys):
    monkeypatch.setenv("LMS_GATEWAY_TRACING", "true")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    assert cli.main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "TRACING_MISCONFIGURED" in err and "OTEL_TRACES_EXPORTER" in err


def run_without_opentelemetry(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter in which every ``opentelemetry`` import fails."""
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'opentelemetry' or name.startswith('opentelemetry.'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("TALENTLMS_", "LMS_", "OTEL_"))
    }
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", blocker + code],
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=60,
        check=False,
    )


@pytest.mark.http
@pytest.mark.slow
def test_the_gateway_runs_without_the_tracing_extra():
    code = (
        "import asyncio, httpx, json\n"
        "from gateway.app import create_app\n"
        "async def main():\n"
        "    app = create_app()\n"
        "    async with app.router.lifespan_context(app):\n"
        "        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),\n"
        "                                     base_url='http://gateway') as client:\n"
        "            query = '{ user(remoteId: \"8\") { name } }'\n"
        "            r = await client.post('/graphql', json={'query': query})\n"
        "            print(json.dumps(r.json()['data']))\n"
        "asyncio.run(main())\n"
        "assert not [m for m in sys.modules if m.startswith('opentelemetry')]\n"
    )
    done = run_without_opentelemetry(code)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["user"]["name"]


@pytest.mark.http
@pytest.mark.slow
def test_tracing_without_the_extra_refuses_to_start():
    done = run_without_opentelemetry(
        "from gateway.cli import main\nraise SystemExit(main(['serve']))\n",
        LMS_GATEWAY_TRACING="true",
    )
    assert done.returncode == 2
    assert done.stderr.startswith("lms-gateway: TRACING_UNAVAILABLE: LMS_GATEWAY_TRACING=true")
    assert "pip install 'lms-gateway[tracing]'" in done.stderr
    assert "Traceback" not in done.stderr


# --- what an upstream span may show of a URL --------------------------------------------------


@pytest.mark.unit
@pytest.mark.parametrize(
    ("path", "template", "shown"),
    [
        ("/api/v1/users/id:7", "/api/v1/users/id:{id}", "/api/v1/users/id:7"),
        (
            "/api/v1/users/email:jane.doe@acme.com",
            "/api/v1/users/email:{email}",
            "/api/v1/users/email:REDACTED",
        ),
        (
            "/api/v1/getuserstatusincourse/course_id:3,user_id:7",
            "/api/v1/getuserstatusincourse/course_id:{course_id},user_id:{user_id}",
            "/api/v1/getuserstatusincourse/course_id:3,user_id:7",
        ),
        (
            "/api/v1/getusersbycustomfield/custom_field_value:Globex%20Corp",
            "/api/v1/getusersbycustomfield/custom_field_value:{custom_field_value}",
            "/api/v1/getusersbycustomfield/custom_field_value:REDACTED",
        ),
        ("/api/v1/courses", "/api/v1/courses", "/api/v1/courses"),
    ],
)
def test_upstream_urls_keep_ids_and_hide_other_values(path: str, template: str, shown: str):
    assert url_template(path) == template
    assert redacted_path(path) == shown
