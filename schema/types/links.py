"""Following a reference (``{id, title}``) to the record it names, only when needed.

A reference already holds a few fields; when the query selects nothing else, the
reference answers and no upstream call is made. A course's ``items`` and ``enrollments``
need only its id (they load what they show), so a reference answers them too: their call
is made when they resolve, which for a deferred outline (``... @defer { items }``) is after
the part with the course's title has been sent, not before. The ``…_from_refs`` helpers do
the same for a page of references at once (a connection's records), in one loader batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from gateway.domain import model
from gateway.execution.context import Info
from schema.selection import field_names, node_field_names, selects_only

__all__ = [
    "COURSE_REFERENCE",
    "GROUP_REFERENCE_FIELDS",
    "course_from_ref",
    "courses_from_refs",
    "groups_from_refs",
    "user_from_ref",
    "users_from_refs",
]

# Items and enrollments load what they need themselves (the course's call), so a reference
# selecting them does not wait for the course record first.
_COURSE_REF_FIELDS: Final = frozenset(
    {"id", "remoteId", "title", "__typename", "items", "enrollments"}
)
COURSE_REFERENCE: Final = (
    "Selecting only its id, remoteId or title costs no call, and items or enrollments only "
    "their own; any other field loads the course: one call per course, none when the "
    "operation has already read it."
)
_USER_REF_FIELDS: Final = frozenset({"id", "remoteId", "__typename"})
GROUP_REFERENCE_FIELDS: Final = frozenset({"id", "remoteId", "name", "__typename", "members"})
"""What a group reference answers without loading the group: a group's members are read
by its id alone."""


async def course_from_ref(info: Info, ref: model.CourseRef | None) -> model.Course | None:
    if ref is None:
        return None
    # A reference without its title (a roster read before its course) loads the course for it.
    if selects_only(info, _COURSE_REF_FIELDS) and (
        ref.title is not None or "title" not in field_names(info)
    ):
        return model.Course(id=ref.id, title=ref.title, partial=True)
    return await info.context.loaders.course_by_id.load(ref.id)


async def user_from_ref(
    info: Info, ref: model.UserRef | model.AssignerRef | None
) -> model.User | None:
    # Only the id is trusted: some LMSs' rosters carry shortened names such as "J. Smith".
    if ref is None:
        return None
    if selects_only(info, _USER_REF_FIELDS):
        return model.User(id=ref.id, partial=True)
    return await info.context.loaders.user_by_id.load(ref.id)


async def users_from_refs(info: Info, refs: Sequence[model.UserRef]) -> list[model.User]:
    """The users of a page of references (the current field is their connection); their
    records are loaded, in one batch, when anything but ids is selected on them."""
    # Only the id is trusted, as above: a group's member list has short names too.
    if node_field_names(info) <= _USER_REF_FIELDS:
        return [model.User(id=ref.id, partial=True) for ref in refs]
    loaded = await info.context.loaders.user_by_id.load_many([ref.id for ref in refs])
    return [
        user or model.User(id=ref.id, partial=True) for ref, user in zip(refs, loaded, strict=True)
    ]


async def courses_from_refs(info: Info, refs: Sequence[model.CourseRef]) -> list[model.Course]:
    """The courses of a page of references (the current field is their connection); their
    records are loaded, in one batch, when more is selected than the references hold (a
    title the reference lacks included)."""
    names = node_field_names(info)
    if names <= _COURSE_REF_FIELDS and (
        "title" not in names or all(ref.title is not None for ref in refs)
    ):
        return [model.Course(id=ref.id, title=ref.title, partial=True) for ref in refs]
    loaded = await info.context.loaders.course_by_id.load_many([ref.id for ref in refs])
    return [
        course or model.Course(id=ref.id, title=ref.title, partial=True)
        for ref, course in zip(refs, loaded, strict=True)
    ]


async def groups_from_refs(info: Info, refs: Sequence[model.GroupRef]) -> list[model.Group]:
    """The groups of references (the current field is their list), from the cheapest
    source that has what is selected: the references themselves, the provider's group
    list (``get_group_summaries``), or each group's record."""
    wanted = field_names(info) - GROUP_REFERENCE_FIELDS
    if not wanted:
        return [model.Group(id=ref.id, name=ref.name, partial=True) for ref in refs]
    loaders = info.context.loaders
    detail_only = info.context.provider.detail_only_fields.get("Group", frozenset())
    loader = loaders.group_by_id if wanted & detail_only else loaders.group_summary_by_id
    loaded = await loader.load_many([ref.id for ref in refs])
    return [
        group or model.Group(id=ref.id, name=ref.name, partial=True)
        for ref, group in zip(refs, loaded, strict=True)
    ]
