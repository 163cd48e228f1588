"""The private Strawberry (and graphql-core) APIs the gateway relies on, one check each.

Strawberry documents its schema, types, extensions hooks and the view's ``get_context`` and
``process_result``; the gateway also reaches past them (for speed, and to cache parsing and
validation), into names and behaviours a minor release may change without notice. Each check
below names the internal and the module of ours that uses it, so an upgrade that breaks one
fails here first, and plainly. ``pyproject.toml`` pins strawberry-graphql to the minor version
these pass with (graphql-core to its minor too); to upgrade, raise the pin and run this module.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from functools import partial
from typing import Any

import httpx
import pytest
import strawberry
from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    ValidationRule,
    parse,
)
from strawberry.extensions import MaxTokensLimiter, SchemaExtension

pytestmark = pytest.mark.unit

INTERNALS: list[Any] = []


def internal(name: str, *users: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Registers a check of the internal ``name``, which the modules ``users`` rely on."""

    def register(check: Callable[[], Any]) -> Callable[[], Any]:
        INTERNALS.append(pytest.param(check, name, users, id=name))
        return check

    return register


# --- a small schema of Strawberry's own, untouched by the gateway's shortcuts ----------------


@strawberry.input
class Filter:
    name_like: str


@strawberry.input(one_of=True)
class Pick:
    by_id: str | None = strawberry.UNSET
    by_name: str | None = strawberry.UNSET


@strawberry.type
class Item:
    id: str
    display_name: str

    @strawberry.field
    def label(
        self, info: strawberry.Info, prefix: str | None = None, filter: Filter | None = None
    ) -> str:
        SEEN["raw_info"] = info._raw_info
        return f"{prefix or ''}{self.display_name}"


def owner(root: Item) -> str:
    return f"owner of {root.id}"


@strawberry.type
class Query:
    @strawberry.field
    def item(self, pick: Pick | None = None) -> Item:
        return Item(id="1", display_name="One")

    first: int = 1
    at: datetime = datetime(2024, 5, 1)
    owner: str = strawberry.field(resolver=owner)


@strawberry.type
class EntityQuery:
    @strawberry.field
    def item(self) -> Item:
        return Item(id="1", display_name="One")


@strawberry.type(name="Mutation")
class EntityMutation:
    @strawberry.mutation
    def touch(self) -> int:
        return 0


class Colour(enum.Enum):
    """A plain enum, as the domain's are, marked as a GraphQL enum afterwards."""

    RED = "red"
    BLUE = "blue"


strawberry.enum(Colour, description="A colour.")  # as schema/types/enums.py does


@strawberry.type
class ColourQuery:
    colour: Colour = Colour.RED


SEEN: dict[str, Any] = {}


def small_schema(**options: Any) -> strawberry.Schema:
    return strawberry.Schema(query=Query, **options)


def execute(built: strawberry.Schema, query: str) -> Any:
    return built.execute_sync(query, root_value=Query())


def graphql_field(built: strawberry.Schema, type_name: str, field_name: str) -> Any:
    return built._schema.type_map[type_name].fields[field_name]  # type: ignore[union-attr]


def strawberry_field(built: strawberry.Schema, type_name: str, field_name: str) -> Any:
    from strawberry.schema.schema_converter import GraphQLCoreConverter
    from strawberry.types.field import StrawberryField

    field = graphql_field(built, type_name, field_name).extensions[
        GraphQLCoreConverter.DEFINITION_BACKREF
    ]
    assert isinstance(field, StrawberryField)
    return field


def parameters(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(function).parameters)


# --- schema/resolution.py (and the schema's built GraphQL schema) ----------------------------


@internal(
    "Schema._schema, Schema.config",
    "schema/__init__.py",
    "schema/resolution.py",
    "schema/validation/extensions.py",
    "gateway/cli.py",
)
def _schema_and_config() -> None:
    from strawberry.schema.config import StrawberryConfig

    built = small_schema()
    assert isinstance(built._schema, GraphQLSchema)
    assert isinstance(built.config, StrawberryConfig)


