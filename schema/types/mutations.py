"""Mutations: actions on the LMS, Relay-style (one input, a payload with ``userErrors``).

Each mutation checks, before any upstream call, that the request's key has the scope it
needs (``FORBIDDEN`` otherwise) and what the gateway can tell of its input (ids of another
account or type name nobody: a ``userErrors`` entry). The provider makes the write once,
never retried, and drops the cached reads it makes stale; a failure the client can act on
comes back in ``userErrors`` with a code, anything else as an error at the mutation's path.
Every mutation writes one audit line and counts in the metrics (``MutationRecord``).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, TypeVar
from urllib.parse import urlsplit

import strawberry

from gateway.domain import model
from gateway.domain.writes import EMAIL, NewUser, UserChanges
from gateway.errors import ErrorCode, GatewayError, NotPermitted, UserErrorCode, WriteRejected
from gateway.execution.context import Info
from gateway.observability.telemetry import MutationRecord
from schema.types.enrollments import CourseEnrollment
from schema.types.enums import EnrollmentRole
from schema.types.node import global_id, reference_id
from schema.types.shared import mutation_field
from schema.types.users import User

__all__ = [
    "EnrollUserInput",
    "EnrollUserPayload",
    "Mutation",
    "UnenrollUserInput",
    "UnenrollUserPayload",
    "UserError",
]

T = TypeVar("T")
_INPUT = strawberry.argument(description="What the mutation is asked to do.")
_CLIENT_MUTATION_ID = "Any string the client sends in the input, returned as it is."


@strawberry.type(description="Why a mutation did not do what it was asked, as data.")
class UserError:
    code: UserErrorCode = strawberry.field(description="What went wrong, for code to act on.")
    field: list[str] | None = strawberry.field(
        description='The path of the input field at fault (`["input", "userId"]`), or '
        "null when no single field is."
    )
    message: str = strawberry.field(description="What went wrong, for people.")


@strawberry.input(description="Whom to enroll in which course.")
class EnrollUserInput:
    user_id: strawberry.ID = strawberry.field(description="The user's global id.")
    course_id: strawberry.ID = strawberry.field(description="The course's global id.")
    role: EnrollmentRole = strawberry.field(
        default=EnrollmentRole.LEARNER, description="The part the user takes; LEARNER if not given."
    )
    client_mutation_id: str | None = strawberry.field(default=None, description=_CLIENT_MUTATION_ID)


@strawberry.type(description="The outcome of `enrollUser`.")
class EnrollUserPayload:
    enrollment: model.CourseEnrollment | None = strawberry.field(
        description="The enrollment as the LMS now has it; null when the mutation did not enroll.",
        graphql_type=CourseEnrollment | None,
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the user was not enrolled; empty when they were."
    )
    client_mutation_id: str | None = strawberry.field(description=_CLIENT_MUTATION_ID)


@strawberry.input(description="Whose enrollment in which course to remove.")
class UnenrollUserInput:
    user_id: strawberry.ID = strawberry.field(description="The user's global id.")
    course_id: strawberry.ID = strawberry.field(description="The course's global id.")
    client_mutation_id: str | None = strawberry.field(default=None, description=_CLIENT_MUTATION_ID)


@strawberry.type(description="The outcome of `unenrollUser`.")
class UnenrollUserPayload:
    unenrolled_enrollment_id: strawberry.ID | None = strawberry.field(
        description="The global id the removed enrollment had (clients' caches drop it); null "
        "when the mutation removed nothing."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was removed; empty when the enrollment was."
    )
    client_mutation_id: str | None = strawberry.field(description=_CLIENT_MUTATION_ID)


@strawberry.input(description="A new user of the LMS.")
class CreateUserInput:
    first_name: str = strawberry.field(description="First name.")
    last_name: str = strawberry.field(description="Last name.")
    email: str = strawberry.field(description="E-mail address; unique in the LMS.")
    username: str = strawberry.field(description="Login name; unique in the LMS.")
    password: str | None = strawberry.field(
        default=None,
        description="The first password (never logged). Required where the LMS requires one "
        "to create a user; else the LMS invites the user to set one.",
    )
    client_mutation_id: str | None = strawberry.field(default=None, description=_CLIENT_MUTATION_ID)


@strawberry.type(description="The outcome of `createUser`.")
class CreateUserPayload:
    user: model.User | None = strawberry.field(
        description="The new user as the LMS now has it; null when none was created.",
        graphql_type=User | None,
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why no user was created; empty when one was."
    )
    client_mutation_id: str | None = strawberry.field(description=_CLIENT_MUTATION_ID)


@strawberry.input(description="Changes to a user; a field left out stays as it is.")
class UpdateUserInput:
    user_id: strawberry.ID = strawberry.field(description="The user's global id.")
    first_name: str | None = strawberry.field(default=None, description="New first name.")
    last_name: str | None = strawberry.field(default=None, description="New last name.")
    email: str | None = strawberry.field(default=None, description="New e-mail address.")
    username: str | None = strawberry.field(default=None, description="New login name.")
    password: str | None = strawberry.field(
        default=None, description="New password (never logged), where the LMS takes one."
    )
    client_mutation_id: str | None = strawberry.field(default=None, description=_CLIENT_MUTATION_ID)


@strawberry.enum(description="What `setUserStatus` makes of a user.")
class UserActivation(enum.Enum):
    ACTIVE = strawberry.enum_value("active", description="Can sign in and learn.")
    INACTIVE = strawberry.enum_value(
        "inactive",
        description="Cannot sign in (deactivated; suspended where the LMS suspends instead).",
    )


@strawberry.input(description="Whom to activate or deactivate.")
class SetUserStatusInput:
    user_id: strawberry.ID = strawberry.field(description="The user's global id.")
    status: UserActivation = strawberry.field(description="The status to set.")
    client_mutation_id: str | None = strawberry.field(default=None, description=_CLIENT_MUTATION_ID)


@strawberry.type(description="The outcome of `updateUser` or `setUserStatus`.")
class UserPayload:
    user: model.User | None = strawberry.field(
        description="The user as the LMS now has it; null when nothing was changed.",
        graphql_type=User | None,
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was changed; empty when the user was."
    )
    client_mutation_id: str | None = strawberry.field(description=_CLIENT_MUTATION_ID)


@strawberry.input(description="Whose launch link for which course.")
class LaunchCourseInput:
    user_id: strawberry.ID = strawberry.field(description="The learner's global id.")
    course_id: strawberry.ID = strawberry.field(description="The course's global id.")
    return_url: str | None = strawberry.field(
        default=None,
        description="An http(s) address the LMS sends the learner back to when they log out "
        "or complete the course.",
    )
    client_mutation_id: str | None = strawberry.field(default=None, description=_CLIENT_MUTATION_ID)


@strawberry.type(description="The outcome of `launchCourse`.")
class LaunchCoursePayload:
    launch_url: str | None = strawberry.field(
        description="A link that signs the learner in and opens the course: a credential, to "
        "open at once and never store or log. Null when there is none."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why there is no link; empty when there is one."
    )
    client_mutation_id: str | None = strawberry.field(description=_CLIENT_MUTATION_ID)


@strawberry.type(description="Actions on the LMS. Each is made once, never retried.")
class Mutation:
    @mutation_field(
        description="Enroll a user in a course. Needs a key with the `write` scope. One write "
        "call, then the calls that read the enrollment back; an enrollment that already "
        "exists is `ALREADY_ENROLLED` in `userErrors`."
    )
    async def enroll_user(
        self, info: Info, input: Annotated[EnrollUserInput, _INPUT]
    ) -> EnrollUserPayload:
        require_scope(info, "write")
        payload = EnrollUserPayload(
            enrollment=None, user_errors=[], client_mutation_id=input.client_mutation_id
        )
        ids = _user_and_course(info, input.user_id, input.course_id)
        if isinstance(ids, UserError):
            payload.user_errors = _refused(info, "enrollUser", ids)
            return payload
        user_id, course_id = ids
        write = info.context.provider.enroll_user(user_id, course_id, input.role)
        targets = {"user": user_id, "course": course_id}
        payload.enrollment, payload.user_errors = await _write(info, "enrollUser", targets, write)
        return payload

    @mutation_field(
        description="Remove a user's enrollment in a course. Needs a key with the `write` "
        "scope. One write call; no enrollment to remove is `NOT_ENROLLED` in `userErrors`."
    )
    async def unenroll_user(
        self, info: Info, input: Annotated[UnenrollUserInput, _INPUT]
    ) -> UnenrollUserPayload:
        require_scope(info, "write")
        payload = UnenrollUserPayload(
            unenrolled_enrollment_id=None,
            user_errors=[],
            client_mutation_id=input.client_mutation_id,
        )
        ids = _user_and_course(info, input.user_id, input.course_id)
        if isinstance(ids, UserError):
            payload.user_errors = _refused(info, "unenrollUser", ids)
            return payload
        user_id, course_id = ids
        write = info.context.provider.unenroll_user(user_id, course_id)
        targets = {"user": user_id, "course": course_id}
        _, payload.user_errors = await _write(info, "unenrollUser", targets, write)
        if not payload.user_errors:
            payload.unenrolled_enrollment_id = global_id(
                info, "CourseEnrollment", f"{user_id}:{course_id}"
            )
        return payload

    @mutation_field(
        description="Create a user. Needs a key with the `write` scope. One write call; an "
        "e-mail address or username another user has is `DUPLICATE_EMAIL` or "
        "`DUPLICATE_USERNAME` in `userErrors`."
    )
    async def create_user(
        self, info: Info, input: Annotated[CreateUserInput, _INPUT]
    ) -> CreateUserPayload:
        require_scope(info, "write")
        payload = CreateUserPayload(
            user=None, user_errors=[], client_mutation_id=input.client_mutation_id
        )
        problem = _invalid_email(input.email)
        if problem is not None:
            payload.user_errors = _refused(info, "createUser", problem)
            return payload
        new = NewUser(
            first_name=input.first_name,
            last_name=input.last_name,
            email=input.email.strip(),
            username=input.username,
            password=input.password,
        )
        write = info.context.provider.create_user(new)
        user, payload.user_errors = await _write(info, "createUser", {}, write, _new_user)
        payload.user = user
        return payload

    @mutation_field(
        description="Change a user's names, e-mail address, username or password. Needs a key "
        "with the `write` scope. One write call, and the user read back where the LMS does "
        "not answer with it."
    )
    async def update_user(
        self, info: Info, input: Annotated[UpdateUserInput, _INPUT]
    ) -> UserPayload:
        require_scope(info, "write")
        payload = UserPayload(
            user=None, user_errors=[], client_mutation_id=input.client_mutation_id
        )
        changes = UserChanges(
            first_name=input.first_name,
            last_name=input.last_name,
            email=input.email.strip() if input.email is not None else None,
            username=input.username,
            password=input.password,
        )
        user_id = _user_id(info, input.user_id)
        problem = _change_problem(changes)
        if isinstance(user_id, UserError) or problem is not None:
            payload.user_errors = _refused(info, "updateUser", _first(user_id, problem))
            return payload
        write = info.context.provider.update_user(user_id, changes)
        payload.user, payload.user_errors = await _write(
            info, "updateUser", {"user": user_id}, write
        )
        return payload

    @mutation_field(
        description="Activate or deactivate a user. Needs a key with the `write` scope. One "
        "write call, and the user read back where the LMS does not answer with it."
    )
    async def set_user_status(
        self, info: Info, input: Annotated[SetUserStatusInput, _INPUT]
    ) -> UserPayload:
        require_scope(info, "write")
        payload = UserPayload(
            user=None, user_errors=[], client_mutation_id=input.client_mutation_id
        )
        user_id = _user_id(info, input.user_id)
        if isinstance(user_id, UserError):
            payload.user_errors = _refused(info, "setUserStatus", user_id)
            return payload
        active = input.status is UserActivation.ACTIVE
        write = info.context.provider.set_user_status(user_id, active=active)
        payload.user, payload.user_errors = await _write(
            info, "setUserStatus", {"user": user_id}, write
        )
        return payload

    @mutation_field(
        description="A link that signs the learner in and opens the course, for a Start "
        "button. Needs a key with the `launch` scope (the link is a credential). One call; a "
        "learner not enrolled in the course is `NOT_ENROLLED`, an LMS without such links "
        "`NOT_SUPPORTED`."
    )
    async def launch_course(
        self, info: Info, input: Annotated[LaunchCourseInput, _INPUT]
    ) -> LaunchCoursePayload:
        require_scope(info, "launch")
        payload = LaunchCoursePayload(
            launch_url=None, user_errors=[], client_mutation_id=input.client_mutation_id
        )
        ids = _user_and_course(info, input.user_id, input.course_id)
        problem = _invalid_return_url(input.return_url)
        if isinstance(ids, UserError) or problem is not None:
            payload.user_errors = _refused(info, "launchCourse", _first(ids, problem))
            return payload
        user_id, course_id = ids
        write = info.context.provider.launch_url(user_id, course_id, input.return_url)
        targets = {"user": user_id, "course": course_id}
        payload.launch_url, payload.user_errors = await _write(info, "launchCourse", targets, write)
        return payload


def require_scope(info: Info, scope: str) -> None:
    """Refuse, before any upstream call, a mutation the request's key may not make."""
    if scope not in info.context.scopes:
        raise NotPermitted(f"This gateway key does not have the {scope!r} scope")


