"""Scalars: ISO-8601 ``DateTime`` in UTC with a ``Z`` suffix, and ``JSON``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from strawberry.scalars import JSON

# Private Strawberry APIs: tests/test_strawberry_internals.py.
from strawberry.schema.types.base_scalars import wrap_parser
from strawberry.types.scalar import ScalarDefinition

__all__ = ["JSON", "DateTime", "scalar_overrides"]


def _serialize(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


DateTime = ScalarDefinition(
    name="DateTime",
    description="Date and time, ISO 8601 in UTC, e.g. 2024-05-01T09:30:00Z.",
    specified_by_url=None,
    serialize=_serialize,
    parse_value=wrap_parser(_parse, "DateTime"),
    parse_literal=None,
    origin=datetime,
)

scalar_overrides: Mapping[object, ScalarDefinition] = {datetime: DateTime}
