"""Demand control's vocabulary: what a field costs upstream, and an operation's estimate.

Providers describe their call plan as a ``CostTable``; ``schema/cost.py`` walks an operation
with it before execution. See that module for how the walk counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["CostEstimate", "CostTable", "FieldCost"]


@dataclass(frozen=True, slots=True)
class FieldCost:
    """Cost of resolving one field on one parent object."""

    calls: int = 0  # upstream calls per parent object
    detail: bool = False  # needs the parent's full record (counted once per parent object)
    once: frozenset[str] = frozenset()  # calls made at most once per operation, by name
    result_full: bool | None = None  # returned objects are full records (None: as the parent)
    list_size: int | None = None  # objects per parent of a plain list field (None: default)


class CostTable(Protocol):
    def cost(
        self,
        type_name: str,
        field_name: str,
        *,
        parent_full: bool,
        arguments: Mapping[str, Any],
        selected: frozenset[str],
    ) -> FieldCost:
        """What resolving ``type_name.field_name`` on one parent object costs."""
        ...


@dataclass
class CostEstimate:
    """Upper bound of an operation's upstream calls, and the fields it resolves."""

    calls: int = 0
    fields: int = 0
    once: set[str] = field(default_factory=set)

    @property
    def total_calls(self) -> int:
        return self.calls + len(self.once)

    def as_extension(self) -> dict[str, int]:
        return {"estimatedCalls": self.total_calls, "estimatedFields": self.fields}
