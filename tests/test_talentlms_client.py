"""The TalentLMS HTTP client: auth, path parameters, and the error tree (no simulator)."""

from __future__ import annotations

import base64

import httpx
import pytest
import respx

from gateway.errors import (
    UpstreamAuthFailed,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamForbidden,
    UpstreamGone,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamRejected,
    UpstreamUnavailable,
)
from gateway.providers.talentlms.client import TalentLmsClient, error_for_response
from gateway.providers.talentlms.params import endpoint_name, path_for
from gateway.upstream.usage import UpstreamUsage

pytestmark = pytest.mark.unit

BASE = "https://acme.talentlms.com/api/v1"
KEY = "k3y-secret"


@pytest.fixture
async def client():
    usage = UpstreamUsage()
    async with httpx.AsyncClient() as http:
        yield TalentLmsClient(http, base_url=BASE, api_key=KEY, usage=usage), usage


@pytest.mark.parametrize(
    ("endpoint", "params", "path"),
    [
        ("users", [], "/users"),
        ("users", [("id", 7)], "/users/id:7"),
        ("users", [("email", "ann@example.org")], "/users/email:ann@example.org"),
        # A value can never add a parameter or a path segment.
        ("users", [("id", "1,course_id:2")], "/users/id:1%2Ccourse_id%3A2"),
        ("users", [("username", "../x")], "/users/username:..%2Fx"),
        ("users", [("username", "a b+c%2F")], "/users/username:a%20b%2Bc%252F"),
        ("users", [("email", "a@b?c#d")], "/users/email:a@b%3Fc%23d"),
        (
            "getuserstatusincourse",
            [("course_id", 3), ("user_id", 7)],
            "/getuserstatusincourse/course_id:3,user_id:7",
        ),
    ],
)
def test_path_parameters_are_escaped(endpoint, params, path):
    assert path_for(endpoint, params) == path


def test_url_valued_parameters_are_base64():
    path = path_for("gotocourse", [("user_id", 1), ("logout_redirect", "https://x.org/a")])
    encoded = base64.b64encode(b"https://x.org/a").decode()
    assert path == "/gotocourse/user_id:1,logout_redirect:" + encoded.replace("=", "%3D")


@pytest.mark.parametrize("bad", ["users/id", "Users", "users?x=1", ""])
def test_endpoint_names_are_checked(bad):
    with pytest.raises(ValueError):
        path_for(bad)


@pytest.mark.parametrize(
    ("endpoint", "params", "name"),
    [
        ("users", [], "users"),
        ("users", [("page_size", 5), ("page_number", 1)], "users"),
        ("users", [("id", 1)], "users/id"),
        ("users", [("email", "a@b.c")], "users/email"),
        ("courses", [("id", 1)], "courses/id"),
        ("getUserStatusInCourse", [("course_id", 1), ("user_id", 2)], "getuserstatusincourse"),
    ],
)
def test_endpoint_names_for_accounting(endpoint, params, name):
    assert endpoint_name(endpoint, params) == name


@respx.mock
async def test_basic_auth_with_key_as_username_and_empty_password(client):
    api, usage = client
    route = respx.get(f"{BASE}/users/id:7").respond(json={"id": "7"})
    assert await api.user(id="7") == {"id": "7"}
    request = route.calls.last.request
    expected = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    assert request.headers["authorization"] == expected
    assert request.headers["accept"] == "application/json"
    assert usage.as_extension() == {
        "calls": 1,
        "byEndpoint": {"users/id": 1},
        "cacheHits": 0,
        "retries": 0,
    }


@respx.mock
async def test_post_is_form_encoded_and_omits_unset_values(client):
    api, usage = client
    route = respx.post(f"{BASE}/addusertocourse").respond(
        json=[{"user_id": "7", "course_id": "3", "role": "learner"}]
    )
    await api.add_user_to_course(user_id="7", course_id="3")
    request = route.calls.last.request
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.content == b"user_id=7&course_id=3&role=learner"
    assert usage.by_endpoint == {"addusertocourse": 1}


def _error(message: str, type_: str = "invalid_request_error") -> dict:
    return {"error": {"type": type_, "message": message}}


