"""Small shapes shared by the four resources (unified model §1)."""

from __future__ import annotations

from typing import Any

import strawberry

from gateway.domain import model
from gateway.execution.context import Info

__all__ = ["Category", "Email", "Organization", "Phone", "Url", "with_detail"]


@strawberry.type(description="An email address of a user.")
class Email:
    email: str
    type: str | None
    is_primary: bool | None


@strawberry.type(description="A phone number of a user.")
class Phone:
    number: str
    extension: str | None
    type: str | None


@strawberry.type(description="A URL related to a record, e.g. a launch link.")
class Url:
    url: str
    type: str | None


@strawberry.type(description="Organization or tenant a record belongs to.")
class Organization:
    id: strawberry.ID
    name: str | None


@strawberry.type(description="A course category.")
class Category:
    id: strawberry.ID

    @strawberry.field
    async def name(root: strawberry.Parent[model.Category], info: Info) -> str | None:
        # Courses name only their category id; the name costs one categories call.
        if root.name is not None:
            return root.name
        category = await info.context.loaders.category_by_id.load(root.id)
        return category.name if category else None


def with_detail(
    info: Info, type_name: str, field: str, root: model.User | model.CourseEnrollment
) -> Any:
    """``root``'s ``field``; when ``root`` is partial and lacks it, an awaitable of the field
    from the full record.

    Plain values stay plain: an async resolver costs a coroutine per object, and an object
    with two awaitable fields a task per field (graphql-core gathers them), for data the
    parent already holds.
    """
    if not root.partial or field not in info.context.provider.detail_only_fields.get(type_name, ()):
        return getattr(root, field)
    return _from_detail(info, field, root)


async def _from_detail(info: Info, field: str, root: model.User | model.CourseEnrollment) -> Any:
    loaders = info.context.loaders
    loader = loaders.user_by_id if isinstance(root, model.User) else loaders.enrollment_by_id
    return getattr(await loader.load(root.id) or root, field)
