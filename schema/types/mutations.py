"""Mutations: actions on the LMS, Relay-style (one input, a payload with ``userErrors``).

Each mutation checks, before any upstream call, that the request's key has the scope it
needs (``FORBIDDEN`` otherwise) and what the gateway can tell of its input (ids of another
account or type name nobody: a ``userErrors`` entry). The provider makes the write once,
never retried, and drops the cached reads it makes stale; a failure the client can act on
comes back in ``userErrors`` with a code, anything else as an error at the mutation's path.
Every mutation writes one audit line and counts in the metrics (``MutationRecord``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Annotated, TypeVar

import strawberry

from gateway.domain import model
from gateway.errors import ErrorCode, GatewayError, NotPermitted, UserErrorCode, WriteRejected
from gateway.execution.context import Info
from gateway.observability.telemetry import MutationRecord
from schema.types.enrollments import CourseEnrollment
from schema.types.enums import EnrollmentRole
from schema.types.node import global_id, reference_id
from schema.types.shared import mutation_field

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
        ids = _user_and_course(info, input.user_id, input.course_id)
        payload = EnrollUserPayload(
            enrollment=None, user_errors=[], client_mutation_id=input.client_mutation_id
        )
        if isinstance(ids, UserError):
            payload.user_errors.append(ids)
        else:
            user_id, course_id = ids
            try:
                payload.enrollment = await _audited(
                    info,
                    "enrollUser",
                    {"user": user_id, "course": course_id},
                    info.context.provider.enroll_user(user_id, course_id, input.role),
                )
            except WriteRejected as rejected:
                payload.user_errors.append(_user_error(rejected))
            return payload
        _audit(info, "enrollUser", {}, ids.code.value)
        return payload

    @mutation_field(
        description="Remove a user's enrollment in a course. Needs a key with the `write` "
        "scope. One write call; no enrollment to remove is `NOT_ENROLLED` in `userErrors`."
    )
    async def unenroll_user(
        self, info: Info, input: Annotated[UnenrollUserInput, _INPUT]
    ) -> UnenrollUserPayload:
        require_scope(info, "write")
        ids = _user_and_course(info, input.user_id, input.course_id)
        payload = UnenrollUserPayload(
            unenrolled_enrollment_id=None,
            user_errors=[],
            client_mutation_id=input.client_mutation_id,
        )
        if isinstance(ids, UserError):
            payload.user_errors.append(ids)
            _audit(info, "unenrollUser", {}, ids.code.value)
            return payload
        user_id, course_id = ids
        try:
            await _audited(
                info,
                "unenrollUser",
                {"user": user_id, "course": course_id},
                info.context.provider.unenroll_user(user_id, course_id),
            )
        except WriteRejected as rejected:
            payload.user_errors.append(_user_error(rejected))
            return payload
        payload.unenrolled_enrollment_id = global_id(
            info, "CourseEnrollment", f"{user_id}:{course_id}"
        )
        return payload


def require_scope(info: Info, scope: str) -> None:
    """Refuse, before any upstream call, a mutation the request's key may not make."""
    if scope not in info.context.scopes:
        raise NotPermitted(f"This gateway key does not have the {scope!r} scope")


def _user_and_course(info: Info, user: str, course: str) -> tuple[str, str] | UserError:
    """The provider's ids of the input's user and course, or the ``UserError`` of the first
    that names no record of this account (a bad id is ``BAD_USER_INPUT``, an error)."""
    user_id = reference_id(info, user, ("User",), "input.userId")
    if user_id is None:
        return UserError(
            code=UserErrorCode.USER_NOT_FOUND,
            field=["input", "userId"],
            message="No user of this account has this id",
        )
    course_id = reference_id(info, course, ("Course",), "input.courseId")
    if course_id is None:
        return UserError(
            code=UserErrorCode.COURSE_NOT_FOUND,
            field=["input", "courseId"],
            message="No course of this account has this id",
        )
    return user_id, course_id


def _user_error(rejected: WriteRejected) -> UserError:
    field = ["input", *rejected.field] if rejected.field else None
    return UserError(code=rejected.user_error_code, field=field, message=rejected.message)


async def _audited(info: Info, mutation: str, targets: Mapping[str, str], write: Awaitable[T]) -> T:
    """``write``'s value, audited with its outcome (``ok``, the userErrors code, or the
    error's code) whichever way it ends."""
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
    _audit(info, mutation, targets, "ok")
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