def _user_and_course(info: Info, user: str, course: str) -> tuple[str, str] | UserError:
    """The provider's ids of the input's user and course, or the ``UserError`` of the first
    that names no record of this account (a bad id is ``BAD_USER_INPUT``, an error)."""
    user_id = _user_id(info, user)
    if isinstance(user_id, UserError):
        return user_id
    course_id = reference_id(info, course, ("Course",), "input.courseId")
    if course_id is None:
        return UserError(
            code=UserErrorCode.COURSE_NOT_FOUND,
            field=["input", "courseId"],
            message="No course of this account has this id",
        )
    return user_id, course_id


def _new_user(user: model.User | None) -> dict[str, str]:
    """What the audit line names of a created user: its id."""
    return {"user": user.id} if user is not None else {}


def _user_id(info: Info, user: str) -> str | UserError:
    user_id = reference_id(info, user, ("User",), "input.userId")
    if user_id is None:
        return UserError(
            code=UserErrorCode.USER_NOT_FOUND,
            field=["input", "userId"],
            message="No user of this account has this id",
        )
    return user_id


def _invalid_email(email: str) -> UserError | None:
    if EMAIL.fullmatch(email.strip()):
        return None
    return UserError(
        code=UserErrorCode.INVALID_EMAIL,
        field=["input", "email"],
        message="This is not an e-mail address",
    )


