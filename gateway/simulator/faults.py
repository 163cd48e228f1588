"""Fault injection for every simulator: the failures a real LMS and its network produce.

A gateway's retry, timeout and error handling is only as good as the failures it was tested
against, and a real LMS produces them rarely and never on demand. Rules here make a simulator
misbehave per endpoint, a set number of times or with a seeded probability, so a test can say
"the second ``users/id`` call times out" and get the same run every time.

Rules are matched after the call is counted in ``CallStats`` (a failed call is still a call the
gateway made) and before authentication, rate limits and the endpoint handler. Rules come from
the simulator's config (``faults``) or, at run time, from ``PUT /_simulator/faults``.

The kinds in ``COMMON_FAULT_KINDS`` mean the same on every simulator; each answers them in its
own API's bodies through a ``FaultStyle``, which also adds the kinds only that API has (the
TalentLMS HTML 401 page, a LearnWorlds token that expires mid-operation).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import httpx
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

__all__ = [
    "COMMON_FAULT_KINDS",
    "ERROR_STATUSES",
    "KNOWN_FAULT_KINDS",
    "MALFORMED_BODY",
    "Answer",
    "FaultInjector",
    "FaultRule",
    "FaultStyle",
    "SimulatedConnectionReset",
    "SpecialFault",
    "fault_rules",
]

# What any HTTP API and its network can do, answered alike by every simulator.
COMMON_FAULT_KINDS = (
    "latency",
    "error",
    "rate_limited",
    "timeout",
    "reset",
    "malformed_json",
    "slow_body",
)
# Every kind some simulator knows; a simulator refuses the ones its API has no use for.
KNOWN_FAULT_KINDS = (
    *COMMON_FAULT_KINDS,
    "html_401",  # TalentLMS: the HTML page a call without credentials gets
    "quota_exhausted",  # TalentLMS: the hourly quota used up
    "revoked_key",  # both: the credentials revoked (TalentLMS's key, LearnWorlds's client)
    "expired_token",  # LearnWorlds: the caller's access token expires on this call
)
ERROR_STATUSES = (500, 502, 503, 504)  # what a PHP app or its proxy answers when it breaks
# A body cut off mid-string, as when a proxy drops the rest: never valid JSON.
MALFORMED_BODY = b'{"id": "1", "login": "jo'
SLOW_BODY_CHUNKS = 20  # small enough pieces that the gaps, not the size, make the body slow

_FLOAT_FIELDS = ("probability", "latency_ms", "latency_jitter_ms", "delay_s")


class SimulatedConnectionReset(httpx.RemoteProtocolError):
    """Raised by the ``reset`` fault after the response has started, to drop the connection.

    Under uvicorn the exception makes the server close the socket mid-response, so a client sees
    an incomplete read (httpx: ``RemoteProtocolError``). Over an in-process ``ASGITransport``
    nothing turns it into a socket error: the exception itself reaches the caller. Subclassing
    ``httpx.RemoteProtocolError`` means it is then the same kind of error real HTTP gives, so
    code that handles ``httpx.TransportError`` behaves alike in both set-ups.
    """


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class FaultRule:
    """One way to misbehave, for one endpoint name (or ``"*"``), some or all of the time.

    ``endpoint`` is the name ``CallStats`` counts (TalentLMS: ``users``, ``users/id``,
    ``siteinfo`` …; LearnWorlds: ``users``, ``users/{id}``, ``oauth2/access_token`` …),
    compared case-insensitively, so a ``users/id`` rule leaves ``users`` list calls alone. The
    other fields only matter for the kinds that read them. Invalid values raise ``ValueError``
    at construction, so a bad rule fails where it is written rather than on the call it was
    meant to break. Which kinds a simulator accepts is its ``FaultStyle``'s business:
    ``FaultRule`` knows them all.
    """

    kind: str
    endpoint: str = "*"
    times: int | None = None
    probability: float = 1.0
    status: int = 500
    retry_after: float | None = None
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    delay_s: float = 30.0

    def __post_init__(self) -> None:
        if self.kind not in KNOWN_FAULT_KINDS:
            raise ValueError(
                f"unknown fault kind {self.kind!r}; expected one of {KNOWN_FAULT_KINDS}"
            )
        if not isinstance(self.endpoint, str) or not self.endpoint.strip():
            raise ValueError("fault endpoint must be an endpoint name such as 'users/id', or '*'")
        object.__setattr__(self, "endpoint", self.endpoint.strip().lower())
        times = self.times
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
            raise ValueError(f"fault times must be a whole number or null, not {times!r}")
        if times is not None and times < 0:
            raise ValueError(f"fault times must not be negative, not {times}")
        for name in _FLOAT_FIELDS:
            value = getattr(self, name)
            if not _is_number(value) or value < 0:
                raise ValueError(f"fault {name} must be a non-negative number, not {value!r}")
            object.__setattr__(self, name, float(value))
        if self.probability > 1:
            raise ValueError(f"fault probability must be between 0 and 1, not {self.probability}")
        if isinstance(self.status, bool) or self.status not in ERROR_STATUSES:
            raise ValueError(f"fault status must be one of {ERROR_STATUSES}, not {self.status!r}")
        if self.retry_after is not None:
            if not _is_number(self.retry_after) or self.retry_after < 0:
                raise ValueError(
                    f"fault retry_after must be a non-negative number or null, "
                    f"not {self.retry_after!r}"
                )
            object.__setattr__(self, "retry_after", float(self.retry_after))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        """Build a rule from JSON-like data; unknown or missing keys raise ``ValueError``.

        Unknown keys are refused rather than ignored so that a typo (``"time": 1``) cannot
        silently turn a one-off fault into a permanent one.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a fault must be an object, not {type(data).__name__}")
        allowed = [item.name for item in fields(cls)]
        unknown = sorted(str(key) for key in data if key not in allowed)
        if unknown:
            raise ValueError(f"unknown fault key(s) {unknown}; expected some of {allowed}")
        if "kind" not in data:
            raise ValueError(f"a fault needs a 'kind', one of {KNOWN_FAULT_KINDS}")
        return cls(**{str(key): value for key, value in data.items()})

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready; ``from_dict(rule.to_dict()) == rule``."""
        return asdict(self)

    def matches(self, endpoint: str) -> bool:
        return self.endpoint in ("*", endpoint.lower())


def fault_rules(
    rules: Iterable[FaultRule | Mapping[str, Any]], kinds: Collection[str], simulator: str
) -> tuple[FaultRule, ...]:
    """A simulator configuration's fault rules (mappings converted), refusing any kind the
    ``simulator`` (named in the message) does not know."""
    converted = tuple(
        rule if isinstance(rule, FaultRule) else FaultRule.from_dict(rule) for rule in rules
    )
    for rule in converted:
        if rule.kind not in kinds:
            raise ValueError(
                f"fault kind {rule.kind!r} is not one the {simulator} simulator knows; "
                f"expected one of {tuple(kinds)}"
            )
    return converted


Answer = Callable[[], Awaitable[Response]]
# A kind only one API has: given the call and its normal answer, what the simulator sends.
SpecialFault = Callable[[Request, Answer], Awaitable[Response]]


@dataclass(frozen=True)
class FaultStyle:
    """How one simulator answers faults, passed in so this module never imports an app.

    ``error`` is its API's body for a 5xx of the given status, ``rate_limited`` its 429 (the
    rule's ``Retry-After`` is added here); ``special`` maps the kinds only its API has to
    what they do. ``kinds`` is what its injector accepts.
    """

    error: Callable[[int], Response]
    rate_limited: Callable[[], Response]
    special: Mapping[str, SpecialFault] = field(default_factory=dict)

    def __post_init__(self) -> None:
        allowed = set(KNOWN_FAULT_KINDS) - set(COMMON_FAULT_KINDS)
        wrong = sorted(set(self.special) - allowed)
        if wrong:
            raise ValueError(f"special fault kinds must be known and not common ones: {wrong}")

    @property
    def kinds(self) -> tuple[str, ...]:
        """The common kinds and this API's own, in ``KNOWN_FAULT_KINDS`` order."""
        own = set(COMMON_FAULT_KINDS) | set(self.special)
        return tuple(kind for kind in KNOWN_FAULT_KINDS if kind in own)

    def check(self, rules: Iterable[FaultRule], simulator: str) -> None:
        """``ValueError`` for a rule whose kind this simulator has no use for."""
        for rule in rules:
            if rule.kind not in self.kinds:
                raise ValueError(
                    f"fault kind {rule.kind!r} is not one the {simulator} simulator knows; "
                    f"expected one of {self.kinds}"
                )


