"""Plain attribute fields resolve in one call: graphql-core straight to ``getattr``.

Strawberry gives a field without a resolver (most scalars of User, Course, CourseItem and
CourseEnrollment) a wrapper that calls ``StrawberryField.get_result``, which calls the
configured default resolver: three Python calls per value where graphql-core needs one.
On result shapes of thousands of fields that layer is measurable, so after the schema is
built those fields get a resolver that reads the attribute directly. Fields with a
resolver, field extensions or permission classes keep Strawberry's wrapper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

__all__ = ["plain_attribute_resolvers"]


def plain_attribute_resolvers(schema: GraphQLSchema) -> int:
    """Give every basic field of ``schema`` a direct attribute read; returns how many."""
    replaced = 0
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for graphql_field in graphql_type.fields.values():
            field = (graphql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            # Strawberry marks the resolvers it made for fields without one; `is_basic_field`
            # also rules out field extensions (permissions are one).
            if (
                isinstance(field, StrawberryField)
                and field.is_basic_field
                and getattr(graphql_field.resolve, "_is_default", False)
                and field.default_resolver is getattr
                and not graphql_field.args
            ):
                graphql_field.resolve = _attribute(field.python_name)
                replaced += 1
    return replaced


def _attribute(name: str) -> Callable[[Any, GraphQLResolveInfo], Any]:
    def resolve(source: Any, _info: GraphQLResolveInfo) -> Any:
        return getattr(source, name)

    resolve._is_default = True  # type: ignore[attr-defined]  # what Strawberry checks for
    return resolve
