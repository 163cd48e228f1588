"""GraphQL ``User``: a person in the LMS (unified model §2)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain import model, querying
from gateway.execution.context import Info
from schema.types import descriptions
from schema.types.descriptions import NOT_RECORDED
from schema.types.enrollments import (
    USER_ENROLLMENTS_FILTER,
    CourseEnrollmentFilter,
    enrollment_connection,
)
from schema.types.enums import OrderDirection, UserOrderField, UserRole, UserStatus
from schema.types.links import groups_from_refs
from schema.types.lists import After, Before, First, Last, RecordDatesInput, page_args, to_query
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
    from schema.types.groups import Group

__all__ = ["User", "UserFilter", "UserOrder"]

_Enrollment = Annotated["CourseEnrollment", strawberry.lazy("schema.types.enrollments")]
_Group = Annotated["Group", strawberry.lazy("schema.types.groups")]


@strawberry.type(description="A person in the LMS: learner, instructor, administrator.")
class User(Node):
    id: strawberry.ID = node_id_field("User")
    remote_id: strawberry.ID = remote_id_field()
    first_name: str | None = strawberry.field(description="First name, as the LMS sends it.")
    last_name: str | None = strawberry.field(description="Last name, as the LMS sends it.")
    name: str | None = strawberry.field(
        description="Display name: the first and last names joined by a space or, when both "
        "are blank, the LMS's own display name where it records one."
    )
    username: str | None = strawberry.field(
        description="The name the LMS knows the user by: a login name, or a display name where "
        "the LMS has no login names."
    )
    emails: list[Email] = strawberry.field(
        description="Email addresses; an LMS that records one address per user gives it as the "
        "primary one."
    )
    status: UserStatus | None = strawberry.field(
        description="Lifecycle status in the LMS, mapped from the LMS's own status (UserStatus "
        "says how); UNKNOWN for a status the gateway cannot map."
    )
    role: UserRole | None = strawberry.field(
        description="Primary role in the LMS, from its user type or role (UserRole says how)."
    )
    phones: list[Phone] = strawberry.field(
        description="Phone numbers; empty where the LMS records none."
    )
    locale: str | None = strawberry.field(
        description="Locale, e.g. en-US; null where the LMS records none. A language the LMS "
        "records as a display name (English) is in customFields."
    )
    timezone: str | None = strawberry.field(
        description="Time zone, as the LMS labels it: not always an IANA name (e.g. "
        '"(GMT -07:00) Pacific Time"). Null where the LMS does not record it.'
    )
    job_title: str | None = strawberry.field(description=f"Job title. {NOT_RECORDED}")
    created_at: datetime | None = strawberry.field(
        description=f"{descriptions.CREATED_AT} {descriptions.DATE_AS_TEXT}"
    )
    updated_at: datetime | None = strawberry.field(
        description=f"{descriptions.UPDATED_AT} {NOT_RECORDED} {descriptions.DATE_AS_TEXT}"
    )
    custom_fields: JSON = strawberry.field(description=descriptions.CUSTOM_FIELDS)
    remote_data: JSON | None = strawberry.field(description=descriptions.REMOTE_DATA)

    @resolver_field(
        description="Organization or tenant, e.g. the user's first branch; null where the LMS "
        "has none. For a user that came from a list it can cost one call for the user's record.",
        graphql_type=Organization | None,
    )
    def organization(
        root: strawberry.Parent[model.User], info: Info
    ) -> MaybeAwaitable[model.Organization | None]:
        return with_detail(info, "User", "organization", root, lambda user: user.organization)

    @resolver_field(
        description=f"The user's manager. {NOT_RECORDED}",
        graphql_type="User | None",
    )
    async def manager(root: strawberry.Parent[model.User], info: Info) -> model.User | None:
        if root.manager is None:
            return None
        return await info.context.loaders.user_by_id.load(root.manager.id)

    @resolver_field(
        description="Courses this user is enrolled in, in the LMS's order: one call per user "
        "(shared with the user's record where it lists them). Where the LMS keeps progress "
        "apart, selecting a status, progress, completion, time or score field costs one more "
        "call per user.",
        graphql_type=Connection[_Enrollment] | None,
    )
    async def enrollments(
        root: strawberry.Parent[model.User],
        info: Info,
        filter: Annotated[
            CourseEnrollmentFilter | None,
            strawberry.argument(description=USER_ENROLLMENTS_FILTER),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[model.CourseEnrollment]:
        return await enrollment_connection(
            info,
            "User.enrollments",
            root.id,
            lambda: info.context.loaders.enrollments_by_user_id.load(root.id),
            filter,
            page_args(first, after, last, before),
        )

    @resolver_field(
        description="The groups this user is in, in the LMS's order. Their ids and names cost "
        "one call per user (shared with the user's record where it lists them); any other "
        "field but `members` costs one read of the group list per operation, and `courses`, "
        "where that list lacks them, one call per group.",
        graphql_type=list[_Group] | None,
    )
    async def groups(root: strawberry.Parent[model.User], info: Info) -> list[model.Group]:
        refs = await info.context.loaders.groups_by_user_id.load(root.id) or []
        return await groups_from_refs(info, refs)


@strawberry.input(
    description="Which users to list. Date bounds: …After is inclusive, …Before exclusive."
)
class UserFilter(RecordDatesInput):
    status: list[UserStatus] | None = strawberry.field(
        default=None, description=descriptions.ANY_OF
    )
    role: list[UserRole] | None = strawberry.field(default=None, description=descriptions.ANY_OF)
    email: str | None = strawberry.field(
        default=None,
        description="One of the user's email addresses, whole, any case: one lookup call "
        "instead of reading the whole list.",
    )
    username: str | None = strawberry.field(
        default=None,
        description="The `username`, whole, any case. Where the LMS looks users up by "
        "username, one lookup call instead of reading the whole list (with `email` too, the "
        "email is looked up).",
    )
    search: str | None = strawberry.field(
        default=None, description="Part of the name, username or email, any case."
    )

    def to_query(self) -> querying.UserFilter:
        return to_query(self, querying.UserFilter)


@strawberry.input(description="How to sort users; ties keep the LMS's order.")
class UserOrder:
    field: UserOrderField = strawberry.field(description=descriptions.ORDER_FIELD)
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.ASC, description=descriptions.ORDER_DIRECTION
    )

    def to_query(self) -> querying.Order:
        return to_query(self, querying.Order)