def _first(ids: object, problem: UserError | None) -> UserError:
    """The input's first problem: its ids' (``ids`` is a ``UserError``), else ``problem``."""
    if isinstance(ids, UserError):
        return ids
    assert problem is not None
    return problem


def _change_problem(changes: UserChanges) -> UserError | None:
    """What makes ``changes`` unusable, before any call: nothing to change, a bad e-mail."""
    if changes.empty:
        return UserError(
            code=UserErrorCode.INVALID_INPUT, field=None, message="The input changes nothing"
        )
    return _invalid_email(changes.email) if changes.email is not None else None


def _invalid_return_url(url: str | None) -> UserError | None:
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc and len(url) <= 2000:
        return None
    return UserError(
        code=UserErrorCode.INVALID_INPUT,
        field=["input", "returnUrl"],
        message="returnUrl must be an http(s) address",
    )


async def _write(
    info: Info,
    mutation: str,
    targets: Mapping[str, str],
    write: Awaitable[T],
    created: Callable[[T], Mapping[str, str]] | None = None,
) -> tuple[T | None, list[UserError]]:
    """``write``'s value and no user errors, or no value and the error the LMS explained."""
    try:
        return await _audited(info, mutation, targets, write, created), []
    except WriteRejected as rejected:
        return None, [_user_error(rejected)]


