"""GraphQL ``User``: a person in the LMS (unified model §2)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain import model, querying
from gateway.execution.context import Info
from schema.types.enrollments import CourseEnrollmentFilter, enrollment_connection
from schema.types.enums import OrderDirection, UserOrderField, UserRole, UserStatus
from schema.types.lists import RecordDatesInput, page_args, to_query
from schema.types.node import Node, node_id_field, remote_id_field
from schema.types.pagination import Connection
from schema.types.scalars import JSON
from schema.types.shared import (
    Email,
    MaybeAwaitable,
    Organization,
    Phone,
    resolver_field,
    with_detail,
)

if TYPE_CHECKING:
    from schema.types.enrollments import CourseEnrollment

__all__ = ["User", "UserFilter", "UserOrder"]

_Enrollment = Annotated["CourseEnrollment", strawberry.lazy("schema.types.enrollments")]


@strawberry.type(description="A person in the LMS: learner, instructor, administrator.")
class User(Node):
    id: strawberry.ID = node_id_field("User")
    remote_id: strawberry.ID = remote_id_field()
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

    @resolver_field(
        description="Organization or tenant (TalentLMS: the first branch).",
        graphql_type=Organization | None,
    )
    def organization(
        root: strawberry.Parent[model.User], info: Info
    ) -> MaybeAwaitable[model.Organization | None]:
        return with_detail(info, "User", "organization", root, lambda user: user.organization)

    @resolver_field(
        description="The user's manager, where the provider has one.", graphql_type="User | None"
    )
    async def manager(root: strawberry.Parent[model.User], info: Info) -> model.User | None:
        if root.manager is None:
            return None
        return await info.context.loaders.user_by_id.load(root.manager.id)

    @resolver_field(
        description="Courses this user is enrolled in, in the provider's order.",
        graphql_type=Connection[_Enrollment] | None,
    )
    async def enrollments(
        root: strawberry.Parent[model.User],
        info: Info,
        filter: CourseEnrollmentFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[model.CourseEnrollment]:
        return await enrollment_connection(
            info,
            "User.enrollments",
            root.id,
            lambda: info.context.loaders.enrollments_by_user_id.load(root.id),
            filter,
            page_args(first, after, last, before),
        )


@strawberry.input(
    description="Which users to list. Date bounds: …After is inclusive, …Before exclusive."
)
class UserFilter(RecordDatesInput):
    status: list[UserStatus] | None = None
    role: list[UserRole] | None = None
    email: str | None = None
    username: str | None = None
    search: str | None = strawberry.field(
        default=None, description="Part of the name, username or email, any case."
    )

    def to_query(self) -> querying.UserFilter:
        return to_query(self, querying.UserFilter)


@strawberry.input(description="How to sort users; ties keep the provider's order.")
class UserOrder:
    field: UserOrderField
    direction: OrderDirection = OrderDirection.ASC

    def to_query(self) -> querying.Order:
        return to_query(self, querying.Order)
