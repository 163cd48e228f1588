"""Tenancy: which LMS accounts the gateway serves, and which gateway keys may use which
(checking a request's key is ``gateway.tenancy.authorization``).

The gateway holds TalentLMS keys with super-admin power over whole portals, for several
customers at once, so this module is deliberately strict:

* Accounts come from an accounts file (``LMS_GATEWAY_ACCOUNTS_FILE``, TOML or JSON) plus the
  single account of the ``TALENTLMS_*`` or ``LMS_GATEWAY_LEARNWORLDS_*`` variables, which keeps
  the id ``"default"``. Each account names its provider, ``talentlms`` (the default) or
  ``learnworlds``. The file names the *environment variable* that holds each secret (a
  TalentLMS key, a LearnWorlds client secret or access token), never the secret itself: a
  file is copied, committed and pasted into tickets; an environment is not.
* Gateway keys are configured as SHA-256 hashes, each scoped to account ids (or ``"*"``),
  so the file holds nothing that grants access by itself.
* Nothing here puts a secret into an exception, a message or a ``repr``: configuration errors
  name the file, the entry and the field, never a value that could be a key (a key pasted
  into the wrong field is the likeliest mistake).

The file format (``docs/accounts.example.toml`` is a commented example)::

    [[accounts]]
    id = "acme"                       # 1-64 of A-Z a-z 0-9 _ . -
    provider = "talentlms"            # optional, the default
    domain = "acme.talentlms.com"     # or base_url = "https://…/api/v1", exactly one
    api_key_env = "ACME_TALENTLMS_KEY"
    date_format = "DDMMYYYY"          # optional
    timezone = "Europe/Athens"        # optional, IANA, default UTC
    users_paging = "path"             # optional, "path" (default) or "none"
    pace_max_calls = 200              # optional, with pace_window_seconds: the account's pace

    [[accounts]]
    id = "school"
    provider = "learnworlds"
    domain = "school.learnworlds.com" # or base_url = "https://…" (alone or …/admin/api)
    client_id = "64b7…"               # or client_id_env = "SCHOOL_LW_CLIENT_ID"
    client_secret_env = "SCHOOL_LW_SECRET"   # or access_token_env = "…" (a static token)
    token_encoding = "auto"           # optional: auto, data, form or json

    [[api_keys]]
    name = "acme-frontend"
    sha256 = "…64 hex digits…"        # lms-gateway hash-key
    accounts = ["acme"]               # or ["*"] for every account
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Final, NoReturn
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.config import (
    PROVIDER_NAMES,
    AccountConfig,
    LearnWorldsCredentials,
    PaceLimit,
    Settings,
    TokenEncoding,
    UsersPaging,
    learnworlds_base_url,
)
from gateway.errors import AccountsError
from gateway.providers.talentlms.values import DateFormat

__all__ = [
    "DEFAULT_SCOPES",
    "SCOPES",
    "ApiKey",
    "Tenancy",
    "load_tenancy",
]

DEFAULT_ACCOUNT_ID = "default"
ALL_ACCOUNTS = "*"

_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# Upper case only: a TalentLMS key pasted here by mistake (mixed-case letters and digits) is
# then refused without being echoed in "variable … is not set".
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")
_HEX_SHA256 = re.compile(r"[0-9A-Fa-f]{64}")

# Fields every account may have, then each provider's own.
_COMMON_FIELDS = frozenset(
    {"id", "provider", "domain", "base_url", "pace_max_calls", "pace_window_seconds"}
)
_PROVIDER_FIELDS: dict[str, frozenset[str]] = {
    "talentlms": frozenset({"api_key_env", "date_format", "timezone", "users_paging"}),
    "learnworlds": frozenset(
        {
            "client_id",
            "client_id_env",
            "client_secret_env",
            "access_token_env",
            "token_url",
            "token_encoding",
        }
    ),
}
_ACCOUNT_FIELDS = _COMMON_FIELDS.union(*_PROVIDER_FIELDS.values())
_API_KEY_FIELDS = frozenset({"name", "sha256", "accounts", "scopes"})
_TOP_LEVEL_FIELDS = frozenset({"accounts", "api_keys"})
_INLINE_SECRET_FIELDS = frozenset(
    {"api_key", "apikey", "key", "secret", "password", "token", "api_secret", "api_token"}
)
_PROVIDERS = tuple(_PROVIDER_FIELDS)
# What a gateway key may do: read (queries), write (mutations that change the LMS), launch
# (get a learner's launch link, which logs the learner in: a credential). A key without
# ``scopes`` reads only.
SCOPES: Final = ("read", "write", "launch")
DEFAULT_SCOPES: Final = frozenset({"read"})
_DEFAULT_PROVIDER = "talentlms"


@dataclass(frozen=True)
class ApiKey:
    """A gateway API key, known only by its SHA-256, scoped to some accounts.

    The hash is left out of ``repr``: it is not the key, but nothing about a key (not even
    material for an offline guess) belongs in logs.
    """

    name: str
    sha256: bytes = field(repr=False)
    accounts: frozenset[str]
    scopes: frozenset[str] = DEFAULT_SCOPES  # what the key may do: SCOPES

    def __post_init__(self) -> None:
        if not isinstance(self.sha256, bytes) or len(self.sha256) != 32:
            raise AccountsError(f"api key {self.name!r}: sha256 must be 32 bytes")
        if not self.accounts:
            raise AccountsError(f"api key {self.name!r}: accounts must not be empty")

    def allows(self, account_id: str) -> bool:
        """Whether this key may use ``account_id`` (existence is checked by the caller)."""
        return ALL_ACCOUNTS in self.accounts or account_id in self.accounts


@dataclass(frozen=True)
class Tenancy:
    """Every account the gateway serves and every gateway key that may use them."""

    accounts: dict[str, AccountConfig]  # by id, in file order, then "default"
    api_keys: tuple[ApiKey, ...] = ()
    # The account of a request that names none when several are allowed (demo mode: the
    # TalentLMS simulator, beside the LearnWorlds one); None: the request must name one.
    fallback_account: str | None = None

    @property
    def requires_keys(self) -> bool:
        """Configured keys make a key mandatory; without any, access is anonymous."""
        return bool(self.api_keys)

    def __repr__(self) -> str:
        # Written out rather than generated: AccountConfig carries the TalentLMS key.
        accounts = ", ".join(f"{a.id!r}: {_safe_url(a.base_url)!r}" for a in self.accounts.values())
        return f"Tenancy(accounts={{{accounts}}}, api_keys={self.api_keys!r})"


def _safe_url(url: str) -> str:
    """``url`` without any user:password part (a base URL from TALENTLMS_BASE_URL may have one)."""
    parts = _split(url)
    if parts is None:
        return "<unparsable URL>"
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()


# --- loading ---------------------------------------------------------------------------------


def load_tenancy(
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    *,
    accounts_file: Path | None = None,
    demo_api_key: str = "",
    demo_school: AccountConfig | None = None,
) -> Tenancy:
    """Build the tenancy from ``accounts_file`` (if any) and the single account's settings
    (``TALENTLMS_*`` or ``LMS_GATEWAY_LEARNWORLDS_*``).

    The ``"default"`` account comes from ``settings`` when its variables configure a portal or
    a school, or, with no file at all, is the demo simulator (``demo_api_key``). Each file
    account's secrets are read from the environment variables it names (``environ``,
    ``os.environ`` when not given).
    In demo mode without a file, ``demo_school`` (the embedded LearnWorlds simulator) is a
    second account beside the default one, which stays the account of requests naming none.
    Raises :class:`AccountsError` for anything that cannot work.
    """
    env = os.environ if environ is None else environ
    accounts: dict[str, AccountConfig] = {}
    api_keys: tuple[ApiKey, ...] = ()
    with_default = accounts_file is None or not settings.demo
    if accounts_file is not None:
        data = _read(Path(accounts_file))
        source = _Source(Path(accounts_file))
        source.check_fields(data, _TOP_LEVEL_FIELDS, "the file")
        reserved = DEFAULT_ACCOUNT_ID if with_default else None
        for index, entry in enumerate(source.table_list(data, "accounts")):
            account = _account(source, index, entry, env, reserved)
            if account.id in accounts:
                source.fail(
                    f"accounts[{index}]", f"id {account.id!r} is used twice; ids must be unique"
                )
            accounts[account.id] = account
        if with_default:
            accounts[DEFAULT_ACCOUNT_ID] = settings.default_account(demo_api_key)
        if not accounts:
            source.fail(
                "accounts",
                "no account is configured; add [[accounts]] entries or set TALENTLMS_DOMAIN "
                "and TALENTLMS_API_KEY (or LMS_GATEWAY_LEARNWORLDS_URL, _CLIENT_ID and "
                "_CLIENT_SECRET)",
            )
        api_keys = _api_keys(source, source.table_list(data, "api_keys"), accounts)
    else:
        accounts[DEFAULT_ACCOUNT_ID] = settings.default_account(demo_api_key)
        if settings.demo and demo_school is not None:
            accounts[demo_school.id] = demo_school
            return Tenancy(accounts=accounts, fallback_account=DEFAULT_ACCOUNT_ID)
    return Tenancy(accounts=accounts, api_keys=api_keys)


@dataclass(frozen=True)
class _Source:
    """Where configuration came from; builds error messages that say where to look."""

    path: Path

    def fail(self, where: str, problem: str) -> NoReturn:
        raise AccountsError(f"{self.path}: {where}: {problem}")

    def check_fields(self, entry: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
        # Field names only, sorted; values never appear in the message.
        inline = sorted(name for name in entry if name not in allowed and _looks_secret(name))
        if inline:
            fix = (
                "give the key's sha256 instead (lms-gateway hash-key)"
                if "sha256" in allowed
                else "put it in an environment variable and name that variable in api_key_env "
                "(TalentLMS) or client_secret_env / access_token_env (LearnWorlds)"
            )
            self.fail(where, f"{_names(inline)}: keys never inline; {fix}")
        unknown = sorted(name for name in entry if name not in allowed)
        if unknown:
            self.fail(where, f"unknown field {_names(unknown)}; known fields: {_names(allowed)}")

    def table_list(self, data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.fail(name, f"must be a list of tables ([[{name}]] in TOML, objects in JSON)")
        return value

    def string(
        self, entry: Mapping[str, Any], name: str, where: str, *, required: bool = True
    ) -> str | None:
        value = entry.get(name)
        if value is None:
            if required:
                self.fail(where, f"{name} is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"{name} must be a non-empty string")
        return value.strip()


def _looks_secret(name: str) -> bool:
    """A field that would hold a key itself (``api_key``, ``talentlms_api_key``, ``token``…)."""
    lowered = name.lower()
    return (
        lowered in _INLINE_SECRET_FIELDS
        or lowered.endswith(("_key", "-key", "apikey"))
        or any(word in lowered for word in ("secret", "password", "passwd", "token"))
    )


def _names(names: Any) -> str:
    return ", ".join(repr(name) for name in sorted(names))


def _read(path: Path) -> dict[str, Any]:
    """The parsed file; errors keep the parser's position but none of the file's text."""
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise AccountsError(
            f"{path}: the accounts file must end in .toml or .json (LMS_GATEWAY_ACCOUNTS_FILE)"
        )
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AccountsError(
            f"{path}: accounts file not found (LMS_GATEWAY_ACCOUNTS_FILE)"
        ) from None
    except OSError as exc:
        raise AccountsError(f"{path}: cannot read the accounts file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AccountsError(f"{path}: not UTF-8 (byte {exc.start})") from None
    if suffix == ".toml":
        try:
            data: object = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise AccountsError(f"{path}: invalid TOML: {_toml_problem(exc)}") from None
    else:
        try:
            data = json.loads(text, object_pairs_hook=partial(_unique_keys, path))
        except json.JSONDecodeError as exc:
            raise AccountsError(
                f"{path}: invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            ) from None
    if not isinstance(data, dict):
        raise AccountsError(f"{path}: the top level must be a table (an object in JSON)")
    return data


def _toml_problem(exc: tomllib.TOMLDecodeError) -> str:
    # tomllib's messages may quote a character or key of the file ("Found invalid character
    # 'x'", "Cannot declare ('a',) twice"): keep the words before any quote, and the position.
    text = str(exc)
    position = re.search(r"\(at (line \d+, column \d+|end of document)\)\s*$", text)
    words = text[: position.start()] if position else text
    words = re.split(r"['\"(]", words, maxsplit=1)[0].strip() or "syntax error"
    return f"{words} at {position.group(1)}" if position else words


def _unique_keys(path: Path, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # JSON lets the last duplicate win silently; a second "api_key_env" is a mistake to show.
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise AccountsError(f"{path}: invalid JSON: field {name!r} appears twice in one object")
        found[name] = value
    return found


def _named_entry(
    source: _Source,
    section: str,
    index: int,
    entry: Mapping[str, Any],
    key: str,
    allowed: frozenset[str],
) -> tuple[str, str]:
    """Where an entry is (for messages) and its checked id or name."""
    where = f"{section}[{index}]"
    raw = entry.get(key)
    if isinstance(raw, str) and _ID.fullmatch(raw):
        where = f"{section}[{index}] {raw!r}"
    source.check_fields(entry, allowed, where)
    value = source.string(entry, key, where)
    assert value is not None
    if not _ID.fullmatch(value):
        source.fail(where, f"{key} must be 1-64 characters of A-Z a-z 0-9 _ . -")
    return where, value


def _account(
    source: _Source,
    index: int,
    entry: Mapping[str, Any],
    env: Mapping[str, str],
    reserved: str | None,
) -> AccountConfig:
    where, account_id = _named_entry(source, "accounts", index, entry, "id", _ACCOUNT_FIELDS)
    if account_id == reserved:
        source.fail(
            where,
            f"id {reserved!r} is the account of the environment's TALENTLMS_* or "
            "LMS_GATEWAY_LEARNWORLDS_* variables; rename this account or unset those variables",
        )
    named = source.string(entry, "provider", where, required=False)
    provider = named or _DEFAULT_PROVIDER
    if provider not in _PROVIDERS:
        source.fail(where, f"provider must be one of {_names(_PROVIDERS)}")
    foreign = sorted(set(entry) - _COMMON_FIELDS - _PROVIDER_FIELDS[provider])
    if foreign:
        owner = next(p for p in _PROVIDERS if foreign[0] in _PROVIDER_FIELDS[p])
        hint = (
            f'; set provider = "{owner}"'
            if named is None
            else f"; {PROVIDER_NAMES[provider]} accounts take "
            f"{_names(_COMMON_FIELDS | _PROVIDER_FIELDS[provider])}"
        )
        source.fail(
            where,
            f"{_names(foreign)} {'is' if len(foreign) == 1 else 'are'} for "
            f"provider {owner!r}, not {provider!r}{hint}",
        )
    pacing = _pacing(source, entry, where)
    if provider == "learnworlds":
        return _learnworlds_account(source, entry, env, where, account_id, pacing)
    base_url = _base_url(source, entry, where)
    key = _from_env(source, entry, env, where, "api_key_env", "ACME_TALENTLMS_KEY")
    date_format = source.string(entry, "date_format", where, required=False)
    if date_format is not None:
        parsed = DateFormat.parse(date_format)
        if parsed is None:
            source.fail(where, f"date_format must be one of {_names(f.value for f in DateFormat)}")
        date_format = parsed.value
    zone_name = source.string(entry, "timezone", where, required=False) or "UTC"
    zone = _zone(zone_name)
    if zone is None:
        source.fail(where, f"timezone is not an IANA zone: {zone_name!r}")
    paging = source.string(entry, "users_paging", where, required=False) or UsersPaging.PATH
    if paging not in set(UsersPaging):
        source.fail(where, f"users_paging must be one of {_names(p.value for p in UsersPaging)}")
    return AccountConfig(
        id=account_id,
        provider="talentlms",
        base_url=base_url,
        api_key=key,
        date_format=date_format,
        timezone=zone,
        users_paging=UsersPaging(paging),
        demo=False,
        pacing=pacing,
    )


def _learnworlds_account(
    source: _Source,
    entry: Mapping[str, Any],
    env: Mapping[str, str],
    where: str,
    account_id: str,
    pacing: PaceLimit | None,
) -> AccountConfig:
    """A LearnWorlds school: its API URL, its client id (``Lw-Client``), and its client secret
    or a static access token, each secret from the environment variable the file names."""
    base_url = _school_url(source, entry, where)
    if ("client_id" in entry) == ("client_id_env" in entry):
        source.fail(where, "give exactly one of client_id and client_id_env")
    if "client_id" in entry:
        client_id = source.string(entry, "client_id", where)
        assert client_id is not None
    else:
        client_id = _from_env(source, entry, env, where, "client_id_env", "SCHOOL_LW_CLIENT_ID")
    if ("client_secret_env" in entry) == ("access_token_env" in entry):
        source.fail(
            where,
            "give exactly one of client_secret_env (the client secret: tokens are fetched and "
            "renewed) and access_token_env (a static access token from the admin panel)",
        )
    secret = token = None
    if "client_secret_env" in entry:
        secret = _from_env(source, entry, env, where, "client_secret_env", "SCHOOL_LW_SECRET")
    else:
        token = _from_env(source, entry, env, where, "access_token_env", "SCHOOL_LW_TOKEN")
    token_url = source.string(entry, "token_url", where, required=False)
    if token_url is not None:
        parts = _split(token_url)
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            source.fail(where, "token_url must be an http(s) URL")
        if parts.username is not None or parts.password is not None:
            source.fail(where, "token_url must not contain credentials; secrets never inline")
    encoding = source.string(entry, "token_encoding", where, required=False) or "auto"
    if encoding not in set(TokenEncoding):
        choices = _names(e.value for e in TokenEncoding)
        source.fail(where, f"token_encoding must be one of {choices}")
    return AccountConfig(
        id=account_id,
        provider="learnworlds",
        base_url=base_url,
        learnworlds=LearnWorldsCredentials(
            client_id=client_id,
            client_secret=secret,
            access_token=token,
            token_url=token_url,
            token_encoding=TokenEncoding(encoding),
        ),
        pacing=pacing,
    )


def _pacing(source: _Source, entry: Mapping[str, Any], where: str) -> PaceLimit | None:
    """The account's own pace (``pace_max_calls`` per ``pace_window_seconds``), if it sets one."""
    calls, window = entry.get("pace_max_calls"), entry.get("pace_window_seconds")
    if calls is None and window is None:
        return None
    if calls is None or window is None:
        source.fail(where, "give pace_max_calls and pace_window_seconds together")
    if isinstance(calls, bool) or not isinstance(calls, int) or calls < 1:
        source.fail(where, "pace_max_calls must be a whole number of at least 1")
    if isinstance(window, bool) or not isinstance(window, int | float) or not window > 0:
        source.fail(where, "pace_window_seconds must be a positive number of seconds")
    return PaceLimit(calls, float(window))


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _base_url(source: _Source, entry: Mapping[str, Any], where: str) -> str:
    """``https://{domain}/api/v1`` or the given http(s) URL, like the TALENTLMS_* settings.

    Values are not echoed: a base URL may carry credentials, and that is refused.
    """
    domain = source.string(entry, "domain", where, required=False)
    base_url = source.string(entry, "base_url", where, required=False)
    if (domain is None) == (base_url is None):
        source.fail(where, "give exactly one of domain (acme.talentlms.com) and base_url")
    if domain is not None:
        host = domain.removeprefix("https://").removeprefix("http://").strip("/")
        if not host or "/" in host or any(c.isspace() for c in host) or "@" in host:
            source.fail(where, "domain must be a host name such as acme.talentlms.com")
        return f"https://{host}/api/v1"
    assert base_url is not None
    parts = _split(base_url)
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or not parts.path.rstrip("/").endswith("/api/v1")
    ):
        source.fail(where, "base_url must be an http(s) URL ending in /api/v1")
    if parts.username is not None or parts.password is not None:
        source.fail(where, "base_url must not contain credentials; keys never inline")
    return base_url.rstrip("/")