@dataclass
class _ActiveRule:
    rule: FaultRule
    remaining: int | None


class FaultInjector:
    """The active rules, their remaining ``times`` and a seeded random generator.

    The generator is re-seeded whenever the rules are replaced, so the same rules and the same
    sequence of calls always fail the same calls. A lock guards the state because tests read
    and replace rules from their own thread while uvicorn's thread applies them.
    """

    def __init__(
        self,
        rules: Iterable[FaultRule] = (),
        seed: int = 0,
        *,
        style: FaultStyle,
        simulator: str = "this",
    ) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._random = random.Random(seed)
        self._active: list[_ActiveRule] = []
        self.style = style
        self.simulator = simulator
        self.replace(rules)

    def replace(self, rules: Iterable[FaultRule], seed: int | None = None) -> None:
        """Make ``rules`` the active ones (first match wins) and restart the random sequence.

        ``ValueError``, with nothing changed, when a rule's kind is not one this simulator knows.
        """
        rules = tuple(rules)
        self.style.check(rules, self.simulator)
        active = [_ActiveRule(rule, rule.times) for rule in rules]
        with self._lock:
            if seed is not None:
                self._seed = seed
            self._random = random.Random(self._seed)
            self._active = active

    def clear(self) -> None:
        self.replace(())

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        with self._lock:
            return tuple(item.rule for item in self._active)

    def snapshot(self) -> list[dict[str, Any]]:
        """Rule dicts with ``times`` replaced by what is left of it (the admin GET body)."""
        with self._lock:
            return [{**item.rule.to_dict(), "times": item.remaining} for item in self._active]

    def pick(self, endpoint: str) -> FaultRule | None:
        """The first rule that matches ``endpoint`` and whose times and probability allow it.

        A rule uses up one of its ``times`` only when it applies. The random draw is made only
        for rules with ``probability < 1``, so adding an always-on rule does not shift the
        sequence the others see.
        """
        with self._lock:
            for item in self._active:
                if not item.rule.matches(endpoint):
                    continue
                if item.remaining is not None and item.remaining <= 0:
                    continue
                probability = item.rule.probability
                if probability < 1 and self._random.random() >= probability:
                    continue
                if item.remaining is not None:
                    item.remaining -= 1
                return item.rule
        return None

    def _jitter(self, limit_ms: float) -> float:
        if limit_ms <= 0:
            return 0.0
        with self._lock:
            return self._random.uniform(0, limit_ms)

    async def intercept(self, endpoint: str, request: Request, answer: Answer) -> Response:
        """Answer the call: through a fault when a rule applies, normally (``answer``) otherwise."""
        rule = self.pick(endpoint)
        if rule is None:
            return await answer()
        return await self._apply(rule, request, answer)

    async def _apply(self, rule: FaultRule, request: Request, answer: Answer) -> Response:
        kind, style = rule.kind, self.style
        if kind == "latency":
            await asyncio.sleep((rule.latency_ms + self._jitter(rule.latency_jitter_ms)) / 1000)
            return await answer()
        if kind == "timeout":
            await _sleep_unless_disconnected(request, rule.delay_s)
            return await answer()
        if kind == "slow_body":
            return _trickled(await answer(), rule.delay_s)
        if kind == "error":
            return style.error(rule.status)
        if kind == "rate_limited":
            response = style.rate_limited()
            if rule.retry_after is not None:
                response.headers["Retry-After"] = _seconds(rule.retry_after)
            return response
        if kind == "reset":
            return _ConnectionDrop()
        if kind == "malformed_json":
            return Response(MALFORMED_BODY, status_code=200, media_type="application/json")
        special = style.special.get(kind)
        if special is None:  # pragma: no cover - replace() refuses such rules
            raise AssertionError(f"unhandled fault kind {kind!r}")
        return await special(request, answer)