@internal("GraphQLCoreConverter.DEFINITION_BACKREF", "schema/resolution.py")
def _definition_backref() -> None:
    from strawberry.schema.schema_converter import GraphQLCoreConverter
    from strawberry.types.field import StrawberryField

    built = small_schema()
    for type_name, field_name in (("Item", "displayName"), ("Item", "label"), ("Query", "item")):
        field = graphql_field(built, type_name, field_name).extensions.get(
            GraphQLCoreConverter.DEFINITION_BACKREF
        )
        assert isinstance(field, StrawberryField), (type_name, field_name, field)


@internal(
    "strawberry.types.field.StrawberryField: is_basic_field, default_resolver, "
    "python_name, base_resolver, extensions, is_subscription, arguments",
    "schema/resolution.py",
    "schema/types/shared.py",
)
def _strawberry_field() -> None:
    built = small_schema()
    basic = strawberry_field(built, "Item", "displayName")
    assert basic.is_basic_field and basic.base_resolver is None
    assert basic.python_name == "display_name"
    assert basic.default_resolver is getattr  # StrawberryConfig's default
    resolved = strawberry_field(built, "Item", "label")
    assert not resolved.is_basic_field and resolved.base_resolver is not None
    assert list(resolved.extensions) == [] and resolved.is_subscription is False
    assert [a.python_name for a in resolved.arguments] == ["prefix", "filter"]


@internal(
    "_is_default on the resolvers Strawberry makes for fields without one", "schema/resolution.py"
)
def _is_default_marks() -> None:
    from strawberry.resolvers import is_default_resolver

    built = small_schema()
    basic = graphql_field(built, "Item", "displayName").resolve
    resolved = graphql_field(built, "Item", "label").resolve
    assert getattr(basic, "_is_default", None) is True
    assert getattr(resolved, "_is_default", None) is False
    # Strawberry's tracing extensions skip default resolvers by this mark: ours carry it too.
    from schema.resolution import plain_attribute_resolvers

    plain_attribute_resolvers(built._schema)
    assert is_default_resolver(graphql_field(built, "Item", "displayName").resolve)


@internal(
    "Schema.schema_converter: _get_field_exception_handlers(field), scalar_registry",
    "schema/resolution.py",
)
def _schema_converter() -> None:
    built = small_schema()
    converter = built.schema_converter
    assert not converter._get_field_exception_handlers(strawberry_field(built, "Item", "label"))
    assert isinstance(converter.scalar_registry, Mapping)
    assert str in converter.scalar_registry


@internal(
    "StrawberryResolver: wrapped_func, self_parameter, parent_parameter, "
    "root_parameter, info_parameter",
    "schema/resolution.py",
)
def _resolver_parameters() -> None:
    built = small_schema()
    label = strawberry_field(built, "Item", "label").base_resolver
    assert label is not None and callable(label.wrapped_func)
    assert label.self_parameter is not None and label.self_parameter.name == "self"
    assert label.info_parameter is not None and label.info_parameter.name == "info"
    assert label.parent_parameter is None and label.root_parameter is None
    resolver = strawberry_field(built, "Query", "owner").base_resolver
    assert resolver is not None and resolver.wrapped_func is owner
    assert resolver.root_parameter is not None and resolver.root_parameter.name == "root"
    assert resolver.self_parameter is None and resolver.info_parameter is None


@internal(
    "StrawberryConfig: name_converter.from_argument, info_class(_raw_info=, _field=)",
    "schema/resolution.py",
)
def _config_converters() -> None:
    built = small_schema()
    field = strawberry_field(built, "Item", "label")
    names = [built.config.name_converter.from_argument(a) for a in field.arguments]
    assert names == ["prefix", "filter"], names
    info_fields = {f.name for f in dataclasses.fields(built.config.info_class)}
    assert {"_raw_info", "_field"} <= info_fields, info_fields


