"""Authentication and authorization of each request: which gateway key is presented, and
which account it may use.

Clients authenticate with ``Authorization: Bearer <key>``. Gateway keys are configured as
SHA-256 hashes (``lms-gateway hash-key``), each scoped to account ids (or ``"*"``). The
presented key is compared with every configured hash in constant time, without an early exit
that would tell which entry matched, and :class:`AccessDenied` never echoes the presented
key or the ``X-LMS-Account`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from gateway.config import AccountConfig
from gateway.errors import AccessDenied, ErrorCode
from gateway.tenancy.accounts import DEFAULT_SCOPES, SCOPES, ApiKey, Tenancy

__all__ = ["Access", "authorize", "hash_key"]

MAX_PRESENTED_KEY = 512
_PRESENTED_KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_PRESENTED_KEY}}}")


@dataclass(frozen=True)
class Access:
    """What a request may do: the account it runs against, and the key that allowed it."""

    account: AccountConfig
    key_name: str | None  # None: no keys are configured (anonymous; the caller decides)
    # What the request may do (``SCOPES``): its key's scopes; without keys, everything on the
    # demo simulators and reading only on a real LMS (writes need a key with ``write``).
    scopes: frozenset[str] = DEFAULT_SCOPES

    def __repr__(self) -> str:
        return (
            f"Access(account={self.account.id!r}, key_name={self.key_name!r}, "
            f"scopes={sorted(self.scopes)!r})"
        )


def hash_key(key: str) -> str:
    """The hex SHA-256 of a gateway key: what the accounts file stores instead of the key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def authorize(tenancy: Tenancy, authorization: str | None, account_header: str | None) -> Access:
    """Who is asking and for which account, from the two request headers.

    Raises :class:`AccessDenied`: 401 for a missing, malformed or unknown key, 403 for an
    account the key may not use (or that does not exist: the two look the same), 400 when
    the key may use several accounts and ``X-LMS-Account`` does not say which (and the
    tenancy has no fallback account among them).
    """
    key = _authenticate(tenancy, authorization) if tenancy.requires_keys else None
    key_name = key.name if key else None

    def access(account: AccountConfig) -> Access:
        if key is not None:
            scopes = key.scopes
        else:
            scopes = frozenset(SCOPES) if account.demo else DEFAULT_SCOPES
        return Access(account=account, key_name=key_name, scopes=scopes)

    allowed = [a for a in tenancy.accounts.values() if key is None or key.allows(a.id)]
    requested = (account_header or "").strip()
    if requested:
        account = tenancy.accounts.get(requested)
        if account is None or account not in allowed:
            # The header is never echoed: a key pasted into it (any gateway or portal key
            # looks like an id) would come back in the response. Unknown and out-of-scope
            # accounts read the same.
            scope = " for this key" if key else ""
            raise AccessDenied(
                403, ErrorCode.FORBIDDEN, f"the account in X-LMS-Account is not allowed{scope}"
            )
        return access(account)
    if len(allowed) == 1:
        return access(allowed[0])
    fallback = tenancy.accounts.get(tenancy.fallback_account or "")
    if fallback is not None and fallback in allowed:
        return access(fallback)
    if not allowed:
        raise AccessDenied(403, ErrorCode.FORBIDDEN, "no account is allowed for this key")
    raise AccessDenied(
        400,
        ErrorCode.BAD_USER_INPUT,
        "X-LMS-Account header is required: this key can use several accounts",
    )


def _authenticate(tenancy: Tenancy, authorization: str | None) -> ApiKey:
    """The configured key matching the bearer token (never put in a message)."""
    parts = (authorization or "").split()
    well_formed = (
        len(parts) == 2
        and parts[0].lower() == "bearer"
        and bool(_PRESENTED_KEY.fullmatch(parts[1]))
    )
    # Every configured hash is compared, each in constant time, whatever the header held:
    # timing tells neither whether the header parsed nor which entry matched.
    presented = hashlib.sha256(parts[1].encode("ascii")).digest() if well_formed else bytes(32)
    matched: ApiKey | None = None
    for candidate in tenancy.api_keys:
        same = hmac.compare_digest(presented, candidate.sha256)
        if same and matched is None:
            matched = candidate
    if not authorization:
        raise AccessDenied(
            401,
            ErrorCode.UNAUTHENTICATED,
            "an API key is required: send Authorization: Bearer <key>",
        )
    if not well_formed:
        raise AccessDenied(
            401, ErrorCode.UNAUTHENTICATED, "the Authorization header must be: Bearer <key>"
        )
    if matched is None:
        raise AccessDenied(401, ErrorCode.UNAUTHENTICATED, "the API key is not valid")
    return matched
