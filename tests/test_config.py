"""Configuration from the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.config import DEMO_BASE_URL, Settings, UsersPaging


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TALENTLMS_DOMAIN", "TALENTLMS_BASE_URL", "TALENTLMS_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def test_no_credentials_is_demo_mode():
    settings = Settings()
    assert settings.demo
    account = settings.default_account(demo_api_key="sim")
    assert (account.base_url, account.api_key, account.demo) == (DEMO_BASE_URL, "sim", True)


@pytest.mark.parametrize(
    "domain", ["acme.talentlms.com", "https://acme.talentlms.com/", "http://acme.talentlms.com"]
)
def test_domain_becomes_an_https_base_url(monkeypatch, domain):
    monkeypatch.setenv("TALENTLMS_DOMAIN", domain)
    monkeypatch.setenv("TALENTLMS_API_KEY", "key")
    account = Settings().default_account()
    assert account.base_url == "https://acme.talentlms.com/api/v1"
    assert account.api_key == "key" and not account.demo


def test_base_url_wins_and_may_be_plain_http_for_test_doubles(monkeypatch):
    monkeypatch.setenv("TALENTLMS_DOMAIN", "acme.talentlms.com")
    monkeypatch.setenv("TALENTLMS_BASE_URL", "http://127.0.0.1:8001/api/v1/")
    monkeypatch.setenv("TALENTLMS_API_KEY", "key")
    monkeypatch.setenv("TALENTLMS_USERS_PAGING", "none")
    settings = Settings()
    assert settings.default_account().base_url == "http://127.0.0.1:8001/api/v1"
    assert settings.talentlms_users_paging is UsersPaging.NONE


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TALENTLMS_API_KEY": "k"}, "neither TALENTLMS_DOMAIN nor TALENTLMS_BASE_URL"),
        ({"TALENTLMS_DOMAIN": "acme.talentlms.com"}, "TALENTLMS_API_KEY is required"),
        ({"TALENTLMS_BASE_URL": "ftp://x/api/v1", "TALENTLMS_API_KEY": "k"}, "http(s) URL"),
        # A base URL the API is not under: every call would be a 404 of the wrong path.
        ({"TALENTLMS_BASE_URL": "http://127.0.0.1:8001", "TALENTLMS_API_KEY": "k"}, "/api/v1"),
        ({"TALENTLMS_BASE_URL": "https://a.test/api", "TALENTLMS_API_KEY": "k"}, "/api/v1"),
        ({"TALENTLMS_BASE_URL": "https://a.test/api/v2", "TALENTLMS_API_KEY": "k"}, "v1"),
        ({"TALENTLMS_DOMAIN": "acme.talentlms.com/x", "TALENTLMS_API_KEY": "k"}, "host name"),
        ({"TALENTLMS_TIMEZONE": "Mars/Olympus"}, "IANA zone"),
        ({"TALENTLMS_USERS_PAGING": "sometimes"}, "path"),
    ],
)
def test_bad_configuration_says_what_to_fix(monkeypatch, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert message in str(caught.value)


def test_the_key_is_never_shown(monkeypatch):
    monkeypatch.setenv("TALENTLMS_DOMAIN", "acme.talentlms.com")
    monkeypatch.setenv("TALENTLMS_API_KEY", "super-secret-key")
    assert "super-secret-key" not in repr(Settings())


# Set but empty (`TALENTLMS_API_KEY=` in a compose file or `docker run -e`) means unset.
EMPTY_MEANS_UNSET = (
    "TALENTLMS_API_KEY",
    "TALENTLMS_BASE_URL",
    "TALENTLMS_DOMAIN",
    "TALENTLMS_DATE_FORMAT",
    "LMS_GATEWAY_ACCOUNTS_FILE",
    "LMS_GATEWAY_METRICS_TOKEN",
    "LMS_GATEWAY_PERSISTED_QUERIES_MANIFEST",
)


@pytest.mark.parametrize("blank", ["", "  "])
def test_empty_variables_mean_unset_so_demo_mode(monkeypatch, blank):
    for name in EMPTY_MEANS_UNSET:
        monkeypatch.setenv(name, blank)
    settings = Settings()
    assert settings.demo
    assert settings.talentlms_api_key is None
    assert settings.talentlms_date_format is None
    assert settings.lms_gateway_accounts_file is None
    assert settings.lms_gateway_metrics_token is None
    assert settings.lms_gateway_persisted_queries_manifest is None
    assert settings.default_account(demo_api_key="sim").base_url == DEMO_BASE_URL


def test_an_empty_key_with_a_portal_still_asks_for_the_key(monkeypatch):
    monkeypatch.setenv("TALENTLMS_DOMAIN", "acme.talentlms.com")
    monkeypatch.setenv("TALENTLMS_API_KEY", "")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "TALENTLMS_API_KEY is required" in str(caught.value)


def test_an_empty_key_passed_in_is_demo_mode_too():
    assert Settings(talentlms_api_key="", talentlms_base_url="").demo


async def test_a_gateway_with_empty_variables_serves_demo_data(monkeypatch):
    from tests.conftest import gateway_client

    for name in EMPTY_MEANS_UNSET:
        monkeypatch.setenv(name, "")
    async with gateway_client(Settings()) as client:
        response = await client.post("/graphql", json={"query": '{ user(id: "2") { id } }'})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == {"user": {"id": "2"}} and "errors" not in body