@internal(
    "strawberry.types.arguments.convert_arguments(value, arguments, scalar_registry=, "
    "config=, info=)",
    "schema/resolution.py",
)
def _convert_arguments() -> None:
    from strawberry.types.arguments import convert_arguments

    assert parameters(convert_arguments) == [
        "value",
        "arguments",
        "scalar_registry",
        "config",
        "info",
    ]
    built = small_schema()
    field = strawberry_field(built, "Item", "label")
    converted = convert_arguments(
        {"prefix": "> ", "filter": {"nameLike": "On"}},
        field.arguments,
        scalar_registry=built.schema_converter.scalar_registry,
        config=built.config,
        info=None,
    )
    assert converted == {"prefix": "> ", "filter": Filter(name_like="On")}


@internal("StrawberryArgument.type, StrawberryOptional.of_type", "schema/resolution.py")
def _argument_types() -> None:
    from strawberry.types.base import StrawberryOptional

    built = small_schema()
    prefix, filter_ = strawberry_field(built, "Item", "label").arguments
    assert isinstance(prefix.type, StrawberryOptional) and prefix.type.of_type is str
    assert isinstance(filter_.type, StrawberryOptional) and filter_.type.of_type is Filter


# --- schema/selection.py ---------------------------------------------------------------------


@internal(
    "Info._raw_info (graphql-core's GraphQLResolveInfo)",
    "schema/selection.py",
    "schema/resolution.py",
)
def _raw_info() -> None:
    SEEN.clear()
    result = execute(small_schema(), "{ item { label } }")
    assert result.errors is None, result.errors
    raw = SEEN["raw_info"]  # what schema/selection.py reads of it: nodes and fragments
    assert [node.name.value for node in raw.field_nodes] == ["label"]
    assert isinstance(raw.field_nodes[0], FieldNode) and isinstance(raw.fragments, dict)
    assert raw.fragments == {} and raw.field_name == "label"


# --- schema/federation.py ----------------------------------------------------------------------


@internal(
    "strawberry.federation.schema.FederationAny, schema_directives.Key, types.FieldSet",
    "schema/federation.py",
)
def _federation_names() -> None:
    from strawberry.federation import Schema as FederationSchema
    from strawberry.federation.schema import FederationAny
    from strawberry.federation.schema_directives import Key
    from strawberry.federation.types import FieldSet

    assert Key(fields=FieldSet("id")).fields == "id"
    built = FederationSchema(query=Query, federation_version="2.0")
    scalar = built.schema_converter.scalar_registry.get(FederationAny)
    assert getattr(scalar, "name", None) == "_Any", scalar


@internal(
    "strawberry.types.base: get_object_definition(cls, strict=True), "
    "StrawberryObjectDefinition (a dataclass: directives, is_type_of)",
    "schema/federation.py",
)
def _object_definition() -> None:
    from strawberry.types.base import StrawberryObjectDefinition, get_object_definition

    definition = get_object_definition(Item, strict=True)
    assert isinstance(definition, StrawberryObjectDefinition)
    names = {f.name for f in dataclasses.fields(definition)}
    assert {"directives", "is_type_of", "origin"} <= names, names
    assert definition.origin is Item


@internal(
    "federation.Schema(types=[a definition's copy]) uses the copy for its class; the "
    "printed schema starts `schema @link(...) { query: Query mutation: Mutation }`",
    "schema/federation.py",
)
def _keyed_copies() -> None:
    from strawberry.federation import Schema as FederationSchema
    from strawberry.federation.schema_directives import Key
    from strawberry.federation.types import FieldSet
    from strawberry.types.base import get_object_definition

    from schema.federation import _SCHEMA_DEFINITION

    assert {"types", "federation_version", "scalar_overrides", "extensions", "config"} <= set(
        parameters(FederationSchema.__init__)
    )
    definition = get_object_definition(Item, strict=True)
    keyed = dataclasses.replace(definition, directives=[Key(fields=FieldSet("id"))])
    printed = FederationSchema(
        query=EntityQuery, mutation=EntityMutation, types=[keyed], federation_version="2.0"
    ).as_str()
    assert 'type Item @key(fields: "id"' in printed, printed
    assert _SCHEMA_DEFINITION.match(printed), printed[:200]