def _seconds(value: float) -> str:
    """``Retry-After`` value: whole seconds as ``"2"``; fractions kept so tests can stay fast."""
    return str(int(value)) if value.is_integer() else repr(value)


async def _sleep_unless_disconnected(request: Request, seconds: float) -> None:
    """Sleep, but stop once the client has gone (its read timeout fired).

    Without this an abandoned call would keep the server busy for the whole delay, and
    uvicorn's shutdown waits for running requests. The body is read first so the handler still
    gets it: afterwards ``receive()`` has nothing left to report but the disconnect.
    """
    try:
        await request.body()
    except ClientDisconnect:
        return

    async def disconnected() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(disconnected(), seconds)


def _trickled(response: Response, seconds: float) -> StreamingResponse:
    """The same status, headers and body, sent in small pieces spread over ``seconds``.

    Each gap is short, so a per-read timeout does not fire; only a deadline on the whole call
    notices. ``Content-Length`` is kept, as a real server that knew the size would send it.
    """
    body = bytes(response.body)
    count = max(1, min(SLOW_BODY_CHUNKS, len(body)))
    size = math.ceil(len(body) / count) if body else 1
    pieces = [body[start : start + size] for start in range(0, len(body), size)] or [b""]
    interval = seconds / len(pieces)

    async def trickle() -> AsyncIterator[bytes]:
        for piece in pieces:
            await asyncio.sleep(interval)
            yield piece

    streaming = StreamingResponse(trickle(), status_code=response.status_code)
    streaming.raw_headers = list(response.raw_headers)
    return streaming


class _ConnectionDrop(Response):
    """Starts a 200 JSON answer, then fails so the server drops the connection mid-response."""

    def __init__(self) -> None:
        super().__init__(status_code=200, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        raise SimulatedConnectionReset("simulated connection reset (fault 'reset')")
