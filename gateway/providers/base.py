"""The interface every LMS provider implements for the loaders.

A provider object lives for one GraphQL operation and one account. Its batch methods take
many keys and return one result per key, in order: the value, ``None`` for "does not
exist", or an exception instance for a key that failed (the dataloaders raise it at that
key's path only, so one failing record leaves the rest of the response intact).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Generic, Protocol, TypeAlias, TypeVar

from gateway.domain.cost import CostTable
from gateway.domain.model import Category, Course, CourseEnrollment, CourseItem, Organization, User
from gateway.domain.querying import CourseFilter, Order, UserFilter

__all__ = ["LmsProvider", "Page", "Result"]

T = TypeVar("T")
Result: TypeAlias = T | BaseException | None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One window of a list: ``items`` start at ``offset``; ``has_next`` says more follow."""

    items: list[T]
    offset: int
    has_next: bool


class LmsProvider(Protocol):
    # Read-only properties: callers only read them, and a provider may declare them ``Final``
    # or with narrower types (a dict, its own cost table).
    @property
    def name(self) -> str: ...

    @property
    def detail_only_fields(self) -> Mapping[str, frozenset[str]]:
        """GraphQL type name → model fields that list payloads lack; a resolver that needs
        one of them on a ``partial`` model loads the detail record first."""

    def close(self) -> None:
        """The operation is over: cancel anything still in flight."""

    def prepare(self, selected_fields: AbstractSet[tuple[str, str]]) -> None:
        """Told, before execution, which ``(GraphQL type, field)`` pairs the operation selects."""

    @property
    def remote_query_keys(self) -> Mapping[str, frozenset[str]]:
        """List parameters of the provider's own that clients may pass through, per list."""

    @property
    def cost_table(self) -> CostTable:
        """What each GraphQL field costs upstream, for demand control."""

    async def list_users(self, offset: int, limit: int) -> Page[User]:
        """One window of users in the provider's order, paged upstream where it can."""

    async def all_users(
        self, f: UserFilter | None, order: Order | None, remote_query: Mapping[str, str]
    ) -> list[User]:
        """Every user that may match ``f``; the gateway filters and orders exactly afterwards."""

    async def all_courses(
        self, f: CourseFilter | None, order: Order | None, remote_query: Mapping[str, str]
    ) -> list[Course]:
        """Every course that may match ``f``, in the provider's order."""

    async def get_users_by_email(self, emails: Sequence[str]) -> list[Result[User]]: ...
    async def get_users_by_username(self, usernames: Sequence[str]) -> list[Result[User]]: ...

    async def get_users(self, ids: Sequence[str]) -> list[Result[User]]: ...
    async def get_courses(self, ids: Sequence[str]) -> list[Result[Course]]: ...
    async def get_categories(self, ids: Sequence[str]) -> list[Result[Category]]: ...
    async def get_organizations(self, ids: Sequence[str]) -> list[Result[Organization]]: ...
    async def get_enrollments(self, ids: Sequence[str]) -> list[Result[CourseEnrollment]]: ...
    async def get_course_items(
        self, course_ids: Sequence[str]
    ) -> list[Result[list[CourseItem]]]: ...
    async def get_course_items_by_id(self, ids: Sequence[str]) -> list[Result[CourseItem]]: ...
    async def get_user_enrollments(
        self, user_ids: Sequence[str]
    ) -> list[Result[list[CourseEnrollment]]]: ...
    async def get_course_enrollments(
        self, course_ids: Sequence[str]
    ) -> list[Result[list[CourseEnrollment]]]: ...
