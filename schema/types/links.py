"""Following a reference (``{id, title}``) to the record it names, only when needed.

A reference already holds a few fields; when the query selects nothing else, the
reference answers and no upstream call is made. A course's ``items`` and ``enrollments``
need only its id (they load what they show), so a reference answers them too: their call
is made when they resolve, which for a deferred outline (``... @defer { items }``) is after
the part with the course's title has been sent, not before.
"""

from __future__ import annotations

from typing import Final

from gateway.domain import model
from gateway.execution.context import Info
from schema.selection import selects_only

__all__ = ["COURSE_REFERENCE", "course_from_ref", "user_from_ref"]

# Items and enrollments load what they need themselves (the course's call), so a reference
# selecting them does not wait for the course record first.
_COURSE_REF_FIELDS: Final = frozenset(
    {"id", "remoteId", "title", "__typename", "items", "enrollments"}
)
COURSE_REFERENCE: Final = (
    "Selecting only its id, remoteId or title costs no call, and items or enrollments only "
    "their own; any other field loads the course (TalentLMS: `courses/id:`)."
)
_USER_REF_FIELDS: Final = frozenset({"id", "remoteId", "__typename"})


async def course_from_ref(info: Info, ref: model.CourseRef | None) -> model.Course | None:
    if ref is None:
        return None
    if selects_only(info, _COURSE_REF_FIELDS):
        return model.Course(id=ref.id, title=ref.title, partial=True)
    return await info.context.loaders.course_by_id.load(ref.id)


async def user_from_ref(
    info: Info, ref: model.UserRef | model.AssignerRef | None
) -> model.User | None:
    # Only the id is trusted: TalentLMS rosters carry shortened names such as "J. Smith".
    if ref is None:
        return None
    if selects_only(info, _USER_REF_FIELDS):
        return model.User(id=ref.id, partial=True)
    return await info.context.loaders.user_by_id.load(ref.id)
