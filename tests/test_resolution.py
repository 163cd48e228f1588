"""Per-field and per-document shortcuts: plain attribute resolvers (``schema/resolution.py``)
and remembered parses (``schema.extensions.ParsedDocuments``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

import strawberry
from graphql import GraphQLObjectType, parse
from strawberry.extensions import FieldExtension

from schema import build_schema, schema
from schema.extensions import ParsedDocuments
from schema.limits import OperationLimits
from schema.resolution import plain_attribute_resolvers


def _resolver(built: Any, type_name: str, field_name: str) -> Any:
    graphql_type = built._schema.type_map[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    return graphql_type.fields[field_name].resolve


def test_basic_fields_read_the_attribute_directly_and_resolvers_keep_theirs() -> None:
    for built in (schema, build_schema(OperationLimits(), federation=True)):
        for type_name, field_name in (
            ("User", "firstName"),
            ("Course", "title"),
            ("CourseItem", "position"),
            ("CourseEnrollment", "progressPercent"),
        ):
            assert _resolver(built, type_name, field_name).__module__ == "schema.resolution"
        for type_name, field_name in (("User", "manager"), ("Course", "items")):
            assert _resolver(built, type_name, field_name).__module__ != "schema.resolution"


class _Loud(FieldExtension):
    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        return str(next_(source, info, **kwargs)).upper()


@strawberry.type
class _Thing:
    first_name: str
    nickname: str = strawberry.field(default="x", extensions=[_Loud()])

    @strawberry.field
    def shout(self) -> str:
        return self.first_name.upper()


@strawberry.type
class _Query:
    @strawberry.field
    def thing(self) -> _Thing:
        return _Thing(first_name="ada")


def test_the_direct_resolver_reads_the_python_name_and_leaves_extensions_alone() -> None:
    built = strawberry.Schema(query=_Query)
    assert plain_attribute_resolvers(built._schema) == 1  # firstName only
    result = built.execute_sync("{ thing { firstName nickname shout } }")
    assert result.errors is None
    assert result.data == {"thing": {"firstName": "ada", "nickname": "X", "shout": "ADA"}}


def test_a_document_text_is_parsed_once_and_a_bad_one_still_fails_as_before() -> None:
    parsed: list[str] = []

    def counting_parse(text: str, **options: Any) -> Any:
        parsed.append(text)
        return parse(text, **options)

    built = strawberry.Schema(
        query=_Query, extensions=[partial(ParsedDocuments, lru_cache(maxsize=4)(counting_parse))]
    )
    for _ in range(3):
        assert built.execute_sync("{ thing { firstName } }").data == {"thing": {"firstName": "ada"}}
    assert parsed == ["{ thing { firstName } }"]
    broken = built.execute_sync("{ thing { firstName }")
    assert broken.errors is not None
    assert "Syntax Error" in broken.errors[0].message
