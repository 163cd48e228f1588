"""Small shapes shared by the four resources (unified model §1), and what their resolvers
share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeAlias, TypeVar

import strawberry

# Private path: tests/test_strawberry_internals.py.
from strawberry.types.field import StrawberryField

from gateway.domain import model
from gateway.execution.context import Info
from schema.types.node import Node, node_id_field, remote_id_field

__all__ = [
    "Category",
    "Email",
    "MaybeAwaitable",
    "Organization",
    "Phone",
    "Url",
    "mutation_field",
    "resolver_field",
    "with_detail",
]

T = TypeVar("T")
R = TypeVar("R", model.User, model.CourseEnrollment)

MaybeAwaitable: TypeAlias = T | Awaitable[T]
"""What a sync resolver returns when its value may need loading first."""


def mutation_field(*, description: str) -> Callable[[Callable[..., object]], StrawberryField]:
    """``@strawberry.mutation(...)`` with a type the checker can follow (as ``resolver_field``)."""

    def decorate(resolver: Callable[..., object]) -> StrawberryField:
        return strawberry.mutation(resolver, description=description)

    return decorate


def resolver_field(
    *, description: str | None = None, name: str | None = None, graphql_type: object = None
) -> Callable[[Callable[..., object]], StrawberryField]:
    """``@strawberry.field(...)`` with a type the checker can follow.

    Strawberry types that call as ``Any`` (the same call declares fields without a
    resolver), which would leave every resolver below it untyped. ``graphql_type`` is the
    field's GraphQL type when the resolver returns the model's records instead.
    """

    def decorate(resolver: Callable[..., object]) -> StrawberryField:
        return strawberry.field(
            resolver, description=description, name=name, graphql_type=graphql_type
        )

    return decorate


@strawberry.type(description="An email address of a user.")
class Email:
    email: str = strawberry.field(description="The address.")
    type: str | None = strawberry.field(
        description="Kind of address, a free string; null where the LMS does not record it."
    )
    is_primary: bool | None = strawberry.field(
        description="Whether this is the user's main address: true for the one address of an "
        "LMS that records one per user."
    )


@strawberry.type(description="A phone number of a user.")
class Phone:
    number: str = strawberry.field(description="The number, as the LMS has it.")
    extension: str | None = strawberry.field(description="The extension, if any.")
    type: str | None = strawberry.field(description="Kind of number, a free string.")


@strawberry.type(description="A URL related to a record, e.g. a launch link.")
class Url:
    url: str = strawberry.field(description="The URL itself.")
    type: str | None = strawberry.field(
        description="What the URL is for, a free string, e.g. public (a course's public page), "
        "image (a course's image), launch (an item) or last_accessed_unit (an enrollment)."
    )


@strawberry.type(description="Organization or tenant a record belongs to.")
class Organization(Node):
    id: strawberry.ID = node_id_field("Organization")
    remote_id: strawberry.ID = remote_id_field()
    name: str | None = strawberry.field(description="Name, e.g. a branch's name.")


@strawberry.type(description="A course category.")
class Category(Node):
    id: strawberry.ID = node_id_field("Category")
    remote_id: strawberry.ID = remote_id_field()

    @resolver_field(
        description="Name. Where courses name only their categories' ids, one call reads "
        "every category's name, once per operation."
    )
    async def name(root: strawberry.Parent[model.Category], info: Info) -> str | None:
        # Courses name only their category id; the name costs one categories call.
        if root.name is not None:
            return root.name
        category = await info.context.loaders.category_by_id.load(root.id)
        return category.name if category else None


def with_detail(
    info: Info, type_name: str, field: str, root: R, read: Callable[[R], T]
) -> MaybeAwaitable[T]:
    """``root``'s ``field``, as ``read`` gets it; when ``root`` is partial and lacks it, an
    awaitable of the field from the full record.

    Plain values stay plain: an async resolver costs a coroutine per object, and an object
    with two awaitable fields a task per field (graphql-core gathers them), for data the
    parent already holds.
    """
    if not root.partial or field not in info.context.provider.detail_only_fields.get(type_name, ()):
        return read(root)
    return _from_detail(info, root, read)


async def _from_detail(info: Info, root: R, read: Callable[[R], T]) -> T:
    loaders = info.context.loaders
    if isinstance(root, model.User):
        return read(await loaders.user_by_id.load(root.id) or root)
    return read(await loaders.enrollment_by_id.load(root.id) or root)
