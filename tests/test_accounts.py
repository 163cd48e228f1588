"""Accounts file, gateway API keys and request authorization (gateway/tenancy/accounts.py).

Every refusal must say what to fix, and no secret (TalentLMS key, gateway key) may appear in
a message or a repr: the tests set known secrets and search every text the module produces.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.config import (
    DEMO_BASE_URL,
    AccountConfig,
    LearnWorldsCredentials,
    PaceLimit,
    Settings,
    TokenEncoding,
    UsersPaging,
)
from gateway.errors import AccessDenied, AccountsError, ConfigError
from gateway.tenancy.accounts import SCOPES, ApiKey, Tenancy, load_tenancy
from gateway.tenancy.authorization import Access, authorize, hash_key

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures" / "accounts"

ACME_TLMS_KEY = "AcmeTalentLmsKey7f3a9c1eQx"
GLOBEX_TLMS_KEY = "GlobexTalentLmsKey2b8d4e6fZw"
ENV_TLMS_KEY = "EnvDefaultTalentLmsKey55aa"
ACME_KEY = "lmsg_test_acme_frontend_0001"
GLOBEX_KEY = "lmsg_test_globex_frontend_0002"
OPS_KEY = "lmsg_test_ops_0003"
SCHOOL_SECRET = "SchoolLearnWorldsSecret9c2e"
SCHOOL_TOKEN = "SchoolStaticToken4d7bQq"
SECRETS = (
    ACME_TLMS_KEY,
    GLOBEX_TLMS_KEY,
    ENV_TLMS_KEY,
    ACME_KEY,
    GLOBEX_KEY,
    OPS_KEY,
    SCHOOL_SECRET,
    SCHOOL_TOKEN,
)
ENVIRON = {
    "ACME_TALENTLMS_KEY": ACME_TLMS_KEY,
    "GLOBEX_TALENTLMS_KEY": GLOBEX_TLMS_KEY,
    "SCHOOL_LW_SECRET": SCHOOL_SECRET,
    "SCHOOL_LW_TOKEN": SCHOOL_TOKEN,
    "SCHOOL_LW_CLIENT_ID": "school-client-id",
}


@pytest.fixture(autouse=True)
def _no_machine_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TALENTLMS_DOMAIN", "TALENTLMS_BASE_URL", "TALENTLMS_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def demo_settings() -> Settings:
    return Settings()


def env_settings() -> Settings:
    """TALENTLMS_* configure a portal: it becomes the account "default"."""
    return Settings(upstream={"domain": "initech.talentlms.com", "api_key": ENV_TLMS_KEY})


def load(path: Path, environ: dict[str, str] | None = None, settings: Settings | None = None):
    return load_tenancy(
        settings or demo_settings(),
        ENVIRON if environ is None else environ,
        accounts_file=path,
        demo_api_key="demo-simulator-key",
    )


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"secret leaked into: {text}"


# --- loading -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["two_accounts.toml", "two_accounts.json"])
def test_two_accounts_from_a_file(name):
    tenancy = load(FIXTURES / name)
    assert list(tenancy.accounts) == ["acme", "globex"]
    acme, globex = tenancy.accounts["acme"], tenancy.accounts["globex"]
    assert acme == AccountConfig(
        id="acme",
        provider="talentlms",
        base_url="https://acme.talentlms.com/api/v1",
        api_key=ACME_TLMS_KEY,
        date_format="DDMMYYYY",
        timezone=ZoneInfo("Europe/Athens"),
        users_paging=UsersPaging.PATH,
        demo=False,
    )
    assert globex == AccountConfig(
        id="globex",
        provider="talentlms",
        base_url="http://127.0.0.1:8001/api/v1",
        api_key=GLOBEX_TLMS_KEY,
        date_format=None,
        timezone=ZoneInfo("UTC"),
        users_paging=UsersPaging.NONE,
        demo=False,
    )
    assert tenancy.requires_keys
    assert [(k.name, k.accounts) for k in tenancy.api_keys] == [
        ("acme-frontend", frozenset({"acme"})),
        ("globex-frontend", frozenset({"globex"})),
        ("ops", frozenset({"*"})),
    ]
    # Upper-case hex in the file is the same hash.
    assert [k.sha256 for k in tenancy.api_keys] == [
        hashlib.sha256(key.encode()).digest() for key in (ACME_KEY, GLOBEX_KEY, OPS_KEY)
    ]


def test_toml_and_json_files_mean_the_same():
    assert load(FIXTURES / "two_accounts.toml") == load(FIXTURES / "two_accounts.json")


def test_default_account_from_the_environment_joins_the_file_accounts():
    tenancy = load(FIXTURES / "two_accounts.toml", settings=env_settings())
    assert list(tenancy.accounts) == ["acme", "globex", "default"]
    default = tenancy.accounts["default"]
    assert default.base_url == "https://initech.talentlms.com/api/v1"
    assert default.api_key == ENV_TLMS_KEY and not default.demo
    ops = authorize(tenancy, f"Bearer {OPS_KEY}", "default")
    assert (ops.account.id, ops.key_name) == ("default", "ops")
    with pytest.raises(AccessDenied) as denied:
        authorize(tenancy, f"Bearer {ACME_KEY}", "default")
    assert denied.value.status == 403


def test_a_file_may_only_add_keys_for_the_default_account():
    tenancy = load(FIXTURES / "keys_for_default.toml", settings=env_settings())
    assert list(tenancy.accounts) == ["default"]
    access = authorize(tenancy, f"Bearer {ACME_KEY}", None)
    assert (access.account.id, access.key_name) == ("default", "frontend")


def test_a_file_in_demo_mode_serves_only_its_own_accounts():
    tenancy = load(FIXTURES / "two_accounts.toml", settings=demo_settings())
    assert "default" not in tenancy.accounts
    assert all(not account.demo for account in tenancy.accounts.values())


def test_a_file_account_may_be_called_default_when_the_environment_has_none(tmp_path):
    path = write(tmp_path, account(id="default"))
    tenancy = load(path)
    assert list(tenancy.accounts) == ["default"]
    assert tenancy.accounts["default"].api_key == ACME_TLMS_KEY


def test_demo_mode_without_a_file_is_the_simulator_account():
    tenancy = load_tenancy(demo_settings(), {}, demo_api_key="demo-simulator-key")
    assert list(tenancy.accounts) == ["default"]
    default = tenancy.accounts["default"]
    assert (default.base_url, default.api_key, default.demo) == (
        DEMO_BASE_URL,
        "demo-simulator-key",
        True,
    )
    assert tenancy.api_keys == () and not tenancy.requires_keys
    access = authorize(tenancy, None, None)
    assert access == Access(account=default, key_name=None, scopes=frozenset(SCOPES))
    assert authorize(tenancy, "Bearer anything-at-all", "default").key_name is None


def test_demo_mode_adds_the_simulated_school_reached_by_the_account_header():
    from gateway.runtime import demo_school_account
    from gateway.simulator import LearnWorldsConfig

    school = demo_school_account(LearnWorldsConfig())
    tenancy = load_tenancy(demo_settings(), {}, demo_api_key="k", demo_school=school)
    assert list(tenancy.accounts) == ["default", "learnworlds"]
    assert tenancy.fallback_account == "default" and not tenancy.requires_keys
    # Without the header: the TalentLMS simulator, as before; with it: the school.
    assert authorize(tenancy, None, None).account.id == "default"
    assert authorize(tenancy, None, "learnworlds").account == school
    assert school.provider == "learnworlds" and school.demo
    # Outside demo mode there is no second account and no fallback.
    outside = load_tenancy(env_settings(), ENVIRON, demo_school=school)
    assert list(outside.accounts) == ["default"] and outside.fallback_account is None


def test_a_key_for_several_accounts_must_name_one_without_a_fallback(tmp_path):
    path = write(tmp_path, account(), account(id="beta"), api_key(accounts=["acme", "beta"]))
    tenancy = load(path)
    assert tenancy.fallback_account is None
    with pytest.raises(AccessDenied) as caught:
        authorize(tenancy, f"Bearer {ACME_KEY}", None)
    assert caught.value.status == 400


def test_environment_only_without_a_file():
    tenancy = load_tenancy(env_settings(), {})
    assert list(tenancy.accounts) == ["default"]
    assert tenancy.accounts["default"].api_key == ENV_TLMS_KEY


def test_environ_defaults_to_the_process_environment(monkeypatch):
    monkeypatch.setenv("ACME_TALENTLMS_KEY", ACME_TLMS_KEY)
    monkeypatch.setenv("GLOBEX_TALENTLMS_KEY", GLOBEX_TLMS_KEY)
    tenancy = load_tenancy(demo_settings(), accounts_file=FIXTURES / "two_accounts.toml")
    assert tenancy.accounts["globex"].api_key == GLOBEX_TLMS_KEY


@pytest.mark.parametrize(
    ("date_format", "stored"),
    [("MMDDYYYY", "MMDDYYYY"), ("d/m/Y", "DDMMYYYY"), ("ymd", "YYYYMMDD")],
)
def test_date_formats_are_read_like_siteinfo(tmp_path, date_format, stored):
    tenancy = load(write(tmp_path, account(date_format=date_format)))
    assert tenancy.accounts["acme"].date_format == stored


# --- configuration errors -------------------------------------------------------------------


def toml_value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value) + '"'


def account(**fields: object) -> str:
    """One [[accounts]] table; a field set to None is left out."""
    values: dict[str, object] = {
        "id": "acme",
        "provider": "talentlms",
        "domain": "acme.talentlms.com",
        "api_key_env": "ACME_TALENTLMS_KEY",
    }
    values.update(fields)
    lines = [f"{name} = {toml_value(v)}" for name, v in values.items() if v is not None]
    return "[[accounts]]\n" + "\n".join(lines) + "\n"


def api_key(**fields: object) -> str:
    values: dict[str, object] = {
        "name": "acme-frontend",
        "sha256": hash_key(ACME_KEY),
        "accounts": ["acme"],
    }
    values.update(fields)
    lines = [f"{name} = {toml_value(v)}" for name, v in values.items() if v is not None]
    return "[[api_keys]]\n" + "\n".join(lines) + "\n"


def write(tmp_path: Path, *tables: str, name: str = "accounts.toml") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(tables), encoding="utf-8")
    return path


def school(**fields: object) -> str:
    """One [[accounts]] table of a LearnWorlds school; a field set to None is left out."""
    values: dict[str, object] = {
        "id": "school",
        "provider": "learnworlds",
        "domain": "school.learnworlds.com",
        "client_id": "school-client-id",
        "client_secret_env": "SCHOOL_LW_SECRET",
    }
    values.update(fields)
    lines = [f"{name} = {toml_value(v)}" for name, v in values.items() if v is not None]
    return "[[accounts]]\n" + "\n".join(lines) + "\n"


GLOBEX = account(id="globex", api_key_env="GLOBEX_TALENTLMS_KEY")

ERRORS = {
    "missing env var": (
        [account(api_key_env="NOT_SET_ANYWHERE")],
        ["accounts[0] 'acme'", "NOT_SET_ANYWHERE", "not set"],
    ),
    "inline api_key": (
        [account(api_key=ACME_TLMS_KEY)],
        ["'api_key'", "keys never inline", "api_key_env"],
    ),
    "inline token": ([account(token=ACME_TLMS_KEY)], ["'token'", "keys never inline"]),
    "inline password": ([account(password=ACME_TLMS_KEY)], ["'password'", "never inline"]),
    "inline secret": ([account(secret=ACME_TLMS_KEY)], ["'secret'", "never inline"]),
    "inline key": ([account(key=ACME_TLMS_KEY)], ["'key'", "never inline"]),
    "key in api_key_env": (
        [account(api_key_env=ACME_TLMS_KEY)],
        ["api_key_env", "NAME of an environment variable"],
    ),
    "unknown field": (
        [account(api_key_var="ACME_TALENTLMS_KEY")],
        ["accounts[0] 'acme'", "unknown field 'api_key_var'", "'api_key_env'"],
    ),
    "duplicate id": ([account(), account(api_key_env="GLOBEX_TALENTLMS_KEY")], ["used twice"]),
    "bad id with space": ([account(id="acme corp")], ["accounts[0]:", "id must be 1-64"]),
    "bad id too long": ([account(id="a" * 65)], ["id must be 1-64"]),
    "empty id": ([account(id="")], ["id must be a non-empty string"]),
    "missing id": ([account(id=None)], ["id is required"]),
    "id not a string": ([account(id=7)], ["id must be a non-empty string"]),
    "other provider": (
        [account(provider="moodle")],
        ["provider must be one of 'learnworlds', 'talentlms'"],
    ),
    "learnworlds fields on a talentlms account": (
        [account(client_secret_env="SCHOOL_LW_SECRET")],
        ["'client_secret_env' is for provider 'learnworlds', not 'talentlms'"],
    ),
    "learnworlds fields without a provider": (
        [account(provider=None, client_id="x", client_secret_env="SCHOOL_LW_SECRET")],
        [
            "'client_id', 'client_secret_env' are for provider 'learnworlds'",
            'provider = "learnworlds"',
        ],
    ),
    "talentlms fields on a learnworlds account": (
        [school(api_key_env="ACME_TALENTLMS_KEY")],
        ["accounts[0] 'school'", "'api_key_env' is for provider 'talentlms', not 'learnworlds'"],
    ),
    "school secret variable not set": (
        [school(client_secret_env="NOT_SET_ANYWHERE")],
        ["accounts[0] 'school'", "NOT_SET_ANYWHERE (client_secret_env) is not set"],
    ),
    "school token variable not set": (
        [school(client_secret_env=None, access_token_env="NOT_SET_EITHER")],
        ["NOT_SET_EITHER (access_token_env) is not set"],
    ),
    "school client id variable not set": (
        [school(client_id=None, client_id_env="NO_CLIENT_ID")],
        ["NO_CLIENT_ID (client_id_env) is not set"],
    ),
    "school secret and token": (
        [school(access_token_env="SCHOOL_LW_TOKEN")],
        ["exactly one of client_secret_env", "access_token_env"],
    ),
    "school neither secret nor token": (
        [school(client_secret_env=None)],
        ["exactly one of client_secret_env"],
    ),
    "school without a client id": ([school(client_id=None)], ["exactly one of client_id"]),
    "school with client_id and client_id_env": (
        [school(client_id_env="SCHOOL_LW_CLIENT_ID")],
        ["exactly one of client_id and client_id_env"],
    ),
    "school secret inline": (
        [school(client_secret=SCHOOL_SECRET)],
        ["'client_secret'", "never inline", "client_secret_env"],
    ),
    "school token inline": (
        [school(access_token=SCHOOL_TOKEN)],
        ["'access_token'", "never inline"],
    ),
    "school secret in the variable field": (
        [school(client_secret_env=SCHOOL_SECRET)],
        ["client_secret_env must be the NAME of an environment variable"],
    ),
    "school without an address": ([school(domain=None)], ["exactly one of domain"]),
    "school base_url not the API's": (
        [school(domain=None, base_url="https://school.learnworlds.com/v2")],
        ["ending in /admin/api"],
    ),
    "school base_url with credentials": (
        [school(domain=None, base_url=f"https://x:{SCHOOL_SECRET}@school.learnworlds.com")],
        ["must not contain credentials"],
    ),
    "school token_url not http": ([school(token_url="ftp://x/t")], ["token_url must be"]),
    "school bad token_encoding": ([school(token_encoding="xml")], ["token_encoding", "'auto'"]),
    "pace without its window": ([school(pace_max_calls=30)], ["pace_max_calls and pace_window"]),
    "pace of zero calls": (
        [account(pace_max_calls=0, pace_window_seconds=5)],
        ["pace_max_calls must be a whole number of at least 1"],
    ),
    "pace in a string": (
        [account(pace_max_calls=10, pace_window_seconds="5")],
        ["pace_window_seconds must be a positive number"],
    ),
    "domain and base_url": (
        [account(base_url="https://acme.talentlms.com/api/v1")],
        ["exactly one of domain", "base_url"],
    ),
    "neither domain nor base_url": ([account(domain=None)], ["exactly one of domain"]),
    "domain with a path": ([account(domain="acme.talentlms.com/x")], ["host name"]),
    "base_url not http": (
        [account(domain=None, base_url="ftp://acme/api/v1")],
        ["base_url must be an http(s) URL"],
    ),
    "base_url without /api/v1": (
        [account(domain=None, base_url="https://acme.talentlms.com/")],
        ["base_url must be an http(s) URL ending in /api/v1"],
    ),
    "base_url with credentials": (
        [account(domain=None, base_url=f"https://{ACME_TLMS_KEY}:@acme.talentlms.com/api/v1")],
        ["must not contain credentials"],
    ),
    "bad timezone": ([account(timezone="Mars/Olympus")], ["IANA zone", "Mars/Olympus"]),
    "bad users_paging": ([account(users_paging="sometimes")], ["users_paging", "'path'"]),
    "bad date_format": ([account(date_format="YYYY")], ["date_format must be one of"]),
    "no accounts at all": ([api_key(accounts=["*"])], ["no account is configured"]),
    "accounts not tables": (['accounts = "acme"'], ["accounts: must be a list of tables"]),
    "key at top level": (
        [f'talentlms_api_key = "{ACME_TLMS_KEY}"', account()],
        ["the file: 'talentlms_api_key': keys never inline"],
    ),
    "typo at top level": (['[[acounts]]\nid = "x"', account()], ["unknown field 'acounts'"]),
    "inline key with another name": (
        [account(acme_api_key=ACME_TLMS_KEY)],
        ["'acme_api_key'", "never inline"],
    ),
    "bad hash": ([account(), api_key(sha256="abc123")], ["api_keys[0] 'acme-frontend'", "64 hex"]),
    "raw key as hash": ([account(), api_key(sha256=ACME_KEY)], ["sha256 must be", "never the key"]),
    "hash too long": ([account(), api_key(sha256=hash_key(ACME_KEY) + "00")], ["64 hex"]),
    "inline gateway key": (
        [account(), api_key(key=ACME_KEY)],
        ["'key'", "keys never inline", "sha256", "hash-key"],
    ),
    "unknown account in scope": (
        [account(), api_key(accounts=["acme", "initech"])],
        ["api_keys[0] 'acme-frontend'", "unknown account 'initech'", "'acme'"],
    ),
    "empty scope": ([account(), api_key(accounts=[])], ["non-empty list"]),
    "scope not a list": ([account(), api_key(accounts="acme")], ["non-empty list"]),
    "star with ids": ([account(), api_key(accounts=["*", "acme"])], ['"*" already']),
    "missing hash": ([account(), api_key(sha256=None)], ["sha256 must be"]),
    "duplicate key name": (
        [account(), api_key(), api_key(sha256=hash_key(OPS_KEY))],
        ["api_keys[1]", "used twice"],
    ),
    "duplicate hash": (
        [account(), api_key(), api_key(name="copy")],
        ["api_keys[1] 'copy'", "also api key 'acme-frontend''s"],
    ),
    "bad key name": ([account(), api_key(name="acme frontend")], ["name must be 1-64"]),
    "unknown field in a key": (
        [account(), api_key(scope=["acme"])],
        ["unknown field 'scope'"],
    ),
}


@pytest.mark.parametrize(("tables", "expected"), ERRORS.values(), ids=ERRORS.keys())
def test_configuration_errors_say_what_to_fix_and_show_no_secret(tmp_path, tables, expected):
    path = write(tmp_path, *tables)
    with pytest.raises(AccountsError) as caught:
        load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    for part in expected:
        assert part in message
    assert_no_secret(message + repr(caught.value))
    # No chained exception either: its text would show up in a traceback.
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_default_is_taken_when_the_environment_configures_a_portal(tmp_path):
    path = write(tmp_path, account(id="default"))
    with pytest.raises(AccountsError) as caught:
        load(path, settings=env_settings())
    message = str(caught.value)
    assert message.startswith(f"{path}: accounts[0] 'default': ")
    assert "TALENTLMS_*" in message and "LMS_GATEWAY_LEARNWORLDS_*" in message
    assert "rename" in message
    assert_no_secret(message)


def test_the_provider_is_talentlms_unless_the_account_says_otherwise(tmp_path):
    tenancy = load(write(tmp_path, account(provider=None)))
    assert tenancy.accounts["acme"].provider == "talentlms"


def test_a_learnworlds_school_from_the_file(tmp_path):
    path = write(
        tmp_path,
        account(),
        school(),
        school(
            id="static",
            domain=None,
            base_url="https://learn.example.org/admin/api/",
            client_id=None,
            client_id_env="SCHOOL_LW_CLIENT_ID",
            client_secret_env=None,
            access_token_env="SCHOOL_LW_TOKEN",
            token_encoding="form",
            pace_max_calls=25,
            pace_window_seconds=10,
        ),
    )
    tenancy = load(path)
    assert list(tenancy.accounts) == ["acme", "school", "static"]
    school_account = tenancy.accounts["school"]
    assert school_account == AccountConfig(
        id="school",
        provider="learnworlds",
        base_url="https://school.learnworlds.com/admin/api",
        learnworlds=LearnWorldsCredentials(
            client_id="school-client-id", client_secret=SCHOOL_SECRET
        ),
    )
    static = tenancy.accounts["static"]
    assert static.base_url == "https://learn.example.org/admin/api"
    assert static.learnworlds == LearnWorldsCredentials(
        client_id="school-client-id",
        access_token=SCHOOL_TOKEN,
        token_encoding=TokenEncoding.FORM,
    )
    assert static.pacing == PaceLimit(25, 10.0)
    assert tenancy.accounts["acme"].pacing is None
    assert_no_secret(repr(tenancy) + repr(school_account) + repr(static))


def test_a_talentlms_account_may_set_its_own_pace(tmp_path):
    tenancy = load(write(tmp_path, account(pace_max_calls=50, pace_window_seconds=5)))
    assert tenancy.accounts["acme"].pacing == PaceLimit(50, 5.0)


def test_a_learnworlds_school_from_the_environment_joins_the_file_accounts(tmp_path):
    settings = Settings(
        learnworlds={
            "url": "https://env-school.learnworlds.com",
            "client_id": "env-client",
            "client_secret": SCHOOL_SECRET,
        }
    )
    tenancy = load(write(tmp_path, account()), settings=settings)
    assert list(tenancy.accounts) == ["acme", "default"]
    default = tenancy.accounts["default"]
    assert (default.provider, default.base_url) == (
        "learnworlds",
        "https://env-school.learnworlds.com/admin/api",
    )


def test_a_school_in_the_file_is_served_beside_a_portal(tmp_path):
    from gateway.app import create_app

    path = write(tmp_path, account(), school())
    settings = Settings(tenancy={"accounts_file": path})
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ENVIRON.items():
            patch.setenv(name, value)
        app = create_app(settings)
    runtime = app.state.runtime
    assert set(runtime.schools) == {"school"} and "school" not in runtime.portals
    assert "school" in runtime.auths and "school" in runtime.guards


def test_an_empty_variable_is_as_bad_as_a_missing_one(tmp_path):
    path = write(tmp_path, account(api_key_env="EMPTY_KEY"))
    with pytest.raises(AccountsError, match=r"EMPTY_KEY.*not set or empty"):
        load(path, {"EMPTY_KEY": "  "})


def test_accounts_error_is_a_config_error():
    assert issubclass(AccountsError, ConfigError) and issubclass(AccountsError, ValueError)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bad_syntax.toml", "invalid TOML: Invalid value at line 4, column 15"),
        ("bad_syntax.json", "invalid JSON: Expecting value at line 3, column 35"),
    ],
)
def test_syntax_errors_give_the_position_but_no_file_contents(name, expected):
    path = FIXTURES / name
    with pytest.raises(AccountsError) as caught:
        load(path)
    message = str(caught.value)
    assert message == f"{path}: {expected}"
    assert "lmsg_not_quoted_secret_value" not in message


def test_toml_messages_drop_quoted_file_text(tmp_path):
    path = write(tmp_path, f'[[accounts]]\nid = "acme"\nid = "{ACME_TLMS_KEY}"\n')
    with pytest.raises(AccountsError, match=r"invalid TOML: .*line 3, column") as caught:
        load(path)
    assert_no_secret(str(caught.value))


def test_json_duplicate_fields_are_refused(tmp_path):
    path = tmp_path / "accounts.json"
    path.write_text(
        '{"accounts": [{"id": "acme", "provider": "talentlms", "domain": "acme.talentlms.com",'
        ' "api_key_env": "ACME_TALENTLMS_KEY", "api_key_env": "GLOBEX_TALENTLMS_KEY"}]}',
        encoding="utf-8",
    )
    with pytest.raises(AccountsError, match="'api_key_env' appears twice"):
        load(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('["acme"]', "top level must be a table"),
        ('{"accounts": {"id": "acme"}}', "must be a list of tables"),
        (f'{{"accounts": [{{"id": "acme", "api_key": "{ACME_TLMS_KEY}"}}]}}', "never inline"),
    ],
)
def test_json_shapes(tmp_path, content, expected):
    path = tmp_path / "accounts.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AccountsError, match=expected) as caught:
        load(path)
    assert_no_secret(str(caught.value))


@pytest.mark.parametrize(
    ("name", "expected"),
    [("nowhere.toml", "accounts file not found"), ("accounts.yaml", "must end in .toml or .json")],
)
def test_file_problems(tmp_path, name, expected):
    path = tmp_path / name
    if name.endswith(".yaml"):
        path.write_text("accounts: []\n", encoding="utf-8")
    with pytest.raises(AccountsError, match=expected) as caught:
        load(path)
    assert str(caught.value).startswith(str(path))


def test_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "accounts.toml"
    path.write_bytes(b'[[accounts]]\nid = "\xff"\n')
    with pytest.raises(AccountsError, match="not UTF-8"):
        load(path)


# --- authorize ------------------------------------------------------------------------------


@pytest.fixture
def tenancy() -> Tenancy:
    return load(FIXTURES / "two_accounts.toml")


@pytest.mark.parametrize(
    ("authorization", "account", "expected"),
    [
        (None, None, 401),
        (None, "acme", 401),
        ("", "acme", 401),
        ("Bearer", None, 401),
        ("Bearer ", None, 401),
        ("Bearer lmsg_wrong_key", "acme", 401),
        (f"Basic {ACME_KEY}", "acme", 401),
        (f"Token {ACME_KEY}", "acme", 401),
        (ACME_KEY, "acme", 401),
        (f"Bearer {ACME_KEY} extra", "acme", 401),
        (f"Bearer Bearer {ACME_KEY}", "acme", 401),
        (f"Bearer {ACME_KEY}x", "acme", 401),
        (f"Bearer {ACME_KEY[:-1]}", "acme", 401),
        (f"Bearer {'a' * 513}", None, 401),
        (f"Bearer {'a' * 512}", None, 401),
        (f"Bearer {ACME_KEY}\u00e9", None, 401),
        (f"Bearer {ACME_KEY}", "acme", ("acme", "acme-frontend")),
        (f"Bearer {ACME_KEY}", None, ("acme", "acme-frontend")),
        (f"bearer {ACME_KEY}", None, ("acme", "acme-frontend")),
        (f"BEARER {ACME_KEY}", " acme ", ("acme", "acme-frontend")),
        (f"  Bearer  {ACME_KEY}  ", None, ("acme", "acme-frontend")),
        (f"Bearer {ACME_KEY}", "globex", 403),
        (f"Bearer {ACME_KEY}", "initech", 403),
        (f"Bearer {ACME_KEY}", "ACME", 403),
        (f"Bearer {ACME_KEY}", "default", 403),
        (f"Bearer {GLOBEX_KEY}", None, ("globex", "globex-frontend")),
        (f"Bearer {GLOBEX_KEY}", "acme", 403),
        (f"Bearer {OPS_KEY}", "acme", ("acme", "ops")),
        (f"Bearer {OPS_KEY}", "globex", ("globex", "ops")),
        (f"Bearer {OPS_KEY}", "initech", 403),
        (f"Bearer {OPS_KEY}", None, 400),
        (f"Bearer {OPS_KEY}", "", 400),
    ],
)
def test_authorize(tenancy, authorization, account, expected):
    if isinstance(expected, tuple):
        access = authorize(tenancy, authorization, account)
        assert (access.account.id, access.key_name) == expected
        assert access.account is tenancy.accounts[expected[0]]
        return
    with pytest.raises(AccessDenied) as caught:
        authorize(tenancy, authorization, account)
    denied = caught.value
    code = {400: "BAD_USER_INPUT", 401: "UNAUTHENTICATED", 403: "FORBIDDEN"}[expected]
    assert (denied.status, denied.code) == (expected, code)
    assert str(denied) == denied.message
    assert_no_secret(denied.message + repr(denied))
    if expected == 400:
        assert "X-LMS-Account header is required" in denied.message
    if expected == 403:
        assert "is not allowed for this key" in denied.message


def test_unknown_account_reads_like_an_account_out_of_scope(tenancy):
    messages = []
    for account in ("globex", "initech"):
        with pytest.raises(AccessDenied) as caught:
            authorize(tenancy, f"Bearer {ACME_KEY}", account)
        assert caught.value.status == 403
        messages.append(caught.value.message)
    assert messages[0] == messages[1] == "the account in X-LMS-Account is not allowed for this key"


@pytest.mark.parametrize(
    "account", [ACME_KEY, GLOBEX_KEY, ACME_TLMS_KEY, "globex", "acme corp", "a" * 65, "<script>"]
)
def test_account_header_is_never_echoed(tenancy, account):
    with pytest.raises(AccessDenied) as caught:
        authorize(tenancy, f"Bearer {ACME_KEY}", account)
    assert caught.value.status == 403
    assert caught.value.message == "the account in X-LMS-Account is not allowed for this key"


def test_missing_and_malformed_headers_say_how_to_send_a_key(tenancy):
    with pytest.raises(AccessDenied, match="Authorization: Bearer <key>"):
        authorize(tenancy, None, None)
    with pytest.raises(AccessDenied, match="must be: Bearer <key>"):
        authorize(tenancy, f"Basic {ACME_KEY}", None)
    with pytest.raises(AccessDenied, match="not valid"):
        authorize(tenancy, "Bearer lmsg_wrong", None)


def test_star_scope_with_a_single_account_needs_no_header(tmp_path):
    tenancy = load(write(tmp_path, account(), api_key(accounts=["*"])))
    assert authorize(tenancy, f"Bearer {ACME_KEY}", None).account.id == "acme"


def test_anonymous_access_when_no_keys_are_configured(tmp_path):
    tenancy = load(write(tmp_path, account(), GLOBEX))
    assert not tenancy.requires_keys
    for authorization in (None, "Bearer whatever", "Basic xyz"):
        access = authorize(tenancy, authorization, "globex")
        assert (access.account.id, access.key_name) == ("globex", None)
    with pytest.raises(AccessDenied) as ambiguous:
        authorize(tenancy, None, None)
    assert (ambiguous.value.status, ambiguous.value.code) == (400, "BAD_USER_INPUT")
    with pytest.raises(AccessDenied) as unknown:
        authorize(tenancy, None, "initech")
    assert (unknown.value.status, unknown.value.code) == (403, "FORBIDDEN")
    single = load(write(tmp_path, account()))
    assert authorize(single, None, None).account.id == "acme"


def test_a_tenancy_whose_key_reaches_no_account():
    key = ApiKey("orphan", hashlib.sha256(b"k").digest(), frozenset({"gone"}))
    tenancy = Tenancy(accounts={}, api_keys=(key,))
    with pytest.raises(AccessDenied) as caught:
        authorize(tenancy, "Bearer k", None)
    assert caught.value.status == 403


@pytest.mark.parametrize(
    "authorization",
    [
        f"Bearer {ACME_KEY}",  # matches the first entry
        f"Bearer {OPS_KEY}",  # matches the last entry
        "Bearer lmsg_wrong_key",
        f"Basic {ACME_KEY}",
        None,
    ],
)
def test_every_configured_hash_is_compared_on_every_call(tenancy, monkeypatch, authorization):
    compared: list[bytes] = []
    real = hmac.compare_digest

    def counting(a, b):
        compared.append(b)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    for _ in range(2):
        with contextlib.suppress(AccessDenied):
            authorize(tenancy, authorization, "acme")
    assert compared == [key.sha256 for key in tenancy.api_keys] * 2


# --- nothing secret in reprs ------------------------------------------------------------------


def _account_config_repr_shows_the_key() -> bool:
    return any(f.name == "api_key" and f.repr for f in dataclasses.fields(AccountConfig))


def test_reprs_show_no_secret(tmp_path):
    tenancy = load(FIXTURES / "two_accounts.toml", settings=env_settings())
    access = authorize(tenancy, f"Bearer {OPS_KEY}", "acme")
    with pytest.raises(AccessDenied) as denied:
        authorize(tenancy, f"Bearer {ACME_KEY}x", "acme")
    texts = [
        repr(tenancy),
        str(tenancy),
        repr(tenancy.api_keys),
        str(list(tenancy.api_keys)),
        repr(access),
        str(access),
        repr(denied.value),
        str(denied.value),
    ]
    shown = "\n".join(texts)
    assert_no_secret(shown)
    for key in tenancy.api_keys:
        assert key.sha256.hex() not in shown.lower()
    # They still say what they are about.
    assert "'acme'" in repr(tenancy) and "'ops'" in repr(tenancy)
    assert repr(access) == "Access(account='acme', key_name='ops', scopes=['read'])"
    assert repr(tenancy.api_keys[0]) == (
        "ApiKey(name='acme-frontend', accounts=frozenset({'acme'}), scopes=frozenset({'read'}))"
    )


def test_tenancy_repr_drops_credentials_from_urls():
    settings = Settings(
        upstream={
            "base_url": f"https://user:{ENV_TLMS_KEY}@proxy.example/api/v1",
            "api_key": ENV_TLMS_KEY,
        }
    )
    tenancy = load_tenancy(settings, {})
    assert "proxy.example" in repr(tenancy)
    assert_no_secret(repr(tenancy))


@pytest.mark.xfail(
    _account_config_repr_shows_the_key(),
    reason="gateway/config.py: AccountConfig.api_key needs field(repr=False)",
    strict=True,
)
def test_account_config_repr_hides_the_key():
    tenancy = load(FIXTURES / "two_accounts.toml", settings=env_settings())
    assert_no_secret(repr(list(tenancy.accounts.values())))


# --- small pieces ---------------------------------------------------------------------------


def test_hash_key_is_hex_sha256():
    assert hash_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert hash_key(ACME_KEY) == "77fe2c92e96d47897ea14b206d4d10c8ef8ab0dfee3db94cca46019f9d3c0e39"


def test_api_key_scope():
    digest = hashlib.sha256(b"k").digest()
    scoped = ApiKey("a", digest, frozenset({"acme"}))
    everything = ApiKey("b", digest, frozenset({"*"}))
    assert scoped.allows("acme") and not scoped.allows("globex")
    assert everything.allows("acme") and everything.allows("anything")


@pytest.mark.parametrize(
    ("sha256", "accounts"), [(b"short", frozenset({"a"})), (bytes(32), frozenset())]
)
def test_api_key_checks_itself(sha256, accounts):
    with pytest.raises(AccountsError):
        ApiKey("k", sha256, accounts)


def test_the_documented_example_loads(tmp_path):
    example = Path(__file__).parent.parent / "docs" / "accounts.example.toml"
    environ = {"ACME_TALENTLMS_KEY": ACME_TLMS_KEY, "GLOBEX_TALENTLMS_KEY": GLOBEX_TLMS_KEY}
    tenancy = load(example, environ)
    assert list(tenancy.accounts) == ["acme", "globex"]
    assert [k.name for k in tenancy.api_keys] == ["acme-frontend", "ops"]
    # Its LearnWorlds school, commented out while such accounts are refused, loads too.
    text = re.sub(
        r"^# ((\[\[accounts\]\])|([a-z_]+ = .*))$",
        r"\1",
        example.read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    uncommented = write(tmp_path, text)
    tenancy = load(uncommented, {**environ, "SCHOOL_LEARNWORLDS_SECRET": SCHOOL_SECRET})
    assert list(tenancy.accounts) == ["acme", "globex", "school"]
    school_account = tenancy.accounts["school"]
    assert school_account.base_url == "https://school.learnworlds.com/admin/api"
    assert school_account.pacing == PaceLimit(30, 10.0)
