"""``Idempotency-Key``: a mutation request sent again gets its first answer, not a second write.

A client that does not know whether its mutation reached the gateway (a dropped connection,
a timeout) sends it again with the same ``Idempotency-Key`` header (the IETF
``Idempotency-Key`` draft's name; any 1 to 255 visible ASCII characters). Within the
record's lifetime (24 hours by default, ``LMS_GATEWAY_IDEMPOTENCY_TTL_SECONDS``):

* the same key with the same request body (the JSON compared canonically) is answered with
  the first answer, byte for byte, and the header ``Idempotent-Replayed: true``, without
  running the operation or calling the LMS;
* the same key with another body is refused: HTTP 422, ``IDEMPOTENCY_KEY_REUSED``;
* a request that arrives while the first is still running waits for its answer.

Keys are per account and per gateway key: two clients cannot see each other's answers. The
first request runs to its end and its answer is kept even when its client leaves before it
(the retry gets it). Only requests whose document holds a mutation are concerned; queries
with the header run as usual. A persisted query sent by hash alone is looked up for that.

Records are kept in a ``CacheStore`` (``gateway.upstream.cache``), the interface the upstream
cache uses, so a store shared by several processes can hold them too.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Final

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import ErrorCode, PersistedQueryError
from gateway.http.graphql_over_http import error_response, response_media_type
from gateway.http.guard import replay_body
from gateway.observability.telemetry import MutationRecord, Observer
from gateway.persisted.queries import PersistedQueries
from gateway.upstream.cache import CacheStore

__all__ = ["HEADER", "REPLAYED_HEADER", "IdempotentMutations"]

HEADER: Final = "idempotency-key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
_KEY: Final = re.compile(r"[\x21-\x7e]{1,255}")
_KEPT_HEADERS: Final = frozenset({b"content-type"})


@dataclass(frozen=True)
class _Answer:
    fingerprint: str
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def as_record(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "status": self.status,
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in self.headers],
            "body": self.body.decode("utf-8", "surrogateescape"),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> _Answer:
        return cls(
            fingerprint=str(record["fingerprint"]),
            status=int(record["status"]),
            headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in record["headers"]],
            body=str(record["body"]).encode("utf-8", "surrogateescape"),
        )


class IdempotentMutations:
    """ASGI middleware in front of the GraphQL view, behind the request guard (which read the
    body, chose the account and replays the body to the app)."""

    def __init__(
        self,
        app: ASGIApp,
        store: CacheStore,
        *,
        ttl: float,
        persisted: PersistedQueries | None = None,
        observer: Observer | None = None,
    ) -> None:
        self._app = app
        self._store = store
        self._ttl = ttl
        self._persisted = persisted
        self._observer = observer
        self._running: dict[str, asyncio.Task[_Answer]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, HEADER)
        if scope["type"] != "http" or scope["method"] != "POST" or key is None:
            await self._app(scope, receive, send)
            return
        media_type = response_media_type(_header(scope, "accept"))
        if not _KEY.fullmatch(key):
            await error_response(
                400,
                ErrorCode.BAD_REQUEST,
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
                media_type=media_type,
            )(scope, receive, send)
            return
        message = await receive()
        body = message.get("body", b"")
        replay = replay_body(body, receive)
        parsed = _json(body)
        state = scope.get("state", {})
        access = state.get("access")
        account = access.account.id if access is not None else "-"
        mutations = await self._mutations(parsed, account)
        if not mutations:
            await self._app(scope, replay, send)
            return
        owner = access.key_name if access is not None and access.key_name else "-"
        record_key = f"idempotency|{account}|{owner}|{key}"
        fingerprint = hashlib.sha256(
            json.dumps(parsed, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()

        answer = await self._recorded(record_key)
        replayed = answer is not None
        if answer is None:
            running = self._running.get(record_key)
            if running is None:
                running = asyncio.ensure_future(
                    self._run_and_keep(record_key, fingerprint, scope, replay)
                )
                self._running[record_key] = running
                running.add_done_callback(lambda _: self._running.pop(record_key, None))
            else:
                replayed = True
            # Shielded: a client that leaves does not stop the write nor its record.
            answer = await asyncio.shield(running)
        if answer.fingerprint != fingerprint:
            await error_response(
                422,
                ErrorCode.IDEMPOTENCY_KEY_REUSED,
                "This Idempotency-Key was used for another request; use a new key for a new "
                "request",
                media_type=media_type,
            )(scope, receive, send)
            return
        headers = list(answer.headers)
        if replayed:
            headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
            self._audit_replay(state, mutations)
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body, "more_body": False})

    async def _recorded(self, record_key: str) -> _Answer | None:
        record = await self._store.get(record_key)
        return _Answer.from_record(record) if isinstance(record, dict) else None

    async def _run_and_keep(
        self, record_key: str, fingerprint: str, scope: Scope, receive: Receive
    ) -> _Answer:
        status = 500
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (bytes(k).lower(), bytes(v))
                    for k, v in message.get("headers", [])
                    if bytes(k).lower() in _KEPT_HEADERS
                ]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._app(scope, receive, capture)
        answer = _Answer(fingerprint, status, headers, b"".join(chunks))
        await self._store.set(record_key, answer.as_record(), self._ttl)
        return answer

    async def _mutations(self, parsed: object, account: str) -> list[str]:
        """The root fields of the mutation the request runs (of each, for a batch); empty
        when it runs none."""
        requests = parsed if isinstance(parsed, list) else [parsed]
        fields: list[str] = []
        for request in requests:
            if not isinstance(request, dict):
                continue
            text = request.get("query")
            if text is None and self._persisted is not None:
                try:  # sent by hash alone: the stored text, if any (the view refuses the rest)
                    text = await self._persisted.resolve(
                        None, request.get("extensions"), scope=account
                    )
                except PersistedQueryError:
                    text = None
            if not isinstance(text, str):
                continue
            name = request.get("operationName")
            fields += _mutation_fields(text, name if isinstance(name, str) else None)
        return fields

    def _audit_replay(self, state: dict[str, Any], mutations: list[str]) -> None:
        access = state.get("access")
        if self._observer is None or access is None:
            return
        for mutation in mutations:
            self._observer.mutation_finished(
                MutationRecord(
                    account_id=access.account.id,
                    key_name=access.key_name,
                    mutation=mutation,
                    targets={},
                    outcome="replayed",
                    upstream_calls=0,
                    replayed=True,
                )
            )


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode()
    for key, value in scope.get("headers", []):
        if key.lower() == wanted:
            return bytes(value).decode("latin-1")
    return None


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def _mutation_fields(text: str, operation_name: str | None) -> list[str]:
    """Root field names of the mutation ``text`` runs (the named operation, or its only one)."""
    try:
        document = parse(text, max_tokens=10_000)
    except GraphQLError:
        return []
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.MUTATION:
        return []
    return [
        selection.name.value
        for selection in operations[0].selection_set.selections
        if isinstance(selection, FieldNode)
    ] or ["mutation"]
