"""Fields resolve in as few calls as their definition allows, past Strawberry's wrapper.

Strawberry gives a field without a resolver (most scalars of User, Course, CourseItem and
CourseEnrollment) a wrapper that calls ``StrawberryField.get_result``, which calls the
configured default resolver: three Python calls per value where graphql-core needs one.
After the schema is built those fields get a resolver that reads the attribute directly.

Fields with a resolver get one that builds the ``Info`` and calls the function: Strawberry's
wrapper converts every argument through its generic converter (four ``null`` paging
arguments on each connection: about 4,200 conversions for a 40-user dashboard), chains the
field extensions, and wraps an async resolver in one more coroutine. Plain scalar arguments
(``first``, ``after``, ...) only need their Python names; an input object or any other type
is still converted by Strawberry. Fields with field extensions (permissions are one) or
exception handlers keep Strawberry's wrapper.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema

# Private Strawberry APIs, here and below: tests/test_strawberry_internals.py checks each.
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import StrawberryArgument, convert_arguments
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField

__all__ = ["direct_resolvers", "plain_attribute_resolvers"]

_PLAIN_ARGUMENT_TYPES = (int, str, float, bool)


def plain_attribute_resolvers(schema: GraphQLSchema) -> int:
    """Give every basic field of ``schema`` a direct attribute read; returns how many."""
    replaced = 0
    for graphql_field, field in _fields(schema):
        # Strawberry marks the resolvers it made for fields without one; `is_basic_field`
        # also rules out field extensions (permissions are one). The mark is private:
        # tests/test_strawberry_internals.py checks it.
        if (
            field.is_basic_field
            and getattr(graphql_field.resolve, "_is_default", False)
            and field.default_resolver is getattr
            and not graphql_field.args
        ):
            graphql_field.resolve = _attribute(field.python_name)
            replaced += 1
    return replaced


def direct_resolvers(built: strawberry.Schema) -> int:
    """Give every field of ``built`` whose resolver needs nothing of Strawberry's wrapper a
    direct call of that resolver; returns how many."""
    # schema_converter, _schema and _get_field_exception_handlers are private:
    # tests/test_strawberry_internals.py checks them.
    converter = built.schema_converter
    replaced = 0
    for graphql_field, field in _fields(built._schema):
        resolver = field.base_resolver
        if (
            resolver is None
            or field.extensions
            or field.is_subscription
            or converter._get_field_exception_handlers(field)
        ):
            continue
        direct = _direct(built, field)
        if direct is not None:
            graphql_field.resolve = direct
            replaced += 1
    return replaced


def _fields(schema: GraphQLSchema) -> list[tuple[Any, StrawberryField]]:
    found = []
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for graphql_field in graphql_type.fields.values():
            field = (graphql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if isinstance(field, StrawberryField):
                found.append((graphql_field, field))
    return found


def _attribute(name: str) -> Callable[[Any, GraphQLResolveInfo[Any]], Any]:
    def resolve(source: Any, _info: GraphQLResolveInfo[Any]) -> Any:
        return getattr(source, name)

    # How Strawberry marks its own default resolvers (tests/test_strawberry_internals.py).
    resolve._is_default = True  # type: ignore[attr-defined]
    return resolve


def _direct(built: strawberry.Schema, field: StrawberryField) -> Callable[..., Any] | None:
    """The resolver, or ``None`` when it is not callable as it is (a classmethod) or its
    parameters are not all arguments, self, the parent or info (then Strawberry's wrapper
    knows what to pass)."""
    resolver = field.base_resolver
    assert resolver is not None
    function = resolver.wrapped_func
    if not callable(function):
        return None
    config, registry = built.config, built.schema_converter.scalar_registry
    arguments = field.arguments
    self_parameter = resolver.self_parameter
    source_names = [
        p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None
    ]
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    known = {a.python_name for a in arguments} | set(source_names) | {info_name}
    if self_parameter is not None:
        known.add(self_parameter.name)
    if any(name not in known for name in inspect.signature(function).parameters):
        return None
    # GraphQL name -> Python name of arguments that need no conversion.
    plain = {
        config.name_converter.from_argument(a): a.python_name for a in arguments if _is_plain(a)
    }
    info_class = config.info_class
    takes_self = self_parameter is not None

    def resolve(source: Any, info: GraphQLResolveInfo[Any], **kwargs: Any) -> Any:
        # Info's private fields, as Strawberry's wrapper fills them:
        # tests/test_strawberry_internals.py checks them.
        strawberry_info = info_class(_raw_info=info, _field=field)
        if kwargs:
            if kwargs.keys() <= plain.keys():
                kwargs = {plain[name]: value for name, value in kwargs.items()}
            else:
                kwargs = convert_arguments(
                    kwargs,
                    arguments,
                    scalar_registry=registry,
                    config=config,
                    info=strawberry_info,
                )
        for name in source_names:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = strawberry_info
        return function(source, **kwargs) if takes_self else function(**kwargs)

    return resolve


def _is_plain(argument: StrawberryArgument) -> bool:
    kind = argument.type
    if isinstance(kind, StrawberryOptional):
        kind = kind.of_type
    return kind in _PLAIN_ARGUMENT_TYPES
