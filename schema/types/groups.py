"""GraphQL ``Group``: users the LMS manages together, usually with courses in common."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from gateway.domain import model, querying
from gateway.domain.pagination import Cursors
from gateway.execution.context import Info
from schema.types import descriptions
from schema.types.descriptions import NOT_RECORDED
from schema.types.links import courses_from_refs, users_from_refs
from schema.types.lists import After, Before, First, Last, page_args, to_query
from schema.types.node import Node, node_id_field, remote_id_field
from schema.types.pagination import Connection, connection_from_refs
from schema.types.scalars import JSON
from schema.types.shared import resolver_field

if TYPE_CHECKING:
    from schema.types.courses import Course
    from schema.types.users import User

__all__ = ["Group", "GroupFilter"]

_User = Annotated["User", strawberry.lazy("schema.types.users")]
_Course = Annotated["Course", strawberry.lazy("schema.types.courses")]


@strawberry.type(
    description="A set of users the LMS manages together, usually with courses in common: "
    "the LMS's groups or user groups (branches are organizations, not groups)."
)
class Group(Node):
    id: strawberry.ID = node_id_field("Group")
    remote_id: strawberry.ID = remote_id_field()
    name: str | None = strawberry.field(description="Name.")
    description: str | None = strawberry.field(
        description="Description, as the LMS has it: HTML is kept as sent."
    )
    created_at: datetime | None = strawberry.field(
        description=f"{descriptions.CREATED_AT} {NOT_RECORDED}"
    )
    updated_at: datetime | None = strawberry.field(
        description=f"{descriptions.UPDATED_AT} {NOT_RECORDED}"
    )
    custom_fields: JSON = strawberry.field(
        description="LMS extras the unified fields have no place for, as a JSON object, such "
        "as a price and currency, an owner or managers, tags given to members, and limits on "
        "members or redemptions."
    )
    remote_data: JSON | None = strawberry.field(
        description=f"{descriptions.REMOTE_DATA} A group's join key, which lets whoever holds "
        "it join the group, is removed too."
    )

    @resolver_field(
        description="The group's members, in the LMS's order: one call per group (shared with "
        "the group's record where it lists them). Selecting only their id or remoteId costs "
        "nothing more; any other field reads each member's record on the page (one call per "
        "member not already read, none where the member list holds whole records).",
        graphql_type=Connection[_User] | None,
    )
    async def members(
        root: strawberry.Parent[model.Group],
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[model.User]:
        args = page_args(first, after, last, before)
        cursors = Cursors(info.context.account_id, "Group.members", root.id)
        cursors.check(args)
        refs = await info.context.loaders.group_members_by_group_id.load(root.id) or []
        return await connection_from_refs(
            cursors, refs, args, lambda page: users_from_refs(info, page)
        )

    @resolver_field(
        description="Courses assigned to the group, in the LMS's order, as the group's record "
        "lists them (one call per group that came from a list without them). Selecting only "
        "their id or remoteId costs nothing more, nor does title where the record names its "
        "courses; any other field loads each course on the page (one call per course not "
        "already read).",
        graphql_type=Connection[_Course] | None,
    )
    async def courses(
        root: strawberry.Parent[model.Group],
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[model.Course]:
        args = page_args(first, after, last, before)
        cursors = Cursors(info.context.account_id, "Group.courses", root.id)
        cursors.check(args)
        group = root
        detail_only = info.context.provider.detail_only_fields.get("Group", frozenset())
        if root.partial and "courses" in detail_only:
            group = await info.context.loaders.group_by_id.load(root.id) or root
        return await connection_from_refs(
            cursors, group.courses or [], args, lambda page: courses_from_refs(info, page)
        )


@strawberry.input(description="Which groups to list.")
class GroupFilter:
    search: str | None = strawberry.field(default=None, description="Part of the name, any case.")

    def to_query(self) -> querying.GroupFilter:
        return to_query(self, querying.GroupFilter)
