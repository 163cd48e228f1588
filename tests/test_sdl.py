"""The exported SDLs (plain and Federation 2 subgraph) must match the schemas the code builds."""

from __future__ import annotations

import pytest

from gateway.cli import main
from gateway.domain import model
from schema import SDL_PATH, SUBGRAPH_SDL_PATH, build_schema, schema
from schema.validation.limits import OperationLimits

pytestmark = pytest.mark.unit

subgraph_schema = build_schema(OperationLimits(), federation=True)


def test_exported_sdl_matches_the_code():
    exported = SDL_PATH.read_text(encoding="utf-8")
    assert exported == schema.as_str() + "\n", (
        "schema/schema.graphql is stale: run `lms-gateway export-schema -o schema/schema.graphql`"
    )


def test_exported_subgraph_sdl_matches_the_code():
    exported = SUBGRAPH_SDL_PATH.read_text(encoding="utf-8")
    assert exported == subgraph_schema.as_str() + "\n", (
        "schema/schema.federation.graphql is stale: run "
        "`lms-gateway export-schema --federation -o schema/schema.federation.graphql`"
    )


def test_export_command_writes_the_sdl(tmp_path):
    target = tmp_path / "out.graphql"
    assert main(["export-schema", "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == schema.as_str() + "\n"


def test_export_command_writes_the_subgraph_sdl(tmp_path):
    target = tmp_path / "subgraph.graphql"
    assert main(["export-schema", "--federation", "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == subgraph_schema.as_str() + "\n"


def test_the_subgraph_schema_is_the_plain_one_plus_federation():
    """Every plain type and field is in the subgraph unchanged; only federation is added."""
    plain, federated = schema._schema.type_map, subgraph_schema._schema.type_map
    added = set(federated) - set(plain)
    # _FieldSet and link__*: argument types of @key and @link, which the SDL imports
    assert added == {"_Any", "_Entity", "_Service", "_FieldSet", "link__Import", "link__Purpose"}
    for name, graphql_type in plain.items():
        fields = getattr(graphql_type, "fields", None)
        if fields is None:
            continue
        extra = set(federated[name].fields) - set(fields)  # type: ignore[union-attr]
        assert extra == ({"_service", "_entities"} if name == "Query" else set()), name


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


@pytest.mark.parametrize(
    ("graphql_type", "model_class", "unified_fields"),
    [
        ("User", model.User, 17),
        ("Course", model.Course, 17),
        ("CourseItem", model.CourseItem, 13),
        ("CourseEnrollment", model.CourseEnrollment, 21),
    ],
)
def test_every_unified_field_is_in_the_model_and_the_schema(
    graphql_type, model_class, unified_fields
):
    contract = set(model_class.model_fields) - {"partial", "remote_data"}
    assert len(contract) == unified_fields
    graphql_fields = set(schema._schema.type_map[graphql_type].fields)
    missing = {_camel(name) for name in contract | {"remote_data"}} - graphql_fields
    assert not missing