@internal(
    "federation.Schema(scalar_overrides={FederationAny: ...}) replaces Federation's own `_Any`",
    "schema/federation.py",
)
def _federation_any_override() -> None:
    from strawberry.federation import Schema as FederationSchema
    from strawberry.federation.schema import FederationAny

    described = strawberry.scalar(
        name="_Any", description="Described.", serialize=lambda v: v, parse_value=lambda v: v
    )
    built = FederationSchema(
        query=EntityQuery, federation_version="2.0", scalar_overrides={FederationAny: described}
    )
    assert built._schema.type_map["_Any"].description == "Described."


# --- schema/types/enums.py -----------------------------------------------------------------------


@internal(
    "strawberry.types.enum: has_enum_definition, StrawberryEnumDefinition.values "
    "(EnumValue: name, and a description set after strawberry.enum, which is printed)",
    "schema/types/enums.py",
)
def _enum_value_descriptions() -> None:
    from strawberry.types.enum import EnumValue, has_enum_definition

    assert has_enum_definition(Colour)
    values = Colour.__strawberry_definition__.values
    assert all(isinstance(value, EnumValue) for value in values), values
    assert [value.name for value in values] == ["RED", "BLUE"]
    for value in values:
        value.description = f"The colour {value.name.lower()}."
    printed = strawberry.Schema(query=ColourQuery).as_str()
    assert '  """The colour red."""\n  RED\n' in printed, printed
    assert '  """The colour blue."""\n  BLUE\n' in printed, printed


# --- schema/__init__.py --------------------------------------------------------------------------


@internal(
    "StrawberryConfig(batching_config={'max_operations': n}, disable_field_suggestions=)",
    "schema/__init__.py",
)
def _batching_config() -> None:
    from strawberry.schema.config import StrawberryConfig

    config = StrawberryConfig(batching_config={"max_operations": 3}, disable_field_suggestions=True)
    assert config.batching_config == {"max_operations": 3}
    assert config.disable_field_suggestions is True


@internal(
    "Schema.process_errors(errors, execution_context), called for every error", "schema/__init__.py"
)
def _process_errors() -> None:
    seen: list[str] = []

    class Recording(strawberry.Schema):
        def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
            seen.extend(error.message for error in errors)

    assert parameters(strawberry.Schema.process_errors) == ["self", "errors", "execution_context"]
    execute(Recording(query=Query), "{ nope }")
    assert seen and "nope" in seen[0], seen


@internal(
    "StrawberryConfig(enable_experimental_incremental_execution=True): @defer and @stream "
    "declared; Schema.execute returns graphql-core's answer in parts as it is",
    "schema/__init__.py",
    "schema/incremental.py",
    "gateway/http/endpoint.py",
)
async def _incremental_execution() -> None:
    from graphql import ExperimentalIncrementalExecutionResults
    from strawberry.schema.config import StrawberryConfig

    built = small_schema(config=StrawberryConfig(enable_experimental_incremental_execution=True))
    assert {"defer", "stream"} <= {d.name for d in built._schema.directives}
    result: Any = await built.execute("{ first ... @defer { at } }", root_value=Query())
    assert isinstance(result, ExperimentalIncrementalExecutionResults), result
    assert result.initial_result.data == {"first": 1}
    assert [part.has_next async for part in result.subsequent_results] == [False]