def _school_url(source: _Source, entry: Mapping[str, Any], where: str) -> str:
    """``https://{domain}/admin/api``, or the school's API URL as the admin panel shows it (the
    origin alone or ending in ``/admin/api``). Values are not echoed."""
    domain = source.string(entry, "domain", where, required=False)
    base_url = source.string(entry, "base_url", where, required=False)
    if (domain is None) == (base_url is None):
        source.fail(where, "give exactly one of domain (school.learnworlds.com) and base_url")
    if domain is not None:
        host = domain.removeprefix("https://").removeprefix("http://").strip("/")
        if not host or "/" in host or any(c.isspace() for c in host) or "@" in host:
            source.fail(where, "domain must be a host name such as school.learnworlds.com")
        return f"https://{host}/admin/api"
    assert base_url is not None
    parts = _split(base_url)
    if parts is not None and (parts.username is not None or parts.password is not None):
        source.fail(where, "base_url must not contain credentials; secrets never inline")
    try:
        return learnworlds_base_url(base_url)
    except ValueError as exc:
        problem = str(exc)
    source.fail(where, f"base_url: {problem}")  # outside the except: no chained exception


def _split(url: str) -> SplitResult | None:
    """``urlsplit``, or ``None`` for what it refuses (its error would quote the URL)."""
    try:
        parts = urlsplit(url)
        _ = parts.hostname, parts.port
    except ValueError:
        return None
    return parts


