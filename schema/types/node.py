"""Global object identification (the Relay spec): the ``Node`` interface and its ids.

Every record with an ``id`` — users, courses, course items, enrollments, categories,
organizations and groups — implements ``Node``, and its ``id`` is unique across types and accounts:
clients' normalized caches (Relay, Apollo Client, urql's Graphcache) key records by it.
The LMS's own id stays readable as ``remoteId``.

A global id is the unpadded URL-safe base64 of ``{type}:{scope}:{remote id}``. ``scope``
names the account without spelling it out (the first 8 hex digits of its SHA-256), so an
id read under one account finds nothing under another. Clients must treat ids as opaque;
the format is ours to change.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Awaitable, Collection, Mapping
from functools import lru_cache
from typing import Any, Final, NamedTuple, TypeAlias, TypeVar

import strawberry
from aiodataloader import DataLoader

from gateway.domain import model
from gateway.errors import BadUserInput
from gateway.execution.context import Info
from gateway.execution.loaders import Loaders

__all__ = [
    "NODE_LOOKUPS",
    "NODE_TYPES",
    "GlobalId",
    "Node",
    "NodeRecord",
    "decode_global_id",
    "encode_global_id",
    "global_id",
    "id_problem",
    "load_node",
    "look_up",
    "lookup_id",
    "node_id_field",
    "reference_id",
    "remote_id_field",
    "remote_id_of",
]

V = TypeVar("V")

NodeRecord: TypeAlias = (
    model.User
    | model.Course
    | model.CourseItem
    | model.CourseEnrollment
    | model.Category
    | model.Organization
    | model.Group
)

NODE_TYPES: Final[Mapping[type[NodeRecord], str]] = {
    model.User: "User",
    model.Course: "Course",
    model.CourseItem: "CourseItem",
    model.CourseEnrollment: "CourseEnrollment",
    model.Category: "Category",
    model.Organization: "Organization",
    model.Group: "Group",
}
"""The GraphQL type of each record that is a ``Node``."""

NODE_LOOKUPS: Final[Mapping[str, str]] = {
    "User": "user",
    "Course": "course",
    "CourseItem": "courseItem",
    "CourseEnrollment": "courseEnrollment",
    "Category": "category",
    "Organization": "organization",
    "Group": "group",
}
"""What ``node(id:)`` costs for each type: what this lookup costs (the cost table's name)."""


def _load(loaders: Loaders, type_name: str, remote_id: str) -> Awaitable[NodeRecord | None]:
    """The loader call that answers a ``node`` of ``type_name``: its root lookup's."""
    match type_name:
        case "User":
            return loaders.user_by_id.load(remote_id)
        case "Course":
            return loaders.course_by_id.load(remote_id)
        case "CourseItem":
            return loaders.course_item_by_id.load(remote_id)
        case "CourseEnrollment":
            return loaders.enrollment_by_id.load(remote_id)
        case "Category":
            return loaders.category_by_id.load(remote_id)
        case "Group":
            return loaders.group_by_id.load(remote_id)
    return loaders.organization_by_id.load(remote_id)


ID_DESCRIPTION: Final = (
    "Globally unique and opaque: the same record always has the same id, no two records "
    "share one, and an id read under one account finds nothing under another. Not the "
    "LMS's own id (that is `remoteId`)."
)


class GlobalId(NamedTuple):
    """What a global id says: the record's type, its account's scope and its own id."""

    type_name: str
    scope: str
    remote_id: str


@lru_cache(maxsize=1024)
def _scope(account_id: str) -> str:
    return hashlib.sha256(account_id.encode()).hexdigest()[:8]


def encode_global_id(type_name: str, account_id: str, remote_id: str) -> strawberry.ID:
    """The global id of ``type_name``'s record ``remote_id`` in account ``account_id``."""
    text = f"{type_name}:{_scope(account_id)}:{remote_id}"
    return strawberry.ID(base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode("ascii"))


def global_id(info: Info, type_name: str, remote_id: str) -> strawberry.ID:
    """The global id of ``type_name``'s record ``remote_id`` in this operation's account."""
    return encode_global_id(type_name, info.context.account_id, remote_id)


def decode_global_id(value: str) -> GlobalId | None:
    """What ``value`` says, or ``None`` when it is no global id of this API."""
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    type_name, _, rest = text.partition(":")
    scope, _, remote_id = rest.partition(":")
    if type_name not in NODE_LOOKUPS or len(scope) != 8 or not remote_id:
        return None
    return GlobalId(type_name, scope, remote_id)


def _expected(types: Collection[str]) -> str:
    names = sorted(types)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def id_problem(value: str, expected: Collection[str] | None, where: str) -> str | None:
    """Why ``value`` cannot name a record of the ``expected`` types (any ``Node`` type when
    ``None``), or ``None`` when it can."""
    decoded = decode_global_id(value)
    if decoded is None:
        return (
            f"{where} is not an id of this API (ids are opaque: read them from an id field, "
            "or look records up by remoteId)"
        )
    if expected is not None and decoded.type_name not in expected:
        return f"{where} is the id of a {decoded.type_name}, not of a {_expected(expected)}"
    return None


def _decoded_here(
    info: Info, value: str, expected: Collection[str] | None, where: str
) -> GlobalId | None:
    """What the global id ``value`` says, or ``None`` when it belongs to another account (it
    names nothing here); an id that is none of this API's, or of a type not ``expected``,
    is ``BAD_USER_INPUT``."""
    problem = id_problem(value, expected, where)
    if problem is not None:
        raise BadUserInput(problem)
    decoded = decode_global_id(value)
    assert decoded is not None
    return decoded if decoded.scope == _scope(info.context.account_id) else None


def reference_id(info: Info, value: str, expected: Collection[str], where: str) -> str | None:
    """The remote id of the record ``value`` names, one of the ``expected`` types (``None``
    for another account's id; ``BAD_USER_INPUT`` for a bad id or one of another type)."""
    decoded = _decoded_here(info, value, expected, where)
    return None if decoded is None else decoded.remote_id


def lookup_id(
    info: Info, type_name: str, field: str, id: str | None, remote_id: str | None
) -> str | None:
    """The remote id a root lookup asks for: by exactly one of ``id`` and ``remoteId``."""
    if (id is None) == (remote_id is None) or id == "" or remote_id == "":
        raise BadUserInput(f"{field} needs exactly one of id or remoteId")
    if remote_id is not None:
        return remote_id
    assert id is not None
    return reference_id(info, id, (type_name,), "id")


async def look_up(
    info: Info,
    type_name: str,
    loader: DataLoader[str, V],
    id: str | None,
    remote_id: str | None,
) -> V | None:
    """A root lookup of ``type_name`` (``course(id | remoteId)``, …) through its loader."""
    key = lookup_id(info, type_name, NODE_LOOKUPS[type_name], id, remote_id)
    return None if key is None else await loader.load(key)


def remote_id_of(value: object, expected: Collection[str]) -> str | None:
    """The remote id in ``value`` if it is a global id of an ``expected`` type, for estimates
    (which know no account: the resolver checks that)."""
    if not isinstance(value, str):
        return None
    decoded = decode_global_id(value)
    if decoded is None or decoded.type_name not in expected:
        return None
    return decoded.remote_id


async def load_node(info: Info, value: str, where: str) -> NodeRecord | None:
    """The record of any ``Node`` type that the global id ``value`` names."""
    decoded = _decoded_here(info, value, None, where)
    if decoded is None:
        return None
    return await _load(info.context.loaders, decoded.type_name, decoded.remote_id)


REMOTE_ID_DESCRIPTION: Final = (
    "The LMS's own id of this record, as a string (a number, an object id, a slug or a "
    "category's name, as the LMS keys it); a course item's is `{courseId}:{itemId}`, an "
    "enrollment's `{userId}:{courseId}`. Unique only within its type and account; root "
    "lookups accept it as `remoteId`."
)


def node_id_field(type_name: str) -> Any:
    """The ``id`` field of the ``Node`` type ``type_name`` (``Any``: a field declaration)."""

    def resolve(root: strawberry.Parent[NodeRecord], info: Info) -> strawberry.ID:
        return global_id(info, type_name, root.id)

    return strawberry.field(resolve, description=ID_DESCRIPTION)


def remote_id_field() -> Any:
    """The ``remoteId`` field of a ``Node`` type (``Any``: a field declaration)."""

    def resolve(root: strawberry.Parent[NodeRecord]) -> strawberry.ID:
        return strawberry.ID(root.id)

    return strawberry.field(resolve, description=REMOTE_ID_DESCRIPTION)


@strawberry.interface(
    description="A record with a globally unique id (the Relay spec's object identification). "
    "`node(id:)` and `nodes(ids:)` fetch any of them again."
)
class Node:
    id: strawberry.ID = strawberry.field(description=ID_DESCRIPTION)

    # Resolvers return the unified model's records, not Strawberry objects: each record's
    # class says its type (Strawberry's default checks would look for Strawberry objects).
    @classmethod
    def resolve_type(cls, record: object, info: object, abstract_type: object) -> str | None:
        return NODE_TYPES.get(type(record))  # type: ignore[arg-type]

    @classmethod
    def is_type_of(cls, record: object, info: object) -> bool:
        return NODE_TYPES.get(type(record)) == cls.__name__  # type: ignore[arg-type]
