"""GraphQL ``User``: a person in the LMS (unified model §2)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway import model
from gateway.context import Info
from schema.enums import UserRole, UserStatus
from schema.pagination import DEFAULT_PAGE_SIZE, Connection, connection_from_list
from schema.scalars import JSON
from schema.shared import Email, Organization, Phone, with_detail

if TYPE_CHECKING:
    from schema.enrollments import CourseEnrollment

__all__ = ["User"]

_Enrollment = Annotated["CourseEnrollment", strawberry.lazy("schema.enrollments")]


@strawberry.type(description="A person in the LMS: learner, instructor, administrator.")
class User:
    id: strawberry.ID
    first_name: str | None
    last_name: str | None
    name: str | None = strawberry.field(description="Display name.")
    username: str | None = strawberry.field(description="Login name.")
    emails: list[Email]
    status: UserStatus | None
    role: UserRole | None
    phones: list[Phone]
    locale: str | None
    timezone: str | None = strawberry.field(description="The provider's time zone label.")
    job_title: str | None
    created_at: datetime | None
    updated_at: datetime | None
    custom_fields: JSON = strawberry.field(description="Provider and customer extras.")
    remote_data: JSON | None = strawberry.field(description="The provider's record as it came.")

    @strawberry.field(description="Organization or tenant (TalentLMS: the first branch).")
    async def organization(root: strawberry.Parent[model.User], info: Info) -> Organization | None:
        user = await with_detail(info, "User", "organization", root)
        return user.organization  # type: ignore[union-attr, return-value]

    @strawberry.field(description="The user's manager, where the provider has one.")
    async def manager(root: strawberry.Parent[model.User], info: Info) -> User | None:
        if root.manager is None:
            return None
        return await info.context.loaders.user_by_id.load(root.manager.id)  # type: ignore[return-value]

    @strawberry.field(description="Courses this user is enrolled in.")
    async def enrollments(
        root: strawberry.Parent[model.User],
        info: Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[_Enrollment] | None:
        enrollments = await info.context.loaders.enrollments_by_user_id.load(root.id) or []
        return connection_from_list("User.enrollments", enrollments, first, after)  # type: ignore[return-value]