@internal(
    "on_execute: the graphql_document an extension sets is the one executed",
    "schema/incremental.py",
)
def _document_for_execution() -> None:
    class Swaps(SchemaExtension):
        def on_execute(self) -> Iterator[None]:
            self.execution_context.graphql_document = parse("{ at }")
            yield

    result = _run(Swaps, query="{ first }")
    assert result.data == {"at": "2024-05-01T00:00:00"}, result


# --- schema/validation/extensions.py ----------------------------------------------------------


@internal(
    "strawberry.schema.schema.validate_document(schema, document, validation_rules), "
    "which adds Strawberry's own rules",
    "schema/validation/extensions.py",
)
def _validate_document() -> None:
    from strawberry.schema.schema import validate_document

    assert parameters(validate_document) == ["schema", "document", "validation_rules"]
    built = small_schema()
    two_picks = parse('{ item(pick: {byId: "1", byName: "One"}) { id } }')
    errors = validate_document(built._schema, two_picks, ())
    assert errors, "Strawberry's @oneOf rule no longer comes with validate_document"


def _run(*extensions: Any, query: str = "{ first }") -> Any:
    return execute(small_schema(extensions=list(extensions)), query)


@internal(
    "on_parse: a graphql_document set by an extension is not parsed again",
    "schema/validation/extensions.py",
)
def _document_from_an_extension() -> None:
    class Parsed(SchemaExtension):
        def on_parse(self) -> Iterator[None]:
            self.execution_context.graphql_document = parse("{ first }")
            yield

    result = _run(Parsed, query="{ this is not parsed")
    assert result.errors is None and result.data == {"first": 1}, result


@internal(
    "on_validate: pre_execution_errors set by an extension skip Strawberry's validation",
    "schema/validation/extensions.py",
)
def _validation_by_an_extension() -> None:
    class Validated(SchemaExtension):
        def on_validate(self) -> Iterator[None]:
            self.execution_context.pre_execution_errors = []
            yield

    result = _run(Validated, query="{ first nope }")  # not validated: nope is simply absent
    assert result.data == {"first": 1}, result