def _refused(info: Info, mutation: str, error: UserError) -> list[UserError]:
    """A mutation refused before any call: audited with its code."""
    _audit(info, mutation, {}, error.code.value)
    return [error]


def _user_error(rejected: WriteRejected) -> UserError:
    field = ["input", *rejected.field] if rejected.field else None
    return UserError(code=rejected.user_error_code, field=field, message=rejected.message)


async def _audited(
    info: Info,
    mutation: str,
    targets: Mapping[str, str],
    write: Awaitable[T],
    created: Callable[[T], Mapping[str, str]] | None = None,
) -> T:
    """``write``'s value, audited with its outcome (``ok``, the userErrors code, or the
    error's code) whichever way it ends; ``created`` names what a successful write made."""
    try:
        value = await write
    except WriteRejected as rejected:
        _audit(info, mutation, targets, rejected.user_error_code.value)
        raise
    except GatewayError as error:
        _audit(info, mutation, targets, error.code.value)
        raise
    except BaseException:
        _audit(info, mutation, targets, ErrorCode.INTERNAL.value)
        raise
    made = created(value) if created is not None and value is not None else {}
    _audit(info, mutation, {**targets, **made}, "ok")
    return value


def _audit(info: Info, mutation: str, targets: Mapping[str, str], outcome: str) -> None:
    """One audit line and one metric for a mutation that ended with ``outcome``."""
    context = info.context
    if context.observer is None:
        return
    context.observer.mutation_finished(
        MutationRecord(
            account_id=context.account_id,
            key_name=context.key_name,
            mutation=mutation,
            targets=dict(targets),
            outcome=outcome,
            upstream_calls=context.usage.calls,
        )
    )
