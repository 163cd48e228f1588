"""Filters and orderings of the unified lists, as pure functions over unified models.

Providers may narrow a list upstream (TalentLMS looks a user up by email in one call), but
the gateway always applies the whole filter here afterwards, so every provider answers a
filter the same way. Date bounds: ``…After`` is inclusive, ``…Before`` exclusive; a record
without the date never matches a bound on it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from gateway.domain.model import (
    Course,
    CourseEnrollment,
    CourseStatus,
    EnrollmentStatus,
    Group,
    User,
    UserRole,
    UserStatus,
)

__all__ = [
    "CourseFilter",
    "CourseOrderField",
    "EnrollmentFilter",
    "GroupFilter",
    "Order",
    "OrderDirection",
    "UserFilter",
    "UserOrderField",
    "filter_courses",
    "filter_enrollments",
    "filter_groups",
    "filter_users",
    "order_records",
]

T = TypeVar("T")


class OrderDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


class UserOrderField(enum.Enum):
    NAME = "name"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


class CourseOrderField(enum.Enum):
    TITLE = "title"
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"


@dataclass(frozen=True)
class Order:
    field: UserOrderField | CourseOrderField
    direction: OrderDirection = OrderDirection.ASC


@dataclass(frozen=True)
class _RecordDates:
    """Bounds on when a record was created and last updated."""

    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None

    @property
    def uses_created_at(self) -> bool:
        return self.created_after is not None or self.created_before is not None

    @property
    def uses_dates(self) -> bool:
        return self.uses_created_at or (
            self.updated_after is not None or self.updated_before is not None
        )


@dataclass(frozen=True)
class UserFilter(_RecordDates):
    status: frozenset[UserStatus] = frozenset()
    role: frozenset[UserRole] = frozenset()
    email: str | None = None
    username: str | None = None
    search: str | None = None


@dataclass(frozen=True)
class CourseFilter(_RecordDates):
    status: frozenset[CourseStatus] = frozenset()
    category: str | None = None  # a category id, or a name (case-insensitive)
    code: str | None = None
    search: str | None = None


@dataclass(frozen=True)
class EnrollmentFilter:
    user_id: str | None = None
    course_id: str | None = None
    status: frozenset[EnrollmentStatus] = frozenset()
    completed_after: datetime | None = None
    completed_before: datetime | None = None
    enrolled_after: datetime | None = None
    enrolled_before: datetime | None = None
    min_progress: float | None = None

    @property
    def fields_read(self) -> frozenset[str]:
        """The enrollment fields (GraphQL names) this filter compares."""
        read = {
            "status": bool(self.status),
            "completedAt": self.completed_after is not None or self.completed_before is not None,
            "enrolledAt": self.enrolled_after is not None or self.enrolled_before is not None,
            "progressPercent": self.min_progress is not None,
        }
        return frozenset(name for name, used in read.items() if used)


@dataclass(frozen=True)
class GroupFilter:
    search: str | None = None


def _folded(value: str | None) -> str:
    return (value or "").casefold()


def _within(value: datetime | None, after: datetime | None, before: datetime | None) -> bool:
    if after is None and before is None:
        return True
    if value is None:
        return False
    return (after is None or value >= after) and (before is None or value < before)


def filter_users(users: Iterable[User], f: UserFilter) -> list[User]:
    email, username, search = _folded(f.email), _folded(f.username), _folded(f.search)

    def keep(user: User) -> bool:
        addresses = [_folded(e.email) for e in user.emails]
        return (
            (not f.status or user.status in f.status)
            and (not f.role or user.role in f.role)
            and (not email or email in addresses)
            and (not username or _folded(user.username) == username)
            and (
                not search
                or any(
                    search in text
                    for text in (_folded(user.name), _folded(user.username), *addresses)
                )
            )
            and _within(user.created_at, f.created_after, f.created_before)
            and _within(user.updated_at, f.updated_after, f.updated_before)
        )

    return [user for user in users if keep(user)]


def filter_courses(
    courses: Iterable[Course], f: CourseFilter, category_names: dict[str, str] | None = None
) -> list[Course]:
    """``category_names`` (id → name) lets ``category`` match a name as well as an id."""
    code, search, category = _folded(f.code), _folded(f.search), _folded(f.category)
    names = {key: _folded(name) for key, name in (category_names or {}).items()}

    def in_category(course: Course) -> bool:
        return any(c.id == f.category or names.get(c.id) == category for c in course.categories)

    def keep(course: Course) -> bool:
        return (
            (not f.status or course.status in f.status)
            and (not category or in_category(course))
            and (not code or _folded(course.code) == code)
            and (not search or search in _folded(course.title) or search in _folded(course.code))
            and _within(course.created_at, f.created_after, f.created_before)
            and _within(course.updated_at, f.updated_after, f.updated_before)
        )

    return [course for course in courses if keep(course)]


def filter_enrollments(
    enrollments: Iterable[CourseEnrollment], f: EnrollmentFilter
) -> list[CourseEnrollment]:
    def keep(e: CourseEnrollment) -> bool:
        return (
            (f.user_id is None or (e.user is not None and e.user.id == f.user_id))
            and (f.course_id is None or (e.course is not None and e.course.id == f.course_id))
            and (not f.status or e.status in f.status)
            and _within(e.completed_at, f.completed_after, f.completed_before)
            and _within(e.enrolled_at, f.enrolled_after, f.enrolled_before)
            and (
                f.min_progress is None
                or (e.progress_percent is not None and e.progress_percent >= f.min_progress)
            )
        )

    return [enrollment for enrollment in enrollments if keep(enrollment)]


def filter_groups(groups: Iterable[Group], f: GroupFilter) -> list[Group]:
    search = _folded(f.search)
    return [group for group in groups if not search or search in _folded(group.name)]


def _ordered(items: Sequence[T], key: Callable[[T], Any], order: Order) -> list[T]:
    """Stable order by ``key``; records without a value come last in both directions."""
    present = [item for item in items if key(item) is not None]
    missing = [item for item in items if key(item) is None]
    present.sort(key=key, reverse=order.direction is OrderDirection.DESC)
    return present + missing


def order_records(records: Sequence[T], order: Order | None) -> list[T]:
    """Users or courses in ``order``; each order field names the model attribute it sorts.

    Text sorts without regard to case.
    """
    if order is None:
        return list(records)
    name = order.field.value

    def key(record: T) -> Any:
        value = getattr(record, name)
        return _folded(value) or None if isinstance(value, str) else value

    return _ordered(records, key, order)
