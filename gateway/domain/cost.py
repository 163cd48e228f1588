"""Demand control's vocabulary: what a field costs upstream, and an operation's estimate.

Providers describe their call plan as a ``CostTable``; ``schema/validation/cost.py`` walks an
operation with it before execution. See that module for how the walk counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["TOTALS_MAX_AGE", "CostEstimate", "CostTable", "FieldCost", "with_margin"]

# Seconds a provider's record totals (TalentLMS's /siteinfo, LearnWorlds's list ``meta``)
# bound estimates; after that they are unknown (no bound) until read again.
TOTALS_MAX_AGE = 3600.0


def with_margin(total: int) -> int:
    """A total read up to ``TOTALS_MAX_AGE`` ago, as an upper bound of the records now.

    The totals are approximate: records are added between reads, and a course's roster or a
    user's course list may still name a record the total no longer counts. A tenth plus ten
    covers an hour's growth of any portal but one being bulk-imported; a list seen longer
    than the total raises the bound as well (the providers' ``record_bounds``).
    """
    return total + total // 10 + 10


@dataclass(frozen=True, slots=True)
class FieldCost:
    """Cost of resolving one field on one parent object."""

    calls: int = 0  # upstream calls per parent object
    detail: bool = False  # needs the parent's full record (counted once per parent object)
    detail_calls: int = 1  # calls that full record takes (the most any field of it asks)
    once: frozenset[str] = frozenset()  # calls made at most once per operation, by name
    result_full: bool | None = None  # returned objects are full records (None: as the parent)
    # Objects per parent of a list field (None: the default page size); for a connection,
    # the most its page can hold whatever ``first`` asks.
    list_size: int | None = None
    # The deduplicated lookup ``calls`` are (``users/id``): one call per distinct record the
    # portal's own data names, so at most as many as the portal holds (``record_bounds``).
    # None: calls named by the query's arguments, or not deduplicated by record.
    key: str | None = None
    detail_key: str | None = None  # the same, for the parent's full record when ``detail``
    # The returned objects are references that hold only these fields (GraphQL names, e.g. a
    # group's members: their ids): selecting any other field on one loads its record, one
    # ``reference_key`` call per object, after which it is full.
    reference: frozenset[str] | None = None
    reference_key: str | None = None
    cached: int = 0  # of ``calls``, those the upstream cache answers now


class CostTable(Protocol):
    def record_bounds(self) -> Mapping[str, int]:
        """Most distinct records each lookup key can fetch; empty when unknown."""
        ...

    def cost(
        self,
        type_name: str,
        field_name: str,
        *,
        arguments: Mapping[str, Any],
        selected: frozenset[str],
    ) -> FieldCost:
        """What resolving ``type_name.field_name`` on one parent object costs.

        ``arguments`` are the field's, variables substituted, keyed by their GraphQL names
        (``orderBy``, ``filter.userId``), with the provider's ids where the client gave
        global ids; ``selected`` names the fields selected on the result.
        """
        ...


@dataclass
class CostEstimate:
    """Upper bound of an operation's upstream calls, and the fields it resolves."""

    calls: int = 0  # calls not counted by lookup key
    fields: int = 0
    once: set[str] = field(default_factory=set)
    lookups: Counter[str] = field(default_factory=Counter)  # keyed calls, before dedup
    bounds: Mapping[str, int] = field(default_factory=dict)  # distinct records per key
    cached: int = 0  # of ``calls``, those the upstream cache answers now

    @property
    def total_calls(self) -> int:
        keyed = sum(min(n, self.bounds.get(key, n)) for key, n in self.lookups.items())
        return self.calls + keyed + len(self.once)

    @property
    def uncached_calls(self) -> int:
        """The calls that would not be answered by the upstream cache, were it run now."""
        return self.total_calls - self.cached

    def as_extension(self) -> dict[str, int]:
        return {"estimatedCalls": self.total_calls, "estimatedFields": self.fields}