class _Refuse(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        self.report_error(GraphQLError("refused by a rule added in on_operation"))


@internal(
    "on_operation: rules appended to execution_context.validation_rules run",
    "schema/validation/extensions.py",
)
def _rules_from_on_operation() -> None:
    class AddsRule(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            ctx = self.execution_context
            ctx.validation_rules = (*ctx.validation_rules, _Refuse)
            yield

    result = _run(AddsRule)
    assert [e.message for e in result.errors or []] == [
        "refused by a rule added in on_operation"
    ], result


@internal(
    "execution_context.parse_options, where MaxTokensLimiter puts max_tokens",
    "schema/validation/extensions.py",
)
def _parse_options() -> None:
    seen: dict[str, Any] = {}

    class Reads(SchemaExtension):
        def on_parse(self) -> Iterator[None]:
            seen.update(self.execution_context.parse_options)
            yield

    _run(partial(MaxTokensLimiter, max_token_count=7), Reads)
    assert seen.get("max_tokens") == 7, seen


@internal("graphql-core's token-limit message, matched whole", "schema/validation/extensions.py")
def _token_limit_message() -> None:
    with pytest.raises(GraphQLError) as raised:
        parse("{ a b c d }", max_tokens=3)
    assert raised.value.message == (
        "Syntax Error: Document contains more than 3 tokens. Parsing aborted."
    )


# --- schema/validation/cost.py (graphql-core) -------------------------------------------------


@internal(
    "graphql.execution.values: get_variable_values, get_argument_values, VariableValues",
    "schema/validation/cost.py",
)
def _variable_values() -> None:
    from graphql.execution.values import (
        VariableValues,
        get_argument_values,
        get_variable_values,
    )

    built = small_schema()
    document = parse("query($p: String) { item { label(prefix: $p) } }")
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    definitions = operation.variable_definitions
    coerced = get_variable_values(built._schema, definitions, {"p": "> "})
    assert isinstance(coerced, VariableValues), coerced
    wrong = get_variable_values(built._schema, definitions, {"p": {"not": "a string"}})
    assert isinstance(wrong, list) and isinstance(wrong[0], GraphQLError), wrong
    item_node = operation.selection_set.selections[0]
    assert isinstance(item_node, FieldNode) and item_node.selection_set is not None
    label_node = item_node.selection_set.selections[0]
    assert isinstance(label_node, FieldNode)
    label = graphql_field(built, "Item", "label")
    assert get_argument_values(label, label_node, coerced) == {"prefix": "> ", "filter": None}
    # What cost.py passes when the variables do not coerce (execution reports them).
    assert isinstance(get_argument_values(label, label_node, VariableValues({}, {})), dict)


# --- schema/types/scalars.py ---------------------------------------------------------------------


@internal(
    "strawberry.schema.types.base_scalars.wrap_parser(parser, type_name)", "schema/types/scalars.py"
)
def _wrap_parser() -> None:
    from strawberry.schema.types.base_scalars import wrap_parser

    with pytest.raises(GraphQLError) as raised:
        wrap_parser(datetime.fromisoformat, "DateTime")("yesterday")
    assert "DateTime" in raised.value.message


@internal(
    "strawberry.types.scalar: ScalarDefinition(...) in scalar_overrides, ScalarWrapper",
    "schema/types/scalars.py",
    "schema/federation.py",
)
def _scalar_definition() -> None:
    from strawberry.types.scalar import ScalarDefinition, ScalarWrapper

    assert isinstance(ScalarWrapper, type)

    moment = ScalarDefinition(
        name="Moment",
        description=None,
        specified_by_url=None,
        serialize=lambda value: "then",
        parse_value=None,
        parse_literal=None,
        origin=datetime,
    )
    built = small_schema(scalar_overrides={datetime: moment})
    assert "scalar Moment" in built.as_str()
    assert execute(built, "{ at }").data == {"at": "then"}


# --- gateway/http/endpoint.py --------------------------------------------------------------------


@internal(
    "cross_web (Strawberry's HTTP layer): HTTPException, parse_content_type, "
    "StarletteRequestAdapter.content_type",
    "gateway/http/endpoint.py",
    "gateway/http/graphql_over_http.py",
)
def _cross_web() -> None:
    from cross_web import HTTPException, StarletteRequestAdapter, parse_content_type
    from strawberry.asgi import GraphQL

    error = HTTPException(415, "unsupported")
    assert (error.status_code, error.reason) == (415, "unsupported")
    assert parse_content_type("Application/JSON; charset=utf-8")[0] == "application/json"
    assert isinstance(inspect.getattr_static(StarletteRequestAdapter, "content_type"), property)
    assert GraphQL.request_adapter_class is StarletteRequestAdapter


VIEW_HOOKS = {
    "run": ["self", "request", "context", "root_value"],
    "render_graphql_ide": ["self", "request"],
    "should_render_graphql_ide": ["self", "request"],
    "create_response": ["self", "response_data", "sub_response"],
    "parse_http_body": ["self", "request"],
    "execute_operation": [
        "self",
        "request",
        "request_adapter",
        "request_data",
        "context",
        "root_value",
        "sub_response",
    ],
    "execute_single": [
        "self",
        "request",
        "request_adapter",
        "sub_response",
        "context",
        "root_value",
        "request_data",
    ],
}


@internal("the GraphQL view's undocumented hooks and their parameters", "gateway/http/endpoint.py")
def _view_hooks() -> None:
    from strawberry.asgi import GraphQL

    found = {name: parameters(getattr(GraphQL, name)) for name in VIEW_HOOKS}
    assert found == VIEW_HOOKS


@internal(
    "a single operation reaches execute_single (through execute_operation) with a "
    "GraphQLRequestData dataclass; a JSON answer's media_type",
    "gateway/http/endpoint.py",
)
async def _execute_single() -> None:
    from strawberry.asgi import GraphQL
    from strawberry.http import GraphQLRequestData

    seen: list[Any] = []

    class View(GraphQL):
        async def execute_single(self, **kwargs: Any) -> Any:  # type: ignore[override]
            data = kwargs["request_data"]
            seen.append(data)
            kwargs["request_data"] = dataclasses.replace(data, query="{ first }")
            return await super().execute_single(**kwargs)

        async def get_root_value(self, request: Any) -> Query:
            return Query()

        def create_response(self, response_data: Any, sub_response: Any) -> Any:
            response = super().create_response(response_data, sub_response)
            seen.append(response.media_type)
            return response

    transport = httpx.ASGITransport(app=View(small_schema()))
    async with httpx.AsyncClient(transport=transport, base_url="http://view") as client:
        answer = await client.post("/", json={"query": "{ nope }", "extensions": {"x": 1}})
    assert answer.json() == {"data": {"first": 1}}, answer.text
    data, media_type = seen
    assert isinstance(data, GraphQLRequestData) and dataclasses.is_dataclass(data)
    assert (data.query, data.operation_name, data.extensions) == ("{ nope }", None, {"x": 1})
    assert media_type == "application/json"


@internal(
    "run() frames graphql-core's answer in parts (from execute_operation) as multipart/mixed: "
    "_process_stream_result(request, value, all_pending) for the initial result and every "
    "later one, create_streaming_response(request, stream, sub_response, headers), the "
    "boundary '-', a Content-Type and Content-Length per part, the closing '--'",
    "gateway/http/endpoint.py",
    "gateway/http/incremental.py",
)
async def _multipart_answers() -> None:
    from graphql import ExperimentalIncrementalExecutionResults
    from strawberry.asgi import GraphQL

    assert parameters(GraphQL._process_stream_result) == [
        "self",
        "request",
        "value",
        "all_pending",
    ]
    assert parameters(GraphQL.create_streaming_response) == [
        "self",
        "request",
        "stream",
        "sub_response",
        "headers",
    ]
    seen: list[Any] = []

    async def later() -> Any:
        yield {"n": 2}

    class View(GraphQL):
        async def execute_operation(self, **kwargs: Any) -> Any:  # type: ignore[override]
            return ExperimentalIncrementalExecutionResults({"n": 1}, later())  # type: ignore[arg-type]

        async def _process_stream_result(
            self, request: Any, value: Any, all_pending: list[Any]
        ) -> Any:
            seen.append(value)
            return value, all_pending

        async def create_streaming_response(self, *args: Any, **kwargs: Any) -> Any:
            seen.append(kwargs["headers"])
            return await super().create_streaming_response(*args, **kwargs)

    transport = httpx.ASGITransport(app=View(small_schema()))
    async with httpx.AsyncClient(transport=transport, base_url="http://view") as client:
        answer = await client.post("/", json={"query": "{ first }"})
    assert seen == [{"Content-Type": 'multipart/mixed; boundary="-"'}, {"n": 1}, {"n": 2}], seen
    part = "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 7\r\n\r\n"
    assert answer.text == f'---{part}{{"n":1}}\r\n---{part}{{"n":2}}\r\n-----\r\n', answer.text


# --- the checks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("check", "name", "users"), INTERNALS)
async def test_the_internals_the_gateway_relies_on_are_still_there(
    check: Callable[[], Any], name: str, users: tuple[str, ...]
) -> None:
    try:
        outcome = check()
        if inspect.isawaitable(outcome):
            await outcome
    except Exception as error:  # an AssertionError, or whatever the changed API raised
        pytest.fail(
            f"Strawberry internal changed: {name}\n  used by: {', '.join(users)}\n"
            f"  {type(error).__name__}: {error}\n"
            "Adapt those modules (or keep strawberry-graphql at the version pyproject.toml "
            "pins) before upgrading.",
            pytrace=False,
        )
