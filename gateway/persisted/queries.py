"""Persisted queries: Apollo's automatic persisted queries (APQ) and an allow-list mode.

APQ (``extensions.persistedQuery = {version: 1, sha256Hash}``, on POST or in GET's
``extensions`` parameter) works as Apollo Server answers it, so Apollo Client's persisted
query link needs no configuration:

* hash only, known: the stored document runs;
* hash only, unknown: ``PersistedQueryNotFound`` (``PERSISTED_QUERY_NOT_FOUND``, HTTP 200,
  not cacheable), and the client sends the hash again with the text;
* hash and text: the text's SHA-256 must be the hash (else HTTP 400,
  ``PERSISTED_QUERY_HASH_MISMATCH``); the document is stored and runs;
* a version other than 1: HTTP 400, ``PERSISTED_QUERY_NOT_SUPPORTED``.

Documents are stored per account, so one tenant cannot learn from a hash-only probe
whether another tenant ran a document. The store is a two-coroutine interface
(``PersistedQueryStore``); ``MemoryPersistedQueryStore`` is a bounded LRU per process, and a
shared store (Redis) implements the same two coroutines.

In allow-list mode only the operations of a manifest (``gateway.persisted.manifest``) run:
by id, or by full text whose hash is in the manifest. Anything else is refused with
``PERSISTED_QUERY_NOT_ALLOWED`` (HTTP 403) before it is parsed, and nothing is registered.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final, Protocol

from graphql import GraphQLError
from strawberry.types import ExecutionResult

from gateway.config import PersistedQueriesSettings
from gateway.errors import ErrorCode, PersistedQueryError
from gateway.persisted.manifest import Manifest, load_manifest, sha256_hex

__all__ = [
    "MemoryPersistedQueryStore",
    "PersistedQueries",
    "PersistedQueryStore",
    "http_response_head",
    "persisted_queries",
    "refusal",
    "sha256_hex",
]

# Apollo Server marks these answers uncacheable: a CDN must not keep a "not found" for a
# GET that will succeed once the client has registered the document.
NO_CACHE: Final = {"Cache-Control": "private, no-cache, must-revalidate"}
_MAX_HASH_LENGTH: Final = 256  # a SHA-256 is 64 hex digits; manifest ids may be longer


def refusal(error: PersistedQueryError) -> ExecutionResult:
    """The GraphQL result for a refused request; the error keeps its HTTP status."""
    graphql_error = GraphQLError(
        error.message, original_error=error, extensions={"code": error.code}
    )
    return ExecutionResult(data=None, errors=[graphql_error])


def http_response_head(result: Any) -> tuple[int, dict[str, str]] | None:
    """The status and headers a single operation's refusal calls for, if it was one."""
    for error in getattr(result, "errors", None) or ():
        original = getattr(error, "original_error", None)
        if isinstance(original, PersistedQueryError):
            return original.status, original.headers
    return None


class PersistedQueryStore(Protocol):
    async def get(self, key: str) -> str | None:
        """The document stored under ``key``, or ``None``."""
        ...

    async def set(self, key: str, document: str) -> None: ...


class MemoryPersistedQueryStore:
    """An in-process LRU bounded by entries and by the documents' total size (UTF-8)."""

    def __init__(self, max_entries: int = 10_000, max_bytes: int = 32 * 1024 * 1024) -> None:
        self._entries: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    async def get(self, key: str) -> str | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    async def set(self, key: str, document: str) -> None:
        size = len(document.encode("utf-8"))
        if size > self._max_bytes:
            return  # would evict everything and still not fit
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        self._entries[key] = (document, size)
        self._bytes += size
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._bytes -= dropped