def _from_env(
    source: _Source,
    entry: Mapping[str, Any],
    env: Mapping[str, str],
    where: str,
    field_name: str,
    example: str,
) -> str:
    """The value of the environment variable the entry names in ``field_name``."""
    variable = source.string(entry, field_name, where)
    assert variable is not None
    if not _ENV_NAME.fullmatch(variable):
        # Not echoed: a value that is not a variable name may well be the secret itself.
        source.fail(
            where,
            f"{field_name} must be the NAME of an environment variable (A-Z 0-9 _, such as "
            f"{example}), not the secret",
        )
    value = env.get(variable, "").strip()
    if not value:
        source.fail(where, f"environment variable {variable} ({field_name}) is not set or empty")
    return value


def _api_keys(
    source: _Source, entries: list[Mapping[str, Any]], accounts: Mapping[str, AccountConfig]
) -> tuple[ApiKey, ...]:
    keys: list[ApiKey] = []
    names: set[str] = set()
    hashes: dict[bytes, str] = {}
    for index, entry in enumerate(entries):
        where, name = _named_entry(source, "api_keys", index, entry, "name", _API_KEY_FIELDS)
        if name in names:
            source.fail(where, f"name {name!r} is used twice; names must be unique")
        names.add(name)
        digest = entry.get("sha256")
        if not isinstance(digest, str) or not _HEX_SHA256.fullmatch(digest.strip()):
            # Not echoed: the likeliest wrong value is the raw key itself.
            source.fail(
                where,
                "sha256 must be the 64 hex digits of the key's SHA-256 (lms-gateway hash-key), "
                "never the key",
            )
        sha256 = bytes.fromhex(digest.strip())
        if sha256 in hashes:
            source.fail(
                where, f"sha256 is also api key {hashes[sha256]!r}'s; every key needs its own"
            )
        hashes[sha256] = name
        scope = entry.get("accounts")
        if (
            not isinstance(scope, list)
            or not scope
            or not all(isinstance(item, str) for item in scope)
        ):
            source.fail(where, 'accounts must be a non-empty list of account ids, or ["*"]')
        if ALL_ACCOUNTS in scope and len(scope) > 1:
            source.fail(where, '"*" already means every account; give ["*"] alone')
        unknown = [item for item in scope if item != ALL_ACCOUNTS and item not in accounts]
        if unknown:
            source.fail(
                where,
                f"accounts lists unknown account {_names(unknown)}; "
                f"configured accounts: {_names(accounts)}",
            )
        scopes = entry.get("scopes", list(DEFAULT_SCOPES))
        if (
            not isinstance(scopes, list)
            or not scopes
            or not all(isinstance(item, str) and item in SCOPES for item in scopes)
        ):
            source.fail(where, f"scopes must be a non-empty list of {_names(SCOPES)}")
        keys.append(
            ApiKey(name=name, sha256=sha256, accounts=frozenset(scope), scopes=frozenset(scopes))
        )
    return tuple(keys)
