"""Per-operation dataloaders, named by what they load.

Each loader batches the keys asked for in one tick of the event loop and hands them to the
provider, which fetches what it has to concurrently. Loaders are created per operation,
so their caches never outlive it and never cross accounts.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, TypeVar

from aiodataloader import DataLoader

from gateway.domain.model import (
    Category,
    Course,
    CourseEnrollment,
    CourseItem,
    Group,
    GroupRef,
    Organization,
    User,
    UserRef,
)
from gateway.providers.base import LmsProvider

__all__ = [
    "CategoryByIdLoader",
    "CourseByIdLoader",
    "CourseItemByIdLoader",
    "CourseItemsByCourseIdLoader",
    "EnrollmentByIdLoader",
    "EnrollmentsByCourseIdLoader",
    "EnrollmentsByUserIdLoader",
    "GroupByIdLoader",
    "GroupMembersByGroupIdLoader",
    "GroupSummaryByIdLoader",
    "GroupsByUserIdLoader",
    "Loaders",
    "OrganizationByIdLoader",
    "Pending",
    "UserByEmailLoader",
    "UserByIdLoader",
    "UserByUsernameLoader",
]

V = TypeVar("V")


class Pending(enum.Enum):
    """What ``loaded`` answers for a key not loaded (yet)."""

    PENDING = "pending"


class _ProviderLoader(DataLoader[str, V]):
    """A DataLoader whose batch function is one provider batch method."""

    def __init__(
        self, batch: Callable[[Sequence[str]], Awaitable[list[V | BaseException]]]
    ) -> None:
        self._futures: dict[str, asyncio.Future[V]] = {}
        super().__init__(cache_map=self._futures)
        self._batch = batch

    def loaded(self, key: str) -> V | Literal[Pending.PENDING]:
        """The value for ``key`` when this loader already has it, without awaiting.

        Lets a resolver answer synchronously for data an earlier field loaded; a coroutine
        per object costs more than the lookup it wraps.
        """
        future = self._futures.get(key)
        if future is None or not future.done() or future.cancelled() or future.exception():
            return Pending.PENDING
        return future.result()

    async def batch_load_fn(self, keys: Sequence[str]) -> list[Any]:
        # Values, or exceptions that fail only their key: aiodataloader handles both but
        # declares values only, so the exact type lives on ``batch`` above.
        return await self._batch(keys)


class UserByIdLoader(_ProviderLoader[User | None]):
    """Full user records."""


class UserByEmailLoader(_ProviderLoader[User | None]):
    """Full user records by email address."""


class UserByUsernameLoader(_ProviderLoader[User | None]):
    """Full user records by login name."""


class CourseByIdLoader(_ProviderLoader[Course | None]):
    """Full course records."""


class CategoryByIdLoader(_ProviderLoader[Category | None]):
    """Course categories."""


class OrganizationByIdLoader(_ProviderLoader[Organization | None]):
    """Organizations (the LMS's branches or business units, where it has any)."""


class CourseItemByIdLoader(_ProviderLoader[CourseItem | None]):
    """Course items by their own id."""


class CourseItemsByCourseIdLoader(_ProviderLoader[list[CourseItem] | None]):
    """All items of a course, flat and in curriculum order."""


class EnrollmentsByUserIdLoader(_ProviderLoader[list[CourseEnrollment] | None]):
    """A user's enrollments (full records)."""


class EnrollmentsByCourseIdLoader(_ProviderLoader[list[CourseEnrollment] | None]):
    """A course's roster (may be partial: see ``LmsProvider.detail_only_fields``)."""


class EnrollmentByIdLoader(_ProviderLoader[CourseEnrollment | None]):
    """Full enrollment records."""


class GroupByIdLoader(_ProviderLoader[Group | None]):
    """Full group records (with what only the group's own record says)."""


class GroupSummaryByIdLoader(_ProviderLoader[Group | None]):
    """Groups in the list form (what the provider's group list says: one list call for all)."""


class GroupMembersByGroupIdLoader(_ProviderLoader[list[UserRef] | None]):
    """A group's members, as references."""


class GroupsByUserIdLoader(_ProviderLoader[list[GroupRef] | None]):
    """The groups a user is in, as references (id and name)."""


class Loaders:
    """The loaders of one operation over one provider."""

    __slots__ = (
        "category_by_id",
        "course_by_id",
        "course_item_by_id",
        "course_items_by_course_id",
        "enrollment_by_id",
        "enrollments_by_course_id",
        "enrollments_by_user_id",
        "group_by_id",
        "group_members_by_group_id",
        "group_summary_by_id",
        "groups_by_user_id",
        "organization_by_id",
        "user_by_email",
        "user_by_id",
        "user_by_username",
    )

    def __init__(self, provider: LmsProvider) -> None:
        self.user_by_id = UserByIdLoader(provider.get_users)
        self.user_by_email = UserByEmailLoader(provider.get_users_by_email)
        self.user_by_username = UserByUsernameLoader(provider.get_users_by_username)
        self.course_by_id = CourseByIdLoader(provider.get_courses)
        self.category_by_id = CategoryByIdLoader(provider.get_categories)
        self.organization_by_id = OrganizationByIdLoader(provider.get_organizations)
        self.course_item_by_id = CourseItemByIdLoader(provider.get_course_items_by_id)
        self.course_items_by_course_id = CourseItemsByCourseIdLoader(provider.get_course_items)
        self.enrollments_by_user_id = EnrollmentsByUserIdLoader(provider.get_user_enrollments)
        self.enrollments_by_course_id = EnrollmentsByCourseIdLoader(provider.get_course_enrollments)
        self.enrollment_by_id = EnrollmentByIdLoader(provider.get_enrollments)
        self.group_by_id = GroupByIdLoader(provider.get_groups)
        self.group_summary_by_id = GroupSummaryByIdLoader(provider.get_group_summaries)
        self.group_members_by_group_id = GroupMembersByGroupIdLoader(provider.get_group_members)
        self.groups_by_user_id = GroupsByUserIdLoader(provider.get_user_groups)
