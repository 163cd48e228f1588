"""The exported SDL explains itself (docs/api.md, "Schema conventions").

graphql-schema-linter (the Node project in tests/schema-lint/, its rules in
``graphql-schema-linter.config.js``) lints the committed ``schema/schema.graphql`` and
``schema/schema.federation.graphql``. The same description rules, and a few the linter lacks
(every description capitalized and ending with a period, arguments and enum values included),
are also checked here in Python with graphql-core, so a machine without Node still catches an
element without a description.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from graphql import (
    DefinitionNode,
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    TypeDefinitionNode,
    Visitor,
    parse,
    print_ast,
    print_directive,
    print_type,
    visit,
)
from graphql.language import Node as AstNode

from schema import SDL_PATH, SUBGRAPH_SDL_PATH, build_schema
from schema.validation.limits import OperationLimits
from tests.support import node_tool

LINT_PROJECT = Path(__file__).resolve().parent / "schema-lint"
LINTER = LINT_PROJECT / "node_modules" / "graphql-schema-linter" / "lib" / "cli.js"
# The Federation 2 definitions the subgraph SDL imports with @link instead of defining them.
FEDERATION_DIRECTIVES = LINT_PROJECT / "federation-directives.graphql"

SCHEMAS = {
    "schema.graphql": (SDL_PATH,),
    "schema.federation.graphql": (SUBGRAPH_SDL_PATH, FEDERATION_DIRECTIVES),
}
DESCRIPTION_RULES = {
    "types-have-descriptions",
    "fields-have-descriptions",
    "arguments-have-descriptions",
    "input-object-values-have-descriptions",
    "enum-values-have-descriptions",
}


def lint_command() -> list[str]:
    """``node graphql-schema-linter`` with the project's rules (skipped without Node, except
    in CI)."""
    node = node_tool(LINT_PROJECT, LINTER, "the schema lint")
    return [node, str(LINTER), "--config-directory", str(LINT_PROJECT), "--format", "json"]


def lint(*files: Path) -> tuple[int, list[dict[str, object]], str]:
    """The linter's exit code, its errors and what it wrote to stderr (warnings such as a
    misspelt rule name in the configuration)."""
    run = subprocess.run(
        [*lint_command(), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=LINT_PROJECT,
    )
    try:
        errors = json.loads(run.stdout)["errors"]
    except (ValueError, KeyError):
        pytest.fail(f"graphql-schema-linter answered no report:\n{run.stdout}{run.stderr}")
    return run.returncode, errors, run.stderr


def report(errors: list[dict[str, object]]) -> str:
    return "\n".join(
        f"{error['location']['file']}:{error['location']['line']} "  # type: ignore[index]
        f"{error['message']} ({error['rule']})"
        for error in errors
    )


@pytest.mark.node
@pytest.mark.parametrize("name", SCHEMAS)
def test_the_committed_sdl_passes_the_schema_lint(name: str):
    code, errors, warnings = lint(*SCHEMAS[name])
    assert not errors, f"graphql-schema-linter on {name}:\n{report(errors)}"
    assert code == 0 and not warnings, warnings


class _WithoutDescriptions(Visitor):
    def leave(self, node: AstNode, *_: object) -> AstNode | None:
        if getattr(node, "description", None) is None:
            return None  # unchanged
        return dataclasses.replace(node, description=None)  # type: ignore[type-var]


def _without_descriptions(document: DocumentNode) -> DocumentNode:
    """The document with every description left out (graphql-core's nodes are frozen)."""
    return visit(document, _WithoutDescriptions())


@pytest.mark.node
def test_the_lint_finds_every_kind_of_missing_description(tmp_path: Path):
    """The configuration is read and its description rules are on: an SDL stripped of its
    descriptions fails each of them."""
    bare = tmp_path / "bare.graphql"
    bare.write_text(print_ast(_without_descriptions(parse(SDL_PATH.read_text()))))
    code, errors, _ = lint(bare)
    assert code == 1
    assert {error["rule"] for error in errors} >= DESCRIPTION_RULES


# --- the same rules in Python, over the committed SDL ---------------------------------------


def described_elements(document: DocumentNode) -> Iterator[tuple[str, str | None]]:
    """``(coordinate, description)`` of every type, field, argument, input field and enum
    value the SDL defines (``Type``, ``Type.field``, ``Type.field(arg:)``, ``Enum.VALUE``)."""
    for definition in document.definitions:
        if not isinstance(definition, TypeDefinitionNode):
            continue  # `extend schema @link(…)` of the subgraph
        name = definition.name.value
        yield name, _text(definition)
        if isinstance(
            definition,
            ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode | InputObjectTypeDefinitionNode,
        ):
            for field in definition.fields or ():
                yield f"{name}.{field.name.value}", _text(field)
                for argument in getattr(field, "arguments", None) or ():
                    coordinate = f"{name}.{field.name.value}({argument.name.value}:)"
                    yield coordinate, _text(argument)
        elif isinstance(definition, EnumTypeDefinitionNode):
            for value in definition.values or ():
                yield f"{name}.{value.name.value}", _text(value)


def _text(node: DefinitionNode | AstNode) -> str | None:
    description = getattr(node, "description", None)
    return description.value if description is not None else None


@pytest.mark.unit
@pytest.mark.parametrize("name", SCHEMAS)
def test_every_element_of_the_committed_sdl_has_a_description(name: str):
    document = parse(SCHEMAS[name][0].read_text(encoding="utf-8"))
    elements = dict(described_elements(document))
    assert len(elements) > 100, "the walk over the SDL found too little to check"
    missing = sorted(coordinate for coordinate, text in elements.items() if not text)
    assert not missing, f"{name}: elements without a description: {missing}"


@pytest.mark.unit
@pytest.mark.parametrize("name", SCHEMAS)
def test_every_description_is_capitalized_and_ends_with_a_period(name: str):
    document = parse(SCHEMAS[name][0].read_text(encoding="utf-8"))
    wrong = sorted(
        f"{coordinate}: {text!r}"
        for coordinate, text in described_elements(document)
        if text and (text[0].islower() or not text.rstrip().endswith("."))
    )
    assert not wrong, f"{name}: descriptions must start with a capital and end with a period:\n" + (
        "\n".join(wrong)
    )


@pytest.mark.unit
def test_the_walk_sees_every_kind_of_element():
    document = parse(
        '"T." type Query { "F." f("A." a: Int, b: Int): E g: Int }\n'
        '"E." enum E { "V." V W }\n"I." input I { "X." x: Int y: Int }\nscalar S\n'
    )
    missing = {coordinate for coordinate, text in described_elements(document) if not text}
    assert missing == {"Query.f(b:)", "Query.g", "E.W", "I.y", "S"}


@pytest.mark.unit
def test_the_federation_definitions_the_lint_reads_are_the_subgraph_schemas():
    """tests/schema-lint/federation-directives.graphql stands in for what the subgraph SDL
    imports: each definition there is the subgraph schema's own, descriptions aside."""
    registered = build_schema(OperationLimits(), federation=True)._schema
    definitions = parse(FEDERATION_DIRECTIVES.read_text(encoding="utf-8")).definitions
    assert definitions
    for definition in definitions:
        assert isinstance(definition, DirectiveDefinitionNode | TypeDefinitionNode)
        name = definition.name.value
        if isinstance(definition, DirectiveDefinitionNode):
            directive = registered.get_directive(name)
            assert directive is not None, f"the subgraph schema has no @{name}"
            printed = print_directive(directive)
        else:
            graphql_type = registered.get_type(name)
            assert graphql_type is not None, f"the subgraph schema has no {name}"
            printed = print_type(graphql_type)
        ours = print_ast(_without_descriptions(DocumentNode(definitions=(definition,))))
        theirs = print_ast(_without_descriptions(parse(printed)))
        assert ours == theirs, f"{FEDERATION_DIRECTIVES.name}: {name} differs"
