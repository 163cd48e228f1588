"""Configuration from the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.config import DEMO_BASE_URL, Settings, UsersPaging, environment_variables

pytestmark = pytest.mark.unit


LEARNWORLDS = (
    "LMS_GATEWAY_LEARNWORLDS_URL",
    "LMS_GATEWAY_LEARNWORLDS_CLIENT_ID",
    "LMS_GATEWAY_LEARNWORLDS_CLIENT_SECRET",
    "LMS_GATEWAY_LEARNWORLDS_ACCESS_TOKEN",
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TALENTLMS_DOMAIN", "TALENTLMS_BASE_URL", "TALENTLMS_API_KEY", *LEARNWORLDS):
        monkeypatch.delenv(name, raising=False)


def test_no_credentials_is_demo_mode():
    settings = Settings()
    assert settings.demo
    account = settings.upstream.default_account(demo_api_key="sim")
    assert (account.base_url, account.api_key, account.demo) == (DEMO_BASE_URL, "sim", True)


@pytest.mark.parametrize(
    "domain", ["acme.talentlms.com", "https://acme.talentlms.com/", "http://acme.talentlms.com"]
)
def test_domain_becomes_an_https_base_url(monkeypatch, domain):
    monkeypatch.setenv("TALENTLMS_DOMAIN", domain)
    monkeypatch.setenv("TALENTLMS_API_KEY", "key")
    account = Settings().upstream.default_account()
    assert account.base_url == "https://acme.talentlms.com/api/v1"
    assert account.api_key == "key" and not account.demo


def test_base_url_wins_and_may_be_plain_http_for_test_doubles(monkeypatch):
    monkeypatch.setenv("TALENTLMS_DOMAIN", "acme.talentlms.com")
    monkeypatch.setenv("TALENTLMS_BASE_URL", "http://127.0.0.1:8001/api/v1/")
    monkeypatch.setenv("TALENTLMS_API_KEY", "key")
    monkeypatch.setenv("TALENTLMS_USERS_PAGING", "none")
    settings = Settings()
    assert settings.upstream.default_account().base_url == "http://127.0.0.1:8001/api/v1"
    assert settings.upstream.users_paging is UsersPaging.NONE


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
    *LEARNWORLDS,
    "LMS_GATEWAY_LEARNWORLDS_TOKEN_URL",
)


@pytest.mark.parametrize("blank", ["", "  "])
def test_empty_variables_mean_unset_so_demo_mode(monkeypatch, blank):
    for name in EMPTY_MEANS_UNSET:
        monkeypatch.setenv(name, blank)
    settings = Settings()
    assert settings.demo
    assert settings.upstream.api_key is None
    assert settings.upstream.date_format is None
    assert settings.tenancy.accounts_file is None
    assert settings.metrics.token is None
    assert settings.persisted_queries.manifest is None
    assert not settings.learnworlds.configured and settings.learnworlds.token_url is None
    assert settings.upstream.default_account(demo_api_key="sim").base_url == DEMO_BASE_URL


def test_an_empty_key_with_a_portal_still_asks_for_the_key(monkeypatch):
    monkeypatch.setenv("TALENTLMS_DOMAIN", "acme.talentlms.com")
    monkeypatch.setenv("TALENTLMS_API_KEY", "")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "TALENTLMS_API_KEY is required" in str(caught.value)


def test_an_empty_key_passed_in_is_demo_mode_too():
    assert Settings(upstream={"api_key": "", "base_url": ""}).demo


async def test_a_gateway_with_empty_variables_serves_demo_data(monkeypatch):
    from tests.support import gateway_client, gid

    for name in EMPTY_MEANS_UNSET:
        monkeypatch.setenv(name, "")
    async with gateway_client(Settings()) as client:
        response = await client.post(
            "/graphql", json={"query": '{ user(remoteId: "2") { id remoteId } }'}
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["data"] == {"user": {"id": gid("User", 2), "remoteId": "2"}}
    assert "errors" not in body


# For each variable a value other than its default, as the environment gives it; numbers
# and switches get theirs from the default (one more, the other way).
SAMPLES = {
    "TALENTLMS_DOMAIN": "acme.talentlms.com",
    "TALENTLMS_BASE_URL": "http://127.0.0.1:8001/api/v1",
    "TALENTLMS_API_KEY": "key",
    "TALENTLMS_DATE_FORMAT": "YYYYMMDD",
    "TALENTLMS_TIMEZONE": "Europe/Athens",
    "TALENTLMS_USERS_PAGING": "none",
    "TALENTLMS_HTTP_POOL": "httpx",
    "LMS_GATEWAY_CACHE_TTLS": '{"users/id": 10}',
    "LMS_GATEWAY_HOST": "0.0.0.0",
    "LMS_GATEWAY_GRAPHIQL_ASSETS": "cdn",
    "LMS_GATEWAY_ACCOUNTS_FILE": "accounts.toml",
    "LMS_GATEWAY_PERSISTED_QUERIES_MANIFEST": "manifest.json",
    "LMS_GATEWAY_METRICS_TOKEN": "scrape-token",
    "LMS_GATEWAY_LOG_LEVEL": "debug",
    "LMS_GATEWAY_LOG_FORMAT": "json",
    "LMS_GATEWAY_DEMO_DATE_FORMAT": "MMDDYYYY",
    "LMS_GATEWAY_LEARNWORLDS_URL": "https://school.learnworlds.com",
    "LMS_GATEWAY_LEARNWORLDS_CLIENT_ID": "lw-client-id",
    "LMS_GATEWAY_LEARNWORLDS_CLIENT_SECRET": "lw-secret",
    "LMS_GATEWAY_LEARNWORLDS_ACCESS_TOKEN": "lw-token",
    "LMS_GATEWAY_LEARNWORLDS_TOKEN_URL": "https://school.learnworlds.com/oauth2/access_token",
    "LMS_GATEWAY_LEARNWORLDS_TOKEN_ENCODING": "json",
}
# What a variable cannot be set without.
COMPANIONS = {
    "TALENTLMS_DOMAIN": {"TALENTLMS_API_KEY": "key"},
    "TALENTLMS_BASE_URL": {"TALENTLMS_API_KEY": "key"},
    "TALENTLMS_API_KEY": {"TALENTLMS_DOMAIN": "acme.talentlms.com"},
    "LMS_GATEWAY_PERSISTED_QUERIES_ALLOWLIST": {
        "LMS_GATEWAY_PERSISTED_QUERIES_MANIFEST": "manifest.json"
    },
    "LMS_GATEWAY_LEARNWORLDS_URL": {
        "LMS_GATEWAY_LEARNWORLDS_CLIENT_ID": "lw-client-id",
        "LMS_GATEWAY_LEARNWORLDS_CLIENT_SECRET": "lw-secret",
    },
    "LMS_GATEWAY_LEARNWORLDS_CLIENT_ID": {
        "LMS_GATEWAY_LEARNWORLDS_URL": "https://school.learnworlds.com",
        "LMS_GATEWAY_LEARNWORLDS_CLIENT_SECRET": "lw-secret",
    },
    "LMS_GATEWAY_LEARNWORLDS_CLIENT_SECRET": {
        "LMS_GATEWAY_LEARNWORLDS_URL": "https://school.learnworlds.com",
        "LMS_GATEWAY_LEARNWORLDS_CLIENT_ID": "lw-client-id",
    },
    "LMS_GATEWAY_LEARNWORLDS_ACCESS_TOKEN": {
        "LMS_GATEWAY_LEARNWORLDS_URL": "https://school.learnworlds.com",
        "LMS_GATEWAY_LEARNWORLDS_CLIENT_ID": "lw-client-id",
    },
}


def _sample(name: str, default: object) -> str:
    if name in SAMPLES:
        return SAMPLES[name]
    if isinstance(default, bool):
        return str(not default).lower()
    assert isinstance(default, int | float), f"{name} needs a value in SAMPLES"
    return str(default + 1)


def _changed(before: Settings, after: Settings) -> set[tuple[str, str]]:
    """The ``(group, field)`` whose values differ."""
    old, new = before.model_dump(), after.model_dump()
    return {
        (group, field)
        for group, values in new.items()
        for field, value in values.items()
        if old[group][field] != value
    }


@pytest.mark.parametrize("name", list(environment_variables()))
def test_each_variable_lands_in_its_group(monkeypatch, name):
    variables = environment_variables()
    before = Settings()
    values = {
        name: _sample(name, variables[name].info.get_default(call_default_factory=True)),
        **COMPANIONS.get(name, {}),
    }
    for variable, value in values.items():
        monkeypatch.setenv(variable, value)
    expected = {(variables[n].group, variables[n].field) for n in values}
    assert _changed(before, Settings()) == expected


def test_variable_names_are_not_case_sensitive(monkeypatch):
    monkeypatch.setenv("talentlms_retry_attempts", "7")
    monkeypatch.setenv("Lms_Gateway_Cache", "false")
    settings = Settings()
    assert settings.retry.attempts == 7 and not settings.cache.enabled


def test_a_bad_value_names_its_variable(monkeypatch):
    # `lms-gateway serve` prints each error's location as the variable to fix.
    monkeypatch.setenv("LMS_GATEWAY_MAX_DEPTH", "0")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert [error["loc"] for error in caught.value.errors()] == [("LMS_GATEWAY_MAX_DEPTH",)]


def test_a_group_given_in_part_reads_the_rest_from_the_environment(monkeypatch):
    monkeypatch.setenv("TALENTLMS_RETRY_MAX_DELAY_SECONDS", "9")
    retry = Settings(retry={"attempts": 1}).retry
    assert (retry.attempts, retry.max_delay_seconds) == (1, 9.0)


def test_an_unknown_setting_is_refused():
    with pytest.raises(ValidationError, match="talentlms_retry_attempts"):
        Settings(talentlms_retry_attempts=1)
    with pytest.raises(ValidationError, match="attempt"):
        Settings(retry={"attempt": 1})


def test_settings_from_variables_by_name():
    settings = Settings.from_variables({"TALENTLMS_PACE_MAX_CALLS": "9", "LMS_GATEWAY_CACHE": "0"})
    assert settings.pacing.max_calls == 9 and not settings.cache.enabled


# --- a LearnWorlds school as the single account ---------------------------------------------

SCHOOL = {
    "LMS_GATEWAY_LEARNWORLDS_URL": "https://school.learnworlds.com/admin/api/",
    "LMS_GATEWAY_LEARNWORLDS_CLIENT_ID": "lw-client-id",
    "LMS_GATEWAY_LEARNWORLDS_CLIENT_SECRET": "lw-secret-3f9a",
}


def _set(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("url", "base_url"),
    [
        ("https://school.learnworlds.com/admin/api/", "https://school.learnworlds.com/admin/api"),
        ("https://school.learnworlds.com", "https://school.learnworlds.com/admin/api"),
        ("learn.example.org", "https://learn.example.org/admin/api"),
        ("http://127.0.0.1:8002/admin/api", "http://127.0.0.1:8002/admin/api"),
    ],
)
def test_a_learnworlds_school_from_the_environment_alone(monkeypatch, url, base_url):
    _set(monkeypatch, {**SCHOOL, "LMS_GATEWAY_LEARNWORLDS_URL": url})
    settings = Settings()
    assert not settings.demo and settings.learnworlds.configured
    account = settings.default_account()
    assert (account.id, account.provider, account.base_url) == ("default", "learnworlds", base_url)
    assert account.learnworlds is not None
    assert account.learnworlds.client_id == "lw-client-id"
    assert account.learnworlds.client_secret == "lw-secret-3f9a"
    assert account.learnworlds.access_token is None
    assert account.api_key == ""
    assert "lw-secret-3f9a" not in repr(settings) + repr(account)


def test_a_static_access_token_instead_of_the_secret(monkeypatch):
    env = {**SCHOOL, "LMS_GATEWAY_LEARNWORLDS_ACCESS_TOKEN": "static-7a1c"}
    del env["LMS_GATEWAY_LEARNWORLDS_CLIENT_SECRET"]
    _set(monkeypatch, env)
    credentials = Settings().default_account().learnworlds
    assert credentials is not None
    assert (credentials.client_secret, credentials.access_token) == (None, "static-7a1c")
    assert "static-7a1c" not in repr(credentials)


def test_learnworlds_pace_and_token_settings_default_to_the_documented_limit():
    settings = Settings().learnworlds
    assert (settings.pace_max_calls, settings.pace_window_seconds) == (30, 10.0)
    assert settings.token_encoding == "auto"
    assert (settings.token_margin_seconds, settings.token_lifetime_seconds) == (60.0, 3600.0)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        # Half a school: the message names the variable that is missing.
        (
            {"LMS_GATEWAY_LEARNWORLDS_URL": "https://s.learnworlds.com"},
            "LMS_GATEWAY_LEARNWORLDS_CLIENT_ID is required with LMS_GATEWAY_LEARNWORLDS_URL",
        ),
        (
            {
                "LMS_GATEWAY_LEARNWORLDS_CLIENT_ID": "id",
                "LMS_GATEWAY_LEARNWORLDS_CLIENT_SECRET": "s",
            },
            "LMS_GATEWAY_LEARNWORLDS_URL is required with LMS_GATEWAY_LEARNWORLDS_CLIENT_ID and "
            "LMS_GATEWAY_LEARNWORLDS_CLIENT_SECRET",
        ),
        (
            {"LMS_GATEWAY_LEARNWORLDS_ACCESS_TOKEN": "t"},
            "LMS_GATEWAY_LEARNWORLDS_URL is required with LMS_GATEWAY_LEARNWORLDS_ACCESS_TOKEN",
        ),
        (
            {
                "LMS_GATEWAY_LEARNWORLDS_URL": "https://s.com",
                "LMS_GATEWAY_LEARNWORLDS_CLIENT_ID": "i",
            },
            "LMS_GATEWAY_LEARNWORLDS_CLIENT_SECRET or LMS_GATEWAY_LEARNWORLDS_ACCESS_TOKEN is "
            "required",
        ),
        (
            {**SCHOOL, "LMS_GATEWAY_LEARNWORLDS_ACCESS_TOKEN": "t"},
            "not both",
        ),
        ({**SCHOOL, "LMS_GATEWAY_LEARNWORLDS_URL": "https://s.com/v2"}, "ending in /admin/api"),
        ({**SCHOOL, "LMS_GATEWAY_LEARNWORLDS_URL": "ftp://s.com"}, "http(s) URL"),
        ({**SCHOOL, "LMS_GATEWAY_LEARNWORLDS_URL": "https://u:p@s.com"}, "credentials"),
        ({**SCHOOL, "LMS_GATEWAY_LEARNWORLDS_TOKEN_ENCODING": "xml"}, "'auto'"),
        ({"LMS_GATEWAY_LEARNWORLDS_PACE_MAX_CALLS": "0"}, "LMS_GATEWAY_LEARNWORLDS_PACE_MAX_CALLS"),
        # One single account: TalentLMS's variables and LearnWorlds's are not both served.
        (
            {**SCHOOL, "TALENTLMS_DOMAIN": "acme.talentlms.com", "TALENTLMS_API_KEY": "k"},
            "TALENTLMS_* (TALENTLMS_DOMAIN, TALENTLMS_API_KEY) and LMS_GATEWAY_LEARNWORLDS_* "
            "(LMS_GATEWAY_LEARNWORLDS_URL, LMS_GATEWAY_LEARNWORLDS_CLIENT_ID, "
            "LMS_GATEWAY_LEARNWORLDS_CLIENT_SECRET) both configure the single account",
        ),
        (
            {
                **SCHOOL,
                "TALENTLMS_BASE_URL": "http://127.0.0.1:8001/api/v1",
                "TALENTLMS_API_KEY": "k",
            },
            "both configure the single account",
        ),
    ],
)
def test_a_half_configured_school_is_refused_with_the_variable_to_fix(monkeypatch, env, message):
    _set(monkeypatch, env)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert message in str(caught.value)
    assert "lw-secret-3f9a" not in str(caught.value)


def test_a_learnworlds_school_from_the_environment_is_the_single_account(monkeypatch):
    from gateway.app import create_app

    _set(monkeypatch, SCHOOL)
    runtime = create_app(Settings()).state.runtime
    (account,) = runtime.tenancy.accounts.values()
    assert account.id == "default" and account.provider == "learnworlds"
    assert set(runtime.schools) == {"default"} and not runtime.portals
    assert runtime.simulator is None and runtime.learnworlds_simulator is None
    assert "lw-secret-3f9a" not in repr(runtime.tenancy)
