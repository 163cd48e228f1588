"""The unified LMS model: the provider-neutral contract the gateway serves.

Field names, shapes and enum values follow ``shared/reference/unified-lms-model.md``
(User 17, Course 17, CourseItem 13 and CourseEnrollment 21 fields, each plus
``remote_data``). Every field but ``id`` may be ``None`` when the provider has no value.
``Group`` is ours (the reference has none): a set of users with courses in common, which
both TalentLMS (groups) and LearnWorlds (user groups) have.

Providers build these models with pure mapping functions; the GraphQL types in
``schema/`` read them as they are, so no per-object conversion happens at query time.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "PASSTHROUGH_FIELDS",
    "AssignerRef",
    "Category",
    "Course",
    "CourseEnrollment",
    "CourseItem",
    "CourseLevel",
    "CourseRef",
    "CourseStatus",
    "CourseType",
    "Email",
    "EnrollmentRole",
    "EnrollmentStatus",
    "Group",
    "GroupRef",
    "Manager",
    "Organization",
    "ParentItemRef",
    "Phone",
    "Url",
    "User",
    "UserRef",
    "UserRole",
    "UserStatus",
]

# The models' provider passthrough (``customFields``, ``remoteData`` in GraphQL): the largest
# part of a record, which a provider may leave out when an operation selects neither.
PASSTHROUGH_FIELDS: frozenset[str] = frozenset({"custom_fields", "remote_data"})


class UserStatus(enum.Enum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    INVITED = "invited"
    SUSPENDED = "suspended"
    DELETED = "deleted"
    UNKNOWN = "unknown"


class EnrollmentRole(enum.Enum):
    """The part a user takes in a course they are enrolled in (a write's choice)."""

    LEARNER = "learner"
    INSTRUCTOR = "instructor"


class UserRole(enum.Enum):
    LEARNER = "learner"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"
    MANAGER = "manager"
    OTHER = "other"


class CourseType(enum.Enum):
    COURSE = "course"
    PATH = "path"
    CURRICULUM = "curriculum"
    PROGRAM = "program"
    MICROLEARNING = "microlearning"
    OTHER = "other"


class CourseStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"
    DISABLED = "disabled"
    UNKNOWN = "unknown"


class CourseLevel(enum.Enum):
    BEGINNER = "beginner"
    INTERMEDIATE = "intermediate"
    ADVANCED = "advanced"
    MIXED = "mixed"
    UNKNOWN = "unknown"


class EnrollmentStatus(enum.Enum):
    ASSIGNED = "assigned"
    ENROLLED = "enrolled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    PASSED = "passed"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    OVERDUE = "overdue"
    UNKNOWN = "unknown"


class _Model(BaseModel):
    # Models are built once by a mapping function and only read afterwards.
    model_config = ConfigDict(frozen=True, extra="forbid")

    if not TYPE_CHECKING:  # keeps type checkers strict about attribute names

        def __getattr__(self, name: str) -> Any:
            # Only reached for a missing attribute. pydantic's own __getattr__ looks for
            # private attributes and extras (these models have neither) and formats a
            # message; GraphQL execution probes every value with hasattr(value,
            # "__await__"), thousands of times per large result.
            raise AttributeError(name)


# --- shared nested shapes -------------------------------------------------------------


class Email(_Model):
    email: str
    type: str | None = None
    is_primary: bool | None = None


class Phone(_Model):
    number: str
    extension: str | None = None
    type: str | None = None


class Url(_Model):
    url: str
    type: str | None = None


class Organization(_Model):
    id: str
    name: str | None = None


class Manager(_Model):
    id: str
    name: str | None = None
    emails: list[Email] = Field(default_factory=list)


class UserRef(_Model):
    id: str
    name: str | None = None
    emails: list[Email] = Field(default_factory=list)


class CourseRef(_Model):
    id: str
    title: str | None = None


class ParentItemRef(_Model):
    id: str
    title: str | None = None


class AssignerRef(_Model):
    id: str
    name: str | None = None


class GroupRef(_Model):
    id: str
    name: str | None = None


class Category(_Model):
    """A course category. The reference leaves its shape open; we use ``{id, name}``."""

    id: str
    name: str | None = None


# --- the four resources ---------------------------------------------------------------


class User(_Model):
    id: str
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    username: str | None = None
    emails: list[Email] = Field(default_factory=list)
    status: UserStatus | None = None
    role: UserRole | None = None
    phones: list[Phone] = Field(default_factory=list)
    locale: str | None = None
    timezone: str | None = None
    job_title: str | None = None
    organization: Organization | None = None
    manager: Manager | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    remote_data: dict[str, Any] | None = None
    # Built from a list payload that lacks the provider's detail-only fields.
    partial: bool = Field(default=False, exclude=True)


class Course(_Model):
    id: str
    title: str | None = None
    description: str | None = None
    code: str | None = None
    type: CourseType | None = None
    status: CourseStatus | None = None
    language: str | None = None
    duration_seconds: int | None = None
    level: CourseLevel | None = None
    urls: list[Url] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)
    organization: Organization | None = None
    published_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    remote_data: dict[str, Any] | None = None
    partial: bool = Field(default=False, exclude=True)


class CourseItem(_Model):
    id: str
    course: CourseRef | None = None
    parent: ParentItemRef | None = None
    type: str | None = None
    title: str | None = None
    description: str | None = None
    position: int | None = None
    duration_seconds: int | None = None
    is_required: bool | None = None
    urls: list[Url] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    remote_data: dict[str, Any] | None = None


class CourseEnrollment(_Model):
    id: str
    user: UserRef | None = None
    course: CourseRef | None = None
    status: EnrollmentStatus | None = None
    assigned_at: datetime | None = None
    due_at: datetime | None = None
    enrolled_at: datetime | None = None
    started_at: datetime | None = None
    last_activity_at: datetime | None = None
    completed_at: datetime | None = None
    progress_percent: float | None = None
    time_spent_seconds: int | None = None
    score: float | None = None
    is_mandatory: bool | None = None
    assigned_by: AssignerRef | None = None
    attempt_number: int | None = None
    attempts_count: int | None = None
    urls: list[Url] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    remote_data: dict[str, Any] | None = None
    partial: bool = Field(default=False, exclude=True)


class Group(_Model):
    """A set of users that the LMS manages together, usually with courses in common.

    ``members`` and ``courses`` are the references the provider's record carries, in its
    order: ``None`` when the record does not list them (TalentLMS's ``/groups`` items, whose
    members and courses come only with ``/groups/id:``; a LearnWorlds group, whose members
    come from their own endpoint). A ``CourseRef`` without a title names only its course.
    """

    id: str
    name: str | None = None
    description: str | None = None
    members: list[UserRef] | None = None
    courses: list[CourseRef] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    remote_data: dict[str, Any] | None = None
    # Built from a list payload that lacks the provider's detail-only fields.
    partial: bool = Field(default=False, exclude=True)