@pytest.mark.parametrize(
    ("status", "body", "exc"),
    [
        (404, _error("The requested user does not exist"), UpstreamNotFound),
        (200, _error("The requested user does not exist"), UpstreamNotFound),  # error on a 200
        (404, _error("The requested user is no longer available"), UpstreamGone),
        (400, _error("The requested user is not enrolled in this course"), UpstreamNotFound),
        (400, _error("Invalid arguments provided"), UpstreamRejected),
        (404, _error("The requested API action does not exist"), UpstreamRejected),
        (400, _error("The requested user is already enrolled in this course"), UpstreamRejected),
        (401, _error("Invalid API key provided"), UpstreamAuthFailed),
        (403, _error("API is not enabled for this domain"), UpstreamForbidden),
        (429, _error("You have exceeded the API rate limit"), UpstreamRateLimited),
        (200, _error("API rate limit exceeded"), UpstreamRateLimited),
        (500, _error("Internal error", "api_error"), UpstreamError),
        (502, None, UpstreamError),
    ],
)
@respx.mock
async def test_error_bodies_become_typed_exceptions(client, status, body, exc):
    api, _ = client
    respx.get(f"{BASE}/users/id:7").respond(status, json=body) if body is not None else (
        respx.get(f"{BASE}/users/id:7").respond(status, text="Bad gateway")
    )
    with pytest.raises(exc) as caught:
        await api.user(id="7")
    assert type(caught.value) is exc
    assert caught.value.endpoint == "users/id"
    assert caught.value.status_code == status
    assert KEY not in str(caught.value)


# Section 11.2 of the reference: the messages that say a record is not there.
RECORD_NOT_FOUND = [
    "The requested user does not exist",
    "The requested course does not exist",
    "The requested branch does not exist",
    "The requested category does not exist",
    "The requested group does not exist",
    "The requested unit does not exist",
    "There is no group with such key",
]


@pytest.mark.parametrize("message", RECORD_NOT_FOUND)
def test_a_record_is_missing_only_when_talentlms_says_so(message):
    error = error_for_response(404, _error(message)["error"], "users/id")
    assert type(error) is UpstreamNotFound
    assert error.message == message


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", "Not Found"),  # a wrong path on the portal's host, or a proxy's
        ("text/html", "<html><body><h1>404 Not Found</h1></body></html>"),
        ("application/json", '{"detail": "Not Found"}'),  # JSON, but no TalentLMS error
        ("application/json", '{"error": {"type": "invalid_request_error"}}'),  # no message
        ("text/plain", ""),
    ],
)
@respx.mock
async def test_a_404_without_a_talentlms_message_is_a_wrong_address_not_a_missing_record(
    client, content_type, body
):
    api, _ = client
    respx.get(f"{BASE}/users/id:7").respond(404, text=body, headers={"content-type": content_type})
    with pytest.raises(UpstreamError) as caught:
        await api.user(id="7")
    assert not isinstance(caught.value, UpstreamNotFound)
    assert caught.value.code == "UPSTREAM_ERROR"
    assert "/api/v1" in caught.value.message and "404" in caught.value.message
    assert caught.value.status_code == 404


@respx.mock
async def test_an_action_that_does_not_exist_is_not_a_missing_record(client):
    api, _ = client
    respx.get(f"{BASE}/users/id:7").respond(
        404, json=_error("The requested API action does not exist")
    )
    with pytest.raises(UpstreamError) as caught:
        await api.user(id="7")
    assert not isinstance(caught.value, UpstreamNotFound)
    assert "The requested API action does not exist" in caught.value.message


@respx.mock
async def test_html_401_page_is_an_auth_failure(client):
    api, _ = client
    respx.get(f"{BASE}/users").respond(
        401, html="<html><body>You need a valid user and password</body></html>"
    )
    with pytest.raises(UpstreamAuthFailed):
        await api.users()


@respx.mock
async def test_rate_limit_carries_retry_after(client):
    api, _ = client
    respx.get(f"{BASE}/users").respond(429, headers={"Retry-After": "12"}, text="slow down")
    with pytest.raises(UpstreamRateLimited) as caught:
        await api.users()
    assert caught.value.retry_after == 12.0


@respx.mock
async def test_non_json_success_is_a_bad_response(client):
    api, _ = client
    respx.get(f"{BASE}/siteinfo").respond(200, text="<html>maintenance</html>")
    with pytest.raises(UpstreamBadResponse):
        await api.site_info()


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x")],
)
@respx.mock
async def test_transport_failures_are_unavailable_and_still_counted(client, failure):
    api, usage = client
    respx.get(f"{BASE}/courses").mock(side_effect=failure)
    with pytest.raises(UpstreamUnavailable):
        await api.courses()
    assert usage.calls == 1


@respx.mock
async def test_users_paging_parameters(client):
    api, usage = client
    route = respx.get(f"{BASE}/users/page_size:6,page_number:2").respond(json=[])
    assert await api.users(page_size=6, page_number=2) == []
    assert route.called
    assert usage.by_endpoint == {"users": 1}
