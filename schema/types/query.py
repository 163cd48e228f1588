"""The root ``Query``: lookups and the top-level lists."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, TypeAlias

import strawberry

from gateway.domain import model
from gateway.domain.pagination import Cursors
from gateway.domain.querying import filter_courses, filter_groups, filter_users, order_records
from gateway.errors import BadUserInput
from gateway.execution.context import Info
from schema.types import descriptions
from schema.types.course_items import CourseItem
from schema.types.courses import Course, CourseFilter, CourseOrder
from schema.types.enrollments import CourseEnrollment, CourseEnrollmentFilter, enrollment_connection
from schema.types.groups import Group, GroupFilter
from schema.types.lists import (
    After,
    Before,
    First,
    Last,
    RemoteQuery,
    page_args,
    remote_params,
    wants_total,
)
from schema.types.node import Node, NodeRecord, load_node, look_up
from schema.types.pagination import Connection, connection_from_list, connection_from_provider
from schema.types.shared import Category, resolver_field
from schema.types.users import User, UserFilter, UserOrder

__all__ = ["Query"]

# What a user lookup can be asked for (the value goes into the LMS's URL path). Narrower
# than RFC 5322 on purpose: a value with ",", ":", "/", "%" or spaces could only be a
# mistake or an attempt to reach another record, so it is refused before any call.
_EMAIL = re.compile(r"[A-Za-z0-9._+'-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_USERNAME = re.compile(r"[A-Za-z0-9._@+-]{1,150}")
_MAX_EMAIL = 254
MAX_NODES = 100


def _lookup_value(name: str, value: str) -> str:
    """An email or username that can name an LMS user; ``BAD_USER_INPUT`` otherwise."""
    if name == "email":
        if len(value) > _MAX_EMAIL or not _EMAIL.fullmatch(value):
            raise BadUserInput("email is not an email address")
    elif not _USERNAME.fullmatch(value):
        raise BadUserInput("username must be 1 to 150 letters, digits or . _ @ + -")
    return value


async def _nothing_to_load() -> list[model.CourseEnrollment]:
    return []


LookupId: TypeAlias = Annotated[
    strawberry.ID | None, strawberry.argument(description=descriptions.LOOKUP_ID)
]
LookupRemoteId: TypeAlias = Annotated[
    strawberry.ID | None, strawberry.argument(description=descriptions.LOOKUP_REMOTE_ID)
]


@strawberry.type(description=descriptions.QUERY)
class Query:
    @resolver_field(
        description="A user by exactly one of id, remoteId, email or username; null if none. "
        "One call for the user's record (none when the operation has already read it), or one "
        "lookup call by email; by username, as the `username` argument says.",
        graphql_type=User | None,
    )
    async def user(
        self,
        info: Info,
        id: LookupId = None,
        remote_id: LookupRemoteId = None,
        email: Annotated[
            str | None,
            strawberry.argument(
                description=f"An email address, at most {_MAX_EMAIL} characters (anything "
                "else is BAD_USER_INPUT, before any call): one lookup call."
            ),
        ] = None,
        username: Annotated[
            str | None,
            strawberry.argument(
                description="A `username`: 1 to 150 letters, digits or . _ @ + - (anything "
                "else is BAD_USER_INPUT, before any call). One lookup call where the LMS looks "
                "users up by username, else one read of the whole user list per operation."
            ),
        ] = None,
    ) -> model.User | None:
        given = (id, remote_id, email, username)
        if sum(v is not None for v in given) != 1 or "" in given:
            raise BadUserInput("user needs exactly one of id, remoteId, email or username")
        loaders = info.context.loaders
        if id is not None or remote_id is not None:
            return await look_up(info, "User", loaders.user_by_id, id, remote_id)
        if email is not None:
            return await loaders.user_by_email.load(_lookup_value("email", email))
        return await loaders.user_by_username.load(_lookup_value("username", username or ""))

    @resolver_field(
        description="Users; by default in the LMS's order. Where the LMS pages its user list, "
        "only the upstream pages that hold the page asked for are read, unless `filter`, "
        "`orderBy`, `remoteQuery`, `totalCount` or `last` without `before` needs the whole "
        "list.",
        graphql_type=Connection[User] | None,
    )
    async def users(
        self,
        info: Info,
        filter: Annotated[
            UserFilter | None,
            strawberry.argument(
                description="Which users to list, applied in the gateway before paging. With "
                "`email` (or `username`, where the LMS looks users up by it), one lookup call "
                "replaces reading the whole list."
            ),
        ] = None,
        order_by: Annotated[
            UserOrder | None,
            strawberry.argument(
                description="How to sort, in the gateway after reading the whole list; "
                "without it, the LMS's order."
            ),
        ] = None,
        remote_query: RemoteQuery = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[model.User]:
        args = page_args(first, after, last, before)
        query = filter.to_query() if filter is not None else None
        order = order_by.to_query() if order_by is not None else None
        remote = remote_params(info, "users", remote_query)
        cursors = Cursors(info.context.account_id, "users", query, order, remote)
        cursors.check(args)
        provider = info.context.provider
        if (
            query is None
            and order is None
            and not remote
            and not args.needs_total
            and not (wants_total(info))
        ):
            # Only a window is needed: let the provider page upstream.
            return await connection_from_provider(cursors, args, provider.list_users)
        users = await provider.all_users(query, order, remote)
        if query is not None:
            users = filter_users(users, query)
        return connection_from_list(cursors, order_records(users, order), args)

    @resolver_field(
        description="A course by exactly one of id or remoteId; null when there is none. One "
        "call for the course's record (none when the operation has already read it), which on "
        "some LMSs holds the course's items and roster too.",
        graphql_type=Course | None,
    )
    async def course(
        self, info: Info, id: LookupId = None, remote_id: LookupRemoteId = None
    ) -> model.Course | None:
        return await look_up(info, "Course", info.context.loaders.course_by_id, id, remote_id)

    @resolver_field(
        description="Courses; by default in the catalog's order. The whole catalog is read "
        "(one call per upstream page) and paged in the gateway.",
        graphql_type=Connection[Course] | None,
    )
    async def courses(
        self,
        info: Info,
        filter: Annotated[
            CourseFilter | None,
            strawberry.argument(
                description="Which courses to list, applied in the gateway before paging. A "
                "category given by name can add one call that reads every category's name."
            ),
        ] = None,
        order_by: Annotated[
            CourseOrder | None,
            strawberry.argument(
                description="How to sort, in the gateway; without it, the catalog's order."
            ),
        ] = None,
        remote_query: RemoteQuery = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[model.Course]:
        args = page_args(first, after, last, before)
        query = filter.to_query(info) if filter is not None else None
        order = order_by.to_query() if order_by is not None else None
        remote = remote_params(info, "courses", remote_query)
        cursors = Cursors(info.context.account_id, "courses", query, order, remote)
        cursors.check(args)
        if filter is not None and query is None:
            return connection_from_list(cursors, [], args)  # another account's category
        courses = await info.context.provider.all_courses(query, order, remote)
        if query is not None:
            names: dict[str, str] = {}
            if query.category and not query.category.isdigit():
                # A category named, not numbered: its name costs one categories call.
                ids = sorted({c.id for course in courses for c in course.categories})
                loaded = await info.context.loaders.category_by_id.load_many(ids)
                names = {c.id: c.name for c in loaded if c is not None and c.name}
            courses = filter_courses(courses, query, names)
        return connection_from_list(cursors, order_records(courses, order), args)

    @resolver_field(
        description="A course item by exactly one of id or remoteId (`{courseId}:{itemId}`), "
        "read from its course's outline: one call per course; null when there is none.",
        graphql_type=CourseItem | None,
    )
    async def course_item(
        self, info: Info, id: LookupId = None, remote_id: LookupRemoteId = None
    ) -> model.CourseItem | None:
        return await look_up(
            info, "CourseItem", info.context.loaders.course_item_by_id, id, remote_id
        )

    @resolver_field(
        description="An enrollment by exactly one of id or remoteId (`{userId}:{courseId}`), "
        "read with its user's enrollments: one or two calls (the user's courses and, where the "
        "LMS keeps it apart, their progress); null when there is none.",
        graphql_type=CourseEnrollment | None,
    )
    async def course_enrollment(
        self, info: Info, id: LookupId = None, remote_id: LookupRemoteId = None
    ) -> model.CourseEnrollment | None:
        return await look_up(
            info, "CourseEnrollment", info.context.loaders.enrollment_by_id, id, remote_id
        )

    @resolver_field(
        description="A course category by exactly one of id or remoteId; null when there is "
        "none. One read of every category (or of the catalog that names them), once per "
        "operation.",
        graphql_type=Category | None,
    )
    async def category(
        self, info: Info, id: LookupId = None, remote_id: LookupRemoteId = None
    ) -> model.Category | None:
        return await look_up(info, "Category", info.context.loaders.category_by_id, id, remote_id)

    @resolver_field(
        description="A group by exactly one of id or remoteId; null when there is none. One "
        "call for the group's record, which lists its courses; its members come with it or "
        "cost one more call, depending on the LMS.",
        graphql_type=Group | None,
    )
    async def group(
        self, info: Info, id: LookupId = None, remote_id: LookupRemoteId = None
    ) -> model.Group | None:
        return await look_up(info, "Group", info.context.loaders.group_by_id, id, remote_id)

    @resolver_field(
        description="Groups of users, in the LMS's order. The whole group list is read (one "
        "call per upstream page), paged and searched in the gateway; a group's members, and "
        "its courses where the list lacks them, cost one call per group on the page.",
        graphql_type=Connection[Group] | None,
    )
    async def groups(
        self,
        info: Info,
        filter: Annotated[
            GroupFilter | None,
            strawberry.argument(
                description="Which groups to list, applied in the gateway before paging."
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[model.Group]:
        args = page_args(first, after, last, before)
        query = filter.to_query() if filter is not None else None
        cursors = Cursors(info.context.account_id, "groups", query)
        cursors.check(args)
        groups = await info.context.provider.all_groups()
        if query is not None:
            groups = filter_groups(groups, query)
        return connection_from_list(cursors, groups, args)

    @resolver_field(
        description="Any record by its global id (the Relay spec's refetch); null when the id "
        "names nothing in this account.",
        graphql_type=Node | None,
    )
    async def node(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(
                description="A global id of any type, as an `id` field gives it; a string that "
                "is no id of this API is BAD_USER_INPUT."
            ),
        ],
    ) -> NodeRecord | None:
        return await load_node(info, id, "id")

    @resolver_field(
        description=f"Records by their global ids, in the order asked, null where an id names "
        f"nothing in this account; at most {MAX_NODES} ids, of any types (one loader batch "
        "per type).",
        graphql_type=list[Node | None],
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description=f"Global ids of any types, at most {MAX_NODES} (more is "
                "BAD_USER_INPUT)."
            ),
        ],
    ) -> list[NodeRecord | None]:
        if len(ids) > MAX_NODES:
            raise BadUserInput(f"nodes takes at most {MAX_NODES} ids")
        return list(
            await asyncio.gather(
                *(load_node(info, id, f"ids[{index}]") for index, id in enumerate(ids))
            )
        )

    @resolver_field(
        description="Enrollments of a user or of a course (one of userId and courseId is "
        "required, as the LMSs have no list of all enrollments), narrowed by the filter.",
        graphql_type=Connection[CourseEnrollment] | None,
    )
    async def course_enrollments(
        self,
        info: Info,
        filter: Annotated[
            CourseEnrollmentFilter,
            strawberry.argument(
                description="Whose enrollments: `userId` (the user's enrollments, as "
                "`User.enrollments` reads them) or `courseId` (the course's roster, as "
                "`Course.enrollments` reads it); the other fields narrow that list in the "
                "gateway before paging."
            ),
        ],
        remote_query: RemoteQuery = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[model.CourseEnrollment]:
        remote_params(info, "courseEnrollments", remote_query)
        loaders = info.context.loaders
        query = filter.to_query(info)
        if filter.user_id is None and filter.course_id is None:
            raise BadUserInput("courseEnrollments needs filter.userId or filter.courseId")
        load: Callable[[], Awaitable[list[model.CourseEnrollment] | None]]
        if query is not None and query.user_id is not None:
            parent = f"user:{query.user_id}"
            load = partial(loaders.enrollments_by_user_id.load, query.user_id)
        elif query is not None and query.course_id is not None:
            parent = f"course:{query.course_id}"
            load = partial(loaders.enrollments_by_course_id.load, query.course_id)
        else:  # another account's user or course: enrollment_connection answers nothing
            parent, load = "foreign", _nothing_to_load
        return await enrollment_connection(
            info, "courseEnrollments", parent, load, filter, page_args(first, after, last, before)
        )
