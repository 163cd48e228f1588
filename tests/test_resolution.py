"""Per-field and per-document shortcuts: plain attribute resolvers (``schema/resolution.py``)
and remembered parses (``schema.validation.extensions.ParsedDocuments``)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType, parse
from strawberry.extensions import FieldExtension

from schema import build_schema, schema
from schema.resolution import direct_resolvers, plain_attribute_resolvers
from schema.validation.extensions import ParsedDocuments
from schema.validation.limits import OperationLimits

pytestmark = pytest.mark.unit


def _resolver(built: Any, type_name: str, field_name: str) -> Any:
    graphql_type = built._schema.type_map[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    return graphql_type.fields[field_name].resolve


def test_basic_fields_read_the_attribute_and_resolvers_are_called_directly() -> None:
    for built in (schema, build_schema(OperationLimits(), federation=True)):
        for type_name, field_name in (
            ("User", "firstName"),
            ("Course", "title"),
            ("CourseItem", "position"),
            ("CourseEnrollment", "progressPercent"),
        ):
            resolve = _resolver(built, type_name, field_name)
            assert resolve.__qualname__ == "_attribute.<locals>.resolve"
        for type_name, field_name in (
            ("User", "manager"),
            ("Course", "items"),
            ("User", "enrollments"),
            ("CourseItemConnection", "totalCount"),
        ):
            resolve = _resolver(built, type_name, field_name)
            assert resolve.__qualname__ == "_direct.<locals>.resolve"


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


@strawberry.enum
class _Case(enum.Enum):
    UPPER = "upper"
    LOWER = "lower"


@strawberry.input
class _Style:
    case: _Case = _Case.UPPER
    suffix: str = ""


@strawberry.type
class _Greeter:
    name: str

    @strawberry.field
    def greet(
        self,
        info: strawberry.Info,
        greeting: str = "hello",
        times: int | None = None,
        style: _Style | None = None,
    ) -> str:
        text = " ".join([f"{greeting} {self.name}"] * (times or 1))
        if style is not None:
            text = (text.upper() if style.case is _Case.UPPER else text.lower()) + style.suffix
        return f"{text} ({info.field_name})"

    @strawberry.field
    async def later(root: strawberry.Parent[_Greeter], first: int | None = None) -> list[str]:
        return [root.name] * (first or 0)

    @strawberry.field(extensions=[_Loud()])
    def loud(self, word: str) -> str:
        return word


@strawberry.type
class _GreeterQuery:
    @strawberry.field
    def greeter(self) -> _Greeter:
        return _Greeter(name="ada")


async def test_direct_resolvers_pass_arguments_self_parent_and_info_as_strawberry_does() -> None:
    document = """query ($times: Int) {
      greeter {
        plain: greet
        args: greet(greeting: "hi", times: $times)
        styled: greet(style: {case: LOWER, suffix: "!"})
        later(first: 2)
        loud(word: "quiet")
      }
    }"""
    expected = {
        "greeter": {
            "plain": "hello ada (greet)",
            "args": "hi ada hi ada (greet)",
            "styled": "hello ada! (greet)",
            "later": ["ada", "ada"],
            "loud": "QUIET",
        }
    }
    reference = strawberry.Schema(query=_GreeterQuery)
    direct = strawberry.Schema(query=_GreeterQuery)
    # greeter, greet and later; loud keeps Strawberry's wrapper for its extension.
    assert direct_resolvers(direct) == 3
    assert _resolver(direct, "Greeter", "loud").__qualname__ != "_direct.<locals>.resolve"
    for built in (reference, direct):
        result = await built.execute(document, variable_values={"times": 2})
        assert result.errors is None
        assert result.data == expected
