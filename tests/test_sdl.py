"""The exported SDL must match the schema the code builds."""

from __future__ import annotations

import pytest

from gateway import model
from gateway.cli import main
from schema import SDL_PATH, schema


def test_exported_sdl_matches_the_code():
    exported = SDL_PATH.read_text(encoding="utf-8")
    assert exported == schema.as_str() + "\n", (
        "schema/schema.graphql is stale: run `lms-gateway export-schema -o schema/schema.graphql`"
    )


def test_export_command_writes_the_sdl(tmp_path):
    target = tmp_path / "out.graphql"
    assert main(["export-schema", "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == schema.as_str() + "\n"


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