@dataclass(frozen=True)
class PersistedQueries:
    """Turns a request's ``query`` and ``extensions`` into the document to run.

    ``store`` is ``None`` when APQ is off; ``manifest`` preloads operations (all accounts
    share it: it is the operator's deployment artifact, not tenant data); ``allowlist``
    runs nothing but the manifest's operations.
    """

    store: PersistedQueryStore | None = None
    manifest: Manifest | None = None
    allowlist: bool = False

    def __post_init__(self) -> None:
        if self.allowlist and self.manifest is None:
            raise ValueError("allow-list mode needs a manifest")

    async def resolve(self, query: str | None, extensions: Any, *, scope: str) -> str | None:
        """The document to run for this request in account ``scope``.

        Raises ``PersistedQueryError`` for a request to refuse. ``None`` (no text, no
        hash) is left to the GraphQL layer, which answers it as a bad request.
        """
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None:
            if self.allowlist and query is not None:
                return self._allowed_text(query)
            return query
        if self.store is None and self.manifest is None:
            raise PersistedQueryError(
                ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
                "PersistedQueryNotSupported",
                headers=NO_CACHE,
            )
        query_hash = _checked_hash(persisted)
        if self.manifest is not None:
            operation = self.manifest.lookup(query_hash)
            if operation is not None:
                if query is not None and sha256_hex(query) != operation.body_hash:
                    raise _mismatch()
                return operation.body if query is None else query
        if self.allowlist or self.store is None:
            if self.allowlist:
                raise PersistedQueryError(
                    ErrorCode.PERSISTED_QUERY_NOT_ALLOWED,
                    f"Persisted query {query_hash!r} is not in the allow-list",
                    status=403,
                    headers=NO_CACHE,
                )
            raise PersistedQueryError(
                ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
                "PersistedQueryNotSupported",
                headers=NO_CACHE,
            )
        key = f"{scope}|{query_hash}"
        if query is None:
            stored = await self.store.get(key)
            if stored is None:
                raise PersistedQueryError(
                    ErrorCode.PERSISTED_QUERY_NOT_FOUND, "PersistedQueryNotFound", headers=NO_CACHE
                )
            return stored
        if sha256_hex(query) != query_hash:
            raise _mismatch()
        await self.store.set(key, query)
        return query

    def _allowed_text(self, query: Any) -> str:
        assert self.manifest is not None
        if not isinstance(query, str) or self.manifest.lookup_body(sha256_hex(query)) is None:
            raise PersistedQueryError(
                ErrorCode.PERSISTED_QUERY_NOT_ALLOWED,
                "Only operations in the allow-list run, and this document is not one of them",
                status=403,
            )
        return query


def _checked_hash(persisted: Any) -> str:
    if not isinstance(persisted, dict):
        raise PersistedQueryError(
            ErrorCode.BAD_REQUEST,
            "extensions.persistedQuery must be an object with version and sha256Hash",
            status=400,
        )
    version = persisted.get("version")
    if version != 1 or isinstance(version, bool):
        raise PersistedQueryError(
            ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
            f"Unsupported persisted query version: {version!r} (this server supports 1)",
            status=400,
        )
    query_hash = persisted.get("sha256Hash")
    if not isinstance(query_hash, str) or not 0 < len(query_hash) <= _MAX_HASH_LENGTH:
        raise PersistedQueryError(
            ErrorCode.BAD_REQUEST,
            "extensions.persistedQuery.sha256Hash must be the document's SHA-256 in hex",
            status=400,
        )
    return query_hash


def _mismatch() -> PersistedQueryError:
    # Apollo Server's message, which clients and their tests match on.
    return PersistedQueryError(
        ErrorCode.PERSISTED_QUERY_HASH_MISMATCH, "provided sha does not match query", status=400
    )


def persisted_queries(settings: PersistedQueriesSettings) -> PersistedQueries:
    """From the settings; raises ``ManifestError`` for a manifest that cannot be used."""
    manifest = load_manifest(settings.manifest) if settings.manifest is not None else None
    store = (
        MemoryPersistedQueryStore(settings.apq_max_entries, settings.apq_max_bytes)
        if settings.apq and not settings.allowlist
        else None
    )
    return PersistedQueries(store=store, manifest=manifest, allowlist=settings.allowlist)
