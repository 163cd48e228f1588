"""What an operation selects, read from its document (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable

from graphql import DocumentNode, GraphQLSchema, TypeInfo, TypeInfoVisitor, Visitor, visit
from graphql.language import FieldNode
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

__all__ = ["field_names", "selected_fields", "selects_only"]


def selected_fields(schema: GraphQLSchema, document: DocumentNode) -> set[tuple[str, str]]:
    """Every ``(parent type, field)`` pair the document selects, fragments included."""
    type_info = TypeInfo(schema)
    found: set[tuple[str, str]] = set()

    class _Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            parent = type_info.get_parent_type()
            if parent is not None:
                found.add((parent.name, node.name.value))

    visit(document, TypeInfoVisitor(type_info, _Collect()))
    return found


def field_names(selections: Iterable[Selection]) -> set[str]:
    """Names of the fields selected directly below a field, looking through fragments."""
    names: set[str] = set()
    for selection in selections:
        if isinstance(selection, SelectedField):
            names.add(selection.name)
        elif isinstance(selection, FragmentSpread | InlineFragment):
            names |= field_names(selection.selections)
    return names


def selects_only(selections: Iterable[Selection], allowed: frozenset[str]) -> bool:
    return field_names(selections) <= allowed
