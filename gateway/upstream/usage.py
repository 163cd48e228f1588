"""Upstream call accounting for one GraphQL operation (``extensions.upstream``)."""

from __future__ import annotations

from collections import Counter

__all__ = ["UpstreamUsage"]


class UpstreamUsage:
    """Counts the upstream HTTP calls one operation made, per endpoint name.

    Endpoint names follow one convention shared with the simulator's statistics:
    the lower-cased endpoint, plus ``/{key}`` for record lookups such as ``users/id``.
    Every call that left the gateway counts, failed ones included: they cost quota too.
    """

    __slots__ = ("by_endpoint", "cache_hits", "portal", "retries")

    def __init__(self) -> None:
        self.by_endpoint: Counter[str] = Counter()
        self.cache_hits: Counter[str] = Counter()
        self.retries = 0
        # The portal's quota and circuit state, filled in when the operation ends.
        self.portal: dict[str, object] = {}

    def record_retry(self, *_: object) -> None:
        self.retries += 1

    def record(self, endpoint: str) -> None:
        self.by_endpoint[endpoint] += 1

    def record_cache_hit(self, endpoint: str) -> None:
        """An answer served from the shared cache or another request's call in flight."""
        self.cache_hits[endpoint] += 1

    @property
    def calls(self) -> int:
        return sum(self.by_endpoint.values())

    def as_extension(self) -> dict[str, object]:
        return {
            "calls": self.calls,
            "byEndpoint": dict(sorted(self.by_endpoint.items())),
            "cacheHits": sum(self.cache_hits.values()),
            "retries": self.retries,
            **self.portal,
        }
