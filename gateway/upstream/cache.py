"""A shared cache of upstream responses, across requests, with in-flight deduplication.

Keys name the account and the exact upstream request (``acme|/users/id:7``,
``school|/v2/users/64b7…/courses?page=1``), so nothing is shared between accounts. Each
endpoint has its own time to live; a client can ask for fresh data (``Cache-Control:
no-cache``), which skips the read but refreshes the entry; writes drop the entries they
affect. Concurrent requests for the same key share one upstream call, which goes on while any
of them still waits for it.

``CacheStore`` is the storage seam: ``MemoryCacheStore`` is bounded and per process; a
shared store (Redis) implements the same three coroutines without touching resolvers.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Final, Protocol

from gateway.config import CacheSettings

__all__ = ["DEFAULT_TTLS", "CacheStore", "MemoryCacheStore", "UpstreamCache"]

# Seconds an answer stays fresh, by endpoint name. Short: LMS data changes during the day,
# and the point is to absorb dashboard refreshes and concurrent identical requests.
DEFAULT_TTLS: Final[Mapping[str, float]] = {
    "users": 30.0,
    "users/id": 30.0,
    "users/email": 30.0,
    "users/username": 30.0,
    "courses": 60.0,
    "courses/id": 60.0,
    "categories": 300.0,
    "groups": 60.0,
    "groups/id": 60.0,
    "getuserstatusincourse": 30.0,
    "getusersbycustomfield": 30.0,
    "getcoursesbycustomfield": 60.0,
    # LearnWorlds (its names are the paths below /v2; users and courses are the lists above).
    "users/{id}": 30.0,
    "users/{id}/courses": 30.0,
    "users/{id}/progress": 30.0,
    "users/{id}/courses/{course}/progress": 30.0,
    "users/{id}/user-groups": 60.0,
    "courses/{id}": 60.0,
    "courses/{id}/contents": 60.0,
    "courses/{id}/users": 30.0,
    "user_groups": 60.0,
    "user_groups/{id}": 60.0,
    "user_groups/{id}/users": 60.0,
}


class CacheStore(Protocol):
    async def get(self, key: str) -> Any:
        """The value, or ``None`` when absent or expired."""
        ...

    async def set(self, key: str, value: Any, ttl: float) -> None: ...

    async def delete_prefix(self, prefix: str) -> int:
        """Drop every entry whose key starts with ``prefix``; how many were dropped."""
        ...

    async def delete(self, key: str) -> None:
        """Drop the entry of ``key``, if any."""
        ...


class MemoryCacheStore:
    """An in-process LRU of at most ``max_entries`` entries, each with its own expiry."""

    def __init__(self, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._max_entries = max_entries
        self._clock = clock

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> Any:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: Any, ttl: float) -> None:
        self._entries[key] = (self._clock() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def holds(self, key: str) -> bool:
        """Whether a fresh answer for ``key`` is stored, without touching the LRU order."""
        entry = self._entries.get(key)
        return entry is not None and entry[0] > self._clock()

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def delete_prefix(self, prefix: str) -> int:
        doomed = [key for key in self._entries if key.startswith(prefix)]
        for key in doomed:
            del self._entries[key]
        return len(doomed)


class _SharedCall:
    """One upstream call in flight, in a task of its own, and how many callers await it."""

    def __init__(self, call: Coroutine[Any, Any, Any]) -> None:
        self.task: asyncio.Task[Any] = asyncio.ensure_future(call)
        self.waiters = 0


class UpstreamCache:
    """Reads through ``store`` with per-endpoint TTLs and shares calls in flight."""

    def __init__(self, store: CacheStore, ttls: Mapping[str, float] = DEFAULT_TTLS) -> None:
        self._store = store
        self._ttls = dict(ttls)
        self._in_flight: dict[str, _SharedCall] = {}

    @classmethod
    def from_settings(cls, settings: CacheSettings) -> UpstreamCache:
        """In process, with the configured TTLs over ``DEFAULT_TTLS``."""
        return cls(MemoryCacheStore(settings.max_entries), {**DEFAULT_TTLS, **settings.ttls})

    def ttl(self, endpoint: str) -> float:
        return self._ttls.get(endpoint, 0.0)

    def holds(self, key: str) -> bool:
        """Whether a fetch of ``key`` now would make no call: a fresh answer is stored, or
        a call for it is in flight. Stores that cannot tell without awaiting say no."""
        if key in self._in_flight:
            return True
        holds = getattr(self._store, "holds", None)
        return bool(holds(key)) if callable(holds) else False

    async def fetch(
        self, key: str, endpoint: str, call: Callable[[], Awaitable[Any]], *, fresh: bool = False
    ) -> tuple[Any, bool]:
        """``(value, shared)``: ``shared`` is true when no call was made for this caller."""
        ttl = self.ttl(endpoint)
        if ttl <= 0:
            return await call(), False
        if not fresh:
            cached = await self._store.get(key)
            if cached is not None:
                return cached, True
        running = self._in_flight.get(key)
        shared = running is not None
        if running is None:
            started = running = self._in_flight[key] = _SharedCall(
                self._call_and_keep(key, call, ttl)
            )
            started.task.add_done_callback(lambda _: self._forget(key, started))
        running.waiters += 1
        try:
            return await asyncio.shield(running.task), shared
        finally:
            running.waiters -= 1
            # The call belongs to no operation: it stops only when nobody waits for it any
            # more (every client that needed it went away, say).
            if running.waiters == 0 and not running.task.done():
                running.task.cancel()
                self._forget(key, running)

    async def _call_and_keep(self, key: str, call: Callable[[], Awaitable[Any]], ttl: float) -> Any:
        value = await call()
        await self._store.set(key, value, ttl)
        return value

    def _forget(self, key: str, running: _SharedCall) -> None:
        if self._in_flight.get(key) is running:
            del self._in_flight[key]

    async def invalidate(self, prefix: str) -> int:
        """Drop every answer whose key starts with ``prefix``; how many were dropped."""
        return await self._store.delete_prefix(prefix)

    async def invalidate_exact(self, key: str) -> None:
        """Drop the answer stored under ``key`` exactly (not the keys it is a prefix of)."""
        await self._store.delete(key)
