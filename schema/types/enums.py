"""GraphQL enums: the unified model's enums, exposed under their own names.

The enums are the domain's own classes (``gateway/domain`` knows nothing of Strawberry), so
their values are described here: ``_register`` marks each class as a GraphQL enum and sets
the description of each of its values on the Strawberry definition.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final

import strawberry

# Private Strawberry API: tests/test_strawberry_internals.py.
from strawberry.types.enum import has_enum_definition

from gateway import errors
from gateway.domain import model, querying

__all__ = [
    "CourseLevel",
    "CourseOrderField",
    "CourseStatus",
    "CourseType",
    "EnrollmentRole",
    "EnrollmentStatus",
    "OrderDirection",
    "UserErrorCode",
    "UserOrderField",
    "UserRole",
    "UserStatus",
]

# The model's own classes: ``strawberry.enum`` marks a class as a GraphQL enum in place and
# returns it, so these names are types to the type checker as well.
UserStatus = model.UserStatus
UserRole = model.UserRole
CourseType = model.CourseType
CourseStatus = model.CourseStatus
CourseLevel = model.CourseLevel
EnrollmentStatus = model.EnrollmentStatus
OrderDirection = querying.OrderDirection
UserOrderField = querying.UserOrderField
CourseOrderField = querying.CourseOrderField

_NOT_MAPPED: Final = "No LMS the gateway serves sets it yet."
_UNMAPPED_VALUE: Final = "A value the gateway cannot map to another member"
_BY_CREATED_AT: Final = "By `createdAt`, oldest first when ascending."
_BY_UPDATED_AT: Final = "By `updatedAt`, least recently updated first when ascending."


def _register(enum_class: type[enum.Enum], description: str, values: Mapping[str, str]) -> None:
    """Marks ``enum_class`` as a GraphQL enum, with a description on each of its values."""
    strawberry.enum(enum_class, description=description)
    if not has_enum_definition(enum_class):
        raise TypeError(f"strawberry.enum left no definition on {enum_class.__name__}")
    definition = enum_class.__strawberry_definition__
    names = [value.name for value in definition.values]
    if sorted(names) != sorted(values):
        raise ValueError(f"{definition.name}: describe exactly its values {names}")
    for value in definition.values:
        value.description = values[value.name]


_register(
    UserStatus,
    "Lifecycle status of a user.",
    {
        "ACTIVE": "An active account.",
        "INACTIVE": "An account that is not active: deactivated, or a sign-up awaiting or "
        "refused approval.",
        "INVITED": f"Invited, not signed up yet. {_NOT_MAPPED}",
        "SUSPENDED": "Suspended.",
        "DELETED": "Deleted: the LMS says the user's record is no longer available.",
        "UNKNOWN": f"{_UNMAPPED_VALUE}: any other status, or none recorded.",
    },
)
_register(
    UserRole,
    "Primary role of a user in the LMS, from the LMS's user type or role.",
    {
        "LEARNER": "Takes courses: a learner or plain user, or a custom type naming learner.",
        "INSTRUCTOR": "Teaches courses: a trainer or instructor, or a custom type naming "
        "trainer or instructor.",
        "ADMIN": "Administers the LMS: a super administrator or administrator, or a custom "
        "type naming admin (checked first).",
        "MANAGER": "Manages other users: a custom type naming manager, or a manager of other "
        "users' seats.",
        "OTHER": "Any other role, such as a reporter: a type or role that names none of the "
        "above, or none.",
    },
)
_register(
    CourseType,
    "Kind of learning item.",
    {
        "COURSE": "A course: every item of a course catalog that is not marked as another kind.",
        "PATH": "A learning path.",
        "CURRICULUM": f"A curriculum. {_NOT_MAPPED}",
        "PROGRAM": f"A program. {_NOT_MAPPED}",
        "MICROLEARNING": f"A microlearning item. {_NOT_MAPPED}",
        "OTHER": f"Any other kind. {_NOT_MAPPED}",
    },
)
_register(
    CourseStatus,
    "Publication status of a course.",
    {
        "DRAFT": "Not published yet: a draft, or announced as coming soon.",
        "PUBLISHED": "Published and available, whether paid, free or private.",
        "ARCHIVED": "Archived.",
        "DISABLED": "Unavailable, or closed to new enrollments.",
        "UNKNOWN": f"{_UNMAPPED_VALUE}: any other status.",
    },
)
_register(
    CourseLevel,
    "Difficulty level of a course.",
    {
        "BEGINNER": "For beginners: level beginner, or 1 on a numeric scale.",
        "INTERMEDIATE": "Intermediate: level intermediate, or 2 on a numeric scale.",
        "ADVANCED": "Advanced: level advanced, or 3 on a numeric scale.",
        "MIXED": "Mixed levels.",
        "UNKNOWN": f"{_UNMAPPED_VALUE}: any other level that is not empty.",
    },
)
_register(
    EnrollmentStatus,
    "A user's lifecycle status in one course.",
    {
        "ASSIGNED": f"Assigned to the user, not enrolled yet. {_NOT_MAPPED}",
        "ENROLLED": "Enrolled, not started: not attempted, not started, or no progress "
        "recorded yet.",
        "IN_PROGRESS": "Started, not finished: incomplete, in progress, or pending a grade.",
        "COMPLETED": "Completed.",
        "PASSED": "Completed with a pass, where the LMS records passes.",
        "FAILED": "Completed with a fail, where the LMS records fails.",
        "WITHDRAWN": f"Withdrawn from the course. {_NOT_MAPPED}",
        "EXPIRED": "Expired before completion: an expiry date in the past turns ENROLLED, "
        "IN_PROGRESS or UNKNOWN into it.",
        "OVERDUE": f"Not completed by its due date. {_NOT_MAPPED}",
        "UNKNOWN": f"{_UNMAPPED_VALUE}: any other completion status.",
    },
)
_register(
    OrderDirection,
    "Sort direction.",
    {
        "ASC": "Ascending: A to Z, smaller and earlier first.",
        "DESC": "Descending: Z to A, larger and later first.",
    },
)
_register(
    UserOrderField,
    "What users sort by.",
    {
        "NAME": "By display name, ignoring case.",
        "CREATED_AT": _BY_CREATED_AT,
        "UPDATED_AT": _BY_UPDATED_AT,
    },
)
_register(
    CourseOrderField,
    "What courses sort by.",
    {
        "TITLE": "By title, ignoring case.",
        "CREATED_AT": _BY_CREATED_AT,
        "UPDATED_AT": _BY_UPDATED_AT,
    },
)

EnrollmentRole = model.EnrollmentRole
UserErrorCode = errors.UserErrorCode
_register(
    EnrollmentRole,
    "The part a user takes in a course they are enrolled in.",
    {
        "LEARNER": "Takes the course.",
        "INSTRUCTOR": "Teaches the course (where the LMS has instructors per course).",
    },
)
_register(
    UserErrorCode,
    "Why a mutation did not do what it was asked, in a way the client can act on.",
    {
        "USER_NOT_FOUND": "No user has this id in the account.",
        "COURSE_NOT_FOUND": "No course has this id in the account.",
        "ALREADY_ENROLLED": "The user is already enrolled in the course.",
        "NOT_ENROLLED": "The user is not enrolled in the course.",
        "UNSUPPORTED_ROLE": "The LMS has no such role for an enrollment.",
        "DUPLICATE_EMAIL": "Another user has this e-mail address.",
        "DUPLICATE_USERNAME": "Another user has this username.",
        "INVALID_EMAIL": "The e-mail address is not one.",
        "WEAK_PASSWORD": "The password is not strong enough for the LMS (its message says why).",
        "INVALID_INPUT": "The LMS refused the input as invalid (its message says why).",
        "NOT_SUPPORTED": "The account's LMS has no call for this mutation.",
    },
)
