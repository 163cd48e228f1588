"""What an operation selects, as every provider reads it (``LmsProvider.prepare``)."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Final

from gateway.domain.model import PASSTHROUGH_FIELDS

__all__ = ["MAPPED_TYPES", "unselected_passthrough"]

MAPPED_TYPES: Final = ("User", "Course", "CourseItem", "CourseEnrollment", "Group")
_GRAPHQL_NAMES: Final = {"custom_fields": "customFields", "remote_data": "remoteData"}


def unselected_passthrough(
    selected_fields: AbstractSet[tuple[str, str]],
) -> dict[str, frozenset[str]]:
    """Per GraphQL type, the passthrough fields the operation never selects: mapping may
    skip their deep copies."""
    return {
        type_name: frozenset(
            field
            for field in PASSTHROUGH_FIELDS
            if (type_name, _GRAPHQL_NAMES[field]) not in selected_fields
        )
        for type_name in MAPPED_TYPES
    }
