"""The interface every LMS provider implements for the loaders.

A provider object lives for one GraphQL operation and one account. Its batch methods take
many keys and return one result per key, in order: the value, ``None`` for "does not
exist", or an exception instance for a key that failed (the dataloaders raise it at that
key's path only, so one failing record leaves the rest of the response intact).

Groups come in three forms, and a provider answers each from its cheapest source: a
reference (``GroupRef``: id and name, as a user's groups list them), the list form
(``get_group_summaries``: what the provider's group list says, ``partial`` where the list
lacks fields of ``detail_only_fields["Group"]``) and the full record (``get_groups``). A
group's members are references (``get_group_members``); a provider whose member list carries
whole user records keeps them for its ``get_users`` of the same operation.

Writes (``enroll_user``, ``create_user``, …) make their call once: a provider never retries
one, and drops the cached reads it makes stale. A failure the client can act on (no such
user, already enrolled) is ``WriteRejected`` with its ``UserErrorCode``, checked before the
call where the provider can tell, else read from the LMS's answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Generic, Protocol, TypeAlias, TypeVar

from gateway.domain.cost import CostTable
from gateway.domain.model import (
    Category,
    Course,
    CourseEnrollment,
    CourseItem,
    EnrollmentRole,
    Group,
    GroupRef,
    Organization,
    User,
    UserRef,
)
from gateway.domain.querying import CourseFilter, Order, UserFilter
from gateway.domain.writes import NewUser, UserChanges

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

    async def all_groups(self) -> list[Group]:
        """Every group, in the provider's order, in the list form."""

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

    async def get_groups(self, ids: Sequence[str]) -> list[Result[Group]]:
        """Full group records."""

    async def get_group_summaries(self, ids: Sequence[str]) -> list[Result[Group]]:
        """Groups in the list form (what the provider's group list says of each)."""

    async def get_group_members(self, group_ids: Sequence[str]) -> list[Result[list[UserRef]]]:
        """Each group's members, in the provider's order."""

    async def get_user_groups(self, user_ids: Sequence[str]) -> list[Result[list[GroupRef]]]:
        """The groups each user is a member of, in the provider's order."""

    # --- writes: each sent once, never retried; expected failures raise WriteRejected ---

    async def enroll_user(
        self, user_id: str, course_id: str, role: EnrollmentRole
    ) -> CourseEnrollment | None:
        """Enroll the user in the course; the enrollment as the LMS now has it (``None`` if
        it does not show it yet)."""

    async def unenroll_user(self, user_id: str, course_id: str) -> None:
        """Remove the user's enrollment in the course."""

    async def create_user(self, new: NewUser) -> User:
        """A new user, as the LMS now has it."""

    async def update_user(self, user_id: str, changes: UserChanges) -> User | None:
        """The user with ``changes``, as the LMS now has it."""

    async def set_user_status(self, user_id: str, *, active: bool) -> User | None:
        """Activate or deactivate (suspend) the user; the user as the LMS now has it."""

    async def launch_url(self, user_id: str, course_id: str, return_url: str | None) -> str:
        """A link that logs the user in and opens the course (a credential: never logged);
        ``return_url`` is where the LMS sends the learner back."""
