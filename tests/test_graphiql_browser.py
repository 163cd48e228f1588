"""GraphiQL in headless Chromium: the page loads from the gateway alone and runs queries.

Chromium is Debian's (``apt-get install chromium``), driven by Playwright with
``executable_path``; Playwright's own browser download is never used. Without Chromium the
tests skip locally, and fail when ``CI`` is set (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from gateway.app import create_app
from gateway.http.graphiql import ASSETS_PATH, CDN_URL, VENDORED
from tests.support import (
    RecordingUpstream,
    keyed_settings,
    query_text,
    replaced,
    serve_over_http,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox (containers, root), no GPU, and none of Chromium's own calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KEY = "lmsg_graphiql_browser_key_0001"

QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADER_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESULT = ".graphiql-response"
RESULT_TEXT = "() => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()"


def _unavailable() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium chromium-driver)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    reason = _unavailable()
    if reason:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@dataclass
class Browsing:
    """A fresh Chromium profile on one page, with every request it made."""

    page: Any
    origin: str
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture
def browse(playwright: Any, tmp_path: Path) -> Iterator[Any]:
    """Opens a URL in a new Chromium; any request off the URL's origin is refused and kept."""
    contexts: list[Any] = []

    def open_page(url: str, *, ready: bool = True) -> Browsing:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / f"profile-{len(contexts)}"),  # a fresh --user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
        )
        contexts.append(context)
        context.set_default_timeout(30_000)
        parts = urlsplit(url)
        seen = Browsing(page=context.pages[0], origin=f"{parts.scheme}://{parts.netloc}")

        def guard(route: Any) -> None:
            request = route.request
            seen.requests.append((request.method, request.url, request.post_data))
            target = urlsplit(request.url)
            if f"{target.scheme}://{target.netloc}" == seen.origin:
                route.continue_()
            else:
                seen.foreign.append(request.url)
                route.abort()

        context.route("**/*", guard)
        seen.page.on("websocket", lambda ws: seen.foreign.append(ws.url))
        seen.page.on(
            "console", lambda m: seen.console_errors.append(m.text) if m.type == "error" else None
        )
        seen.page.on("pageerror", lambda error: seen.console_errors.append(str(error)))
        seen.page.goto(url)  # returns once the page and its scripts have loaded (or failed)
        if ready:
            seen.page.wait_for_selector(".graphiql-execute-button")
        return seen

    yield open_page
    for context in contexts:
        context.close()


def _replace_text(page: Any, editor: str, text: str) -> None:
    """Select everything in a CodeMirror editor and type ``text`` in its place."""
    page.click(editor)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def _run(page: Any, operation: str) -> Any:
    """Click the run button; the /graphql response to the request naming ``operation``."""
    with page.expect_response(
        lambda r: r.url.endswith("/graphql") and operation in (r.request.post_data or "")
    ) as answer:
        page.click(".graphiql-execute-button")
    return answer.value


def _shown_result(page: Any, expected: str) -> dict[str, Any]:
    """The result pane once it shows ``expected``, parsed."""
    from playwright.sync_api import expect

    expect(page.locator(RESULT)).to_contain_text(expected)
    return json.loads(page.evaluate(RESULT_TEXT))


@pytest.mark.slow
def test_graphiql_runs_an_example_query_from_the_gateways_own_files(browse, demo_settings):
    query = query_text("learner_dashboard")
    with serve_over_http(create_app(demo_settings)) as base:
        seen = browse(f"{base}/graphql")
        page = seen.page
        _replace_text(page, QUERY_EDITOR, query)
        typed = page.evaluate(
            f"() => document.querySelector('{QUERY_EDITOR}').CodeMirror.getValue()"
        )
        assert typed.split() == query.split()  # the editor may re-indent, nothing else
        response = _run(page, "LearnerDashboard")
        assert response.status == 200
        shown = _shown_result(page, "Tomás Chen")
        direct = httpx.post(f"{base}/graphql", json={"query": query}).json()  # from the cache

    learners = shown["data"]["users"]["nodes"]
    assert [u["name"] for u in learners] == [
        "Tomás Chen",
        "Hiroshi Kim",
        "Kwame Wang",
        "Mikael Rossi",
        "Amara Kowalski",
    ]
    first = learners[0]
    assert (first["role"], first["emails"]) == (
        "ADMIN",
        [{"__typename": "Email", "email": "tomas.chen@acme-logistics.example"}],
    )
    course = first["enrollments"]["nodes"][0]["course"]
    assert course["title"] == "Information Security Awareness"
    assert course["items"]["nodes"][0]["title"] == "Section 1: Getting started"
    second = learners[1]["enrollments"]["nodes"][0]
    assert (second["status"], second["course"]["title"]) == (
        "IN_PROGRESS",
        "Anti-Bribery and Corruption",
    )
    assert shown["data"] == direct["data"]  # exactly what the API answers to the same query
    assert shown["extensions"]["upstream"]["calls"] == 18  # as tests/test_queries.py counts

    # Nothing left the gateway's origin: no CDN, no font host, no websocket.
    assert seen.foreign == []
    assert seen.console_errors == []
    paths = [urlsplit(url).path for _, url, _ in seen.requests]
    assert paths[0] == "/graphql"
    vendored = {f"{ASSETS_PATH}/vendor/{p.directory}/{f}" for p in VENDORED for f in p.files}
    assert vendored <= set(paths)
    posts = [body for method, url, body in seen.requests if method == "POST"]
    assert all(urlsplit(url).path == "/graphql" for m, url, _ in seen.requests if m == "POST")
    assert any("IntrospectionQuery" in (body or "") for body in posts)  # docs and completion


