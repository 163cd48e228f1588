"""What every simulator shares: call counts, the sliding rate-limit window, latency and the
admin interface under ``/_simulator``.

Each provider's app keeps its own state on ``app.state`` under the same names (``stats``,
``faults``), so the admin routes here serve any of them:

* ``GET /_simulator/stats`` (``?timestamps=1`` adds arrival times), ``POST
  /_simulator/reset-stats``: the calls counted per endpoint name;
* ``GET|PUT|DELETE /_simulator/faults``: the active fault rules (see ``faults.py``);
* ``GET /_simulator/health``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .faults import FaultInjector, FaultRule

__all__ = [
    "ADMIN_PREFIX",
    "BurstLimiter",
    "CallStats",
    "Clock",
    "admin_error",
    "admin_routes",
    "json_object",
    "raw_path",
    "simulate_latency",
]

ADMIN_PREFIX = "/_simulator"
TIMESTAMP_LIMIT = 100_000  # arrival times kept; bounds memory on a long-running demo simulator

Clock = Callable[[], float]


class CallStats:
    """Counts API calls per endpoint name, so tests can assert how many calls the gateway made.

    Each simulator names its endpoints (TalentLMS ``users/id``, LearnWorlds ``users/{id}``);
    faulted and refused calls count too, as the gateway made them. A lock keeps counts right
    when a test thread reads while the server thread writes. Arrival times
    (``time.monotonic()``) are kept too, so pacing tests can count the calls in any window.
    """

    def __init__(self, monotonic: Clock = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._monotonic = monotonic
        self._timestamps: deque[tuple[float, str]] = deque(maxlen=TIMESTAMP_LIMIT)

    def record(self, name: str) -> None:
        with self._lock:
            self._counts[name] = self._counts.get(name, 0) + 1
            self._timestamps.append((self._monotonic(), name))

    @property
    def timestamps(self) -> list[tuple[float, str]]:
        """``(monotonic arrival time, endpoint name)`` per call, oldest first (a copy)."""
        with self._lock:
            return list(self._timestamps)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    @property
    def by_endpoint(self) -> dict[str, int]:
        """A copy, sorted by name, so callers can compare it with a plain dict."""
        with self._lock:
            return dict(sorted(self._counts.items()))

    def count(self, name: str) -> int:
        with self._lock:
            return self._counts.get(name, 0)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._timestamps.clear()

    def as_dict(self) -> dict[str, Any]:
        """The JSON body of ``GET /_simulator/stats``."""
        return {"total": self.total, "byEndpoint": self.by_endpoint}


class BurstLimiter:
    """At most ``limit`` calls in any sliding window of ``window`` seconds (``None``: no cap).

    Only admitted calls count (a refused call spends nothing). A refused call is told how long
    until the oldest call in the window leaves it, for a ``Retry-After`` if the API sends one.
    TalentLMS's burst cap (200 in 5 s) and LearnWorlds's rate limit (30 in 10 s) are both this.
    """

    def __init__(self, limit: int | None, window: float, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._admitted: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> float | None:
        """Take a place in the window: ``None`` when admitted, else seconds until one frees."""
        if self.limit is None:
            return None
        with self._lock:
            now = self._clock()
            admitted = self._admitted
            while admitted and admitted[0] + self.window <= now:
                admitted.popleft()
            if len(admitted) >= self.limit:
                return admitted[len(admitted) - self.limit] + self.window - now
            admitted.append(now)
            return None


def raw_path(scope: Mapping[str, Any]) -> str:
    """The still percent-encoded path: ``scope["path"]`` has ``%2C`` already turned into ``,``
    and ``%2F`` into ``/``, so parameters in the path are split before they are decoded.

    Some ASGI clients (httpx's ASGITransport) put the query string into ``raw_path``; drop it.
    """
    raw = scope.get("raw_path")
    text = raw.decode("utf-8", "replace") if raw else quote(scope.get("path", ""), safe="/:,@")
    return text.split("?", 1)[0]


async def simulate_latency(milliseconds: float) -> None:
    """The configured delay before every API call is answered."""
    if milliseconds > 0:
        await asyncio.sleep(milliseconds / 1000)


def admin_error(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, else ``ValueError`` with a message for the 400."""
    try:
        data = await request.json()
    except ValueError as exc:
        raise ValueError(f"the body must be JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


async def _admin_stats(request: Request) -> Response:
    """Counts; with ``?timestamps=1`` also ``timestamps``: ``[[monotonic time, name], …]``."""
    stats: CallStats = request.app.state.stats
    body = stats.as_dict()
    if request.query_params.get("timestamps", "").lower() in ("1", "true", "yes", "on"):
        body["timestamps"] = [[moment, name] for moment, name in stats.timestamps]
    return JSONResponse(body)


async def _admin_reset_stats(request: Request) -> Response:
    request.app.state.stats.reset()
    return JSONResponse({"ok": True})


async def _admin_health(_request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _admin_faults(request: Request) -> Response:
    """GET the active rules (``times`` = what is left), PUT to replace them, DELETE to clear.

    PUT takes ``{"faults": [rule, …], "seed": n}`` (``seed`` optional, the config's by
    default); it is all or nothing: one invalid rule, or one of a kind this simulator does not
    know, leaves the active ones untouched.
    """
    injector: FaultInjector = request.app.state.faults
    if request.method == "DELETE":
        injector.clear()
    elif request.method == "PUT":
        try:
            data = await json_object(request)
            unknown = sorted(set(data) - {"faults", "seed"})
            if unknown:
                raise ValueError(f"unknown key(s) {unknown}; expected 'faults' and 'seed'")
            items, seed = data.get("faults"), data.get("seed")
            if not isinstance(items, list):
                raise ValueError("'faults' must be a list of fault objects")
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise ValueError("'seed' must be an integer")
            injector.replace([FaultRule.from_dict(item) for item in items], seed=seed)
        except ValueError as exc:
            return admin_error(str(exc))
    return JSONResponse({"faults": injector.snapshot()})


def admin_routes() -> list[Route]:
    """The admin routes every simulator serves, reading ``app.state.stats`` and ``.faults``."""
    return [
        Route(ADMIN_PREFIX + "/stats", _admin_stats, methods=["GET"]),
        Route(ADMIN_PREFIX + "/reset-stats", _admin_reset_stats, methods=["POST"]),
        Route(ADMIN_PREFIX + "/health", _admin_health, methods=["GET"]),
        Route(ADMIN_PREFIX + "/faults", _admin_faults, methods=["GET", "PUT", "DELETE"]),
    ]