@pytest.mark.slow
def test_the_origin_check_catches_a_page_that_loads_from_a_cdn(browse, demo_settings):
    """The check above can fail: the CDN variant of the page is caught by it."""
    settings = replaced(demo_settings, graphiql={"assets": "cdn"})
    with serve_over_http(create_app(settings)) as base:
        seen = browse(f"{base}/graphql", ready=False)
        started = seen.page.locator(".graphiql-execute-button").count()
    assert {urlsplit(url).netloc for url in seen.foreign} == {urlsplit(CDN_URL).netloc}
    vendored = [f for p in VENDORED for f in p.files]
    assert len(seen.foreign) == len(vendored) == 6  # four scripts, two stylesheets: refused
    assert started == 0  # and without them GraphiQL cannot start


@pytest.mark.slow
def test_a_user_with_a_gateway_api_key_uses_the_header_editor(browse, tmp_path):
    settings = keyed_settings(tmp_path, KEY)
    app = create_app(settings, upstream_transport=RecordingUpstream())
    query = '{ user(remoteId: "8") { name role } }'
    with serve_over_http(app) as base:
        seen = browse(f"{base}/graphql")
        page = seen.page
        # The page opens the header editor with a template to complete.
        assert json.loads(
            page.evaluate(f"() => document.querySelector('{HEADER_EDITOR}').CodeMirror.getValue()")
        ) == {"Authorization": "Bearer "}
        _replace_text(page, QUERY_EDITOR, f"query Who {query}")
        refused = _run(page, "Who")
        assert refused.status == 401
        assert _shown_result(page, "UNAUTHENTICATED")["errors"][0]["extensions"] == {
            "code": "UNAUTHENTICATED"
        }

        _replace_text(page, HEADER_EDITOR, json.dumps({"Authorization": f"Bearer {KEY}"}))
        # Re-fetch the schema with the key, as the page's instructions say. GraphiQL reads
        # the header editor for this only after its edit debounce, so a quick user may need
        # a second try; a bounded number of tries, each waiting for its own response.
        for _ in range(20):
            with page.expect_response(
                lambda r: "IntrospectionQuery" in (r.request.post_data or "")
            ) as introspection:
                page.keyboard.press("Shift+Control+R")
            if introspection.value.status != 401:
                break
            page.wait_for_timeout(250)
        assert introspection.value.status == 200
        assert introspection.value.json()["data"]["__schema"]["queryType"]["name"] == "Query"

        answered = _run(page, "Who")
        assert answered.status == 200
        assert _shown_result(page, "Ingrid Rossi")["data"] == {
            "user": {"name": "Ingrid Rossi", "role": "LEARNER"}
        }
        # The key stays in memory: GraphiQL saved tabs and queries, but not the headers.
        stored = page.evaluate("() => JSON.stringify(Object.assign({}, localStorage))")
        assert "Who" in stored and KEY not in stored

    assert seen.foreign == []


@pytest.mark.slow
def test_the_demo_page_says_how_to_reach_the_second_school_and_it_works(browse, demo_settings):
    query = "query Learners { users(first: 2) { nodes { id name } } }"
    header = {"X-LMS-Account": "learnworlds"}
    with serve_over_http(create_app(demo_settings)) as base:
        direct = httpx.post(f"{base}/graphql", json={"query": query}, headers=header).json()
        default = httpx.post(f"{base}/graphql", json={"query": query}).json()
        seen = browse(f"{base}/graphql")
        page = seen.page
        welcome = page.evaluate(
            f"() => document.querySelector('{QUERY_EDITOR}').CodeMirror.getValue()"
        )
        assert 'Account "learnworlds" is a LearnWorlds' in welcome
        assert '{"X-LMS-Account": "learnworlds"}' in welcome
        _replace_text(page, QUERY_EDITOR, query)
        page.get_by_role("button", name="Headers").click()  # the tab beside Variables
        _replace_text(page, HEADER_EDITOR, json.dumps(header))
        # GraphiQL reads the header editor after its edit debounce: a quick user may need a
        # second try; a bounded number of tries, each waiting for its own response.
        for _ in range(20):
            answered = _run(page, "Learners")
            if answered.json()["data"] == direct["data"]:
                break
            page.wait_for_timeout(250)
        names = [user["name"] for user in direct["data"]["users"]["nodes"]]
        shown = _shown_result(page, names[0])
    assert answered.status == 200
    assert shown["data"] == direct["data"] != default["data"]
    assert seen.foreign == [] and seen.console_errors == []
