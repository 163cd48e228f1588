"""The gateway as an Apollo Federation 2 subgraph (``LMS_GATEWAY_FEDERATION=true``).

``User``, ``Course``, ``CourseItem``, ``CourseEnrollment`` and ``Group`` are entities keyed
by ``id``, their global id (``schema/types/node.py``): it names the type, the account and the
provider's id. An id alone finds its record, without another upstream call: a course item's
provider id carries its course (``{courseId}:{unitId}``) and an enrollment's its user
(``{userId}:{courseId}``). An id of another account resolves to null, with an error. So
``_entities`` resolves each representation through the same per-operation loader as the
root lookup of its type (``user``, ``course``, ``courseItem``, ``courseEnrollment``,
``group``): all references of one request are one loader batch, duplicates are loaded once,
and a reference costs what that lookup costs.

The plain schema and its SDL know nothing of this: the ``@key`` directives sit on copies
of the entity types' Strawberry definitions that only the subgraph schema registers. The
copies keep their class as ``origin``, so Strawberry resolves every field that returns one
of them to the keyed copy.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Final, TypeAlias

import strawberry
from strawberry import scalar
from strawberry.extensions import SchemaExtension
from strawberry.federation import Schema as FederationSchema

# Private Strawberry APIs, and the behaviours below: tests/test_strawberry_internals.py checks them.
from strawberry.federation.schema import FederationAny
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet
from strawberry.schema.config import StrawberryConfig
from strawberry.types.base import StrawberryObjectDefinition, get_object_definition
from strawberry.types.scalar import ScalarDefinition, ScalarWrapper

from gateway.domain import model
from gateway.errors import BadUserInput, RecordNotFound
from gateway.execution.context import Info
from gateway.execution.loaders import (
    CourseByIdLoader,
    CourseItemByIdLoader,
    EnrollmentByIdLoader,
    GroupByIdLoader,
    Loaders,
    UserByIdLoader,
)
from schema import GatewaySchema
from schema.types import descriptions
from schema.types.course_items import CourseItem
from schema.types.courses import Course
from schema.types.enrollments import CourseEnrollment
from schema.types.groups import Group
from schema.types.mutations import Mutation
from schema.types.node import reference_id
from schema.types.query import Query
from schema.types.shared import resolver_field
from schema.types.users import User
from schema.validation.cost import ENTITY_LOOKUPS

__all__ = ["ENTITY_LOADERS", "FEDERATION_VERSION", "SubgraphQuery", "SubgraphSchema"]

FEDERATION_VERSION: Final = "2.0"
"""The oldest Federation 2: ``@key`` is all the subgraph uses, and every Federation 2
router and composition accepts it."""

_EntityLoader: TypeAlias = (
    UserByIdLoader
    | CourseByIdLoader
    | CourseItemByIdLoader
    | EnrollmentByIdLoader
    | GroupByIdLoader
)
_EntityRecord: TypeAlias = (
    model.User | model.Course | model.CourseItem | model.CourseEnrollment | model.Group
)

ENTITY_LOADERS: Final[dict[str, Callable[[Loaders], _EntityLoader]]] = {
    "User": lambda loaders: loaders.user_by_id,
    "Course": lambda loaders: loaders.course_by_id,
    "CourseItem": lambda loaders: loaders.course_item_by_id,
    "CourseEnrollment": lambda loaders: loaders.enrollment_by_id,
    "Group": lambda loaders: loaders.group_by_id,
}
"""The loader that resolves a reference to each entity type: the root lookup's."""

assert ENTITY_LOADERS.keys() == ENTITY_LOOKUPS.keys()  # resolution and cost name the same types

Entity = Annotated[
    User | Course | CourseItem | CourseEnrollment | Group,
    strawberry.union(
        "_Entity",
        description="The entity types, keyed by their global id: what `_entities` resolves.",
    ),
]

# Federation's own `_Any` as Strawberry defines it (identity in and out), with a description.
# (tests/test_strawberry_internals.py checks that an override replaces Strawberry's.)
_ANY: Final = scalar(
    name="_Any",
    description="A representation of an entity as a router sends it: an object with "
    "`__typename` and the record's global `id`.",
    serialize=lambda value: value,
    parse_value=lambda value: value,
)


def _keyed(graphql_type: type, model_type: type) -> StrawberryObjectDefinition:
    """A copy of ``graphql_type``'s definition with ``@key(fields: "id")``.

    Resolvers return the unified model's records, not Strawberry objects, so the copy also
    says which records it stands for: that is how ``_Entity`` knows what it holds.
    """
    definition = get_object_definition(graphql_type, strict=True)
    return dataclasses.replace(
        definition,
        directives=[*(definition.directives or ()), Key(fields=FieldSet("id"))],
        is_type_of=lambda record, _info: isinstance(record, model_type),
    )


_ENTITY_DEFINITIONS: Final = (
    _keyed(User, model.User),
    _keyed(Course, model.Course),
    _keyed(CourseItem, model.CourseItem),
    _keyed(CourseEnrollment, model.CourseEnrollment),
    _keyed(Group, model.Group),
)


@strawberry.type(name="_Service", description="This subgraph, for the router's composition.")
class Service:
    sdl: str = strawberry.field(
        description="The subgraph's SDL: this schema with its `@key` directives and its "
        "`@link` to Federation 2."
    )


def _reference(index: int, representation: object) -> tuple[str, str]:
    """The type and id a representation names; ``BAD_USER_INPUT`` when it names none."""
    where = f"representations[{index}]"
    if not isinstance(representation, Mapping):
        raise BadUserInput(f"{where} must be an object with __typename and id")
    type_name = representation.get("__typename")
    if not isinstance(type_name, str) or type_name not in ENTITY_LOADERS:
        raise BadUserInput(f"{where}: __typename must be one of {', '.join(ENTITY_LOADERS)}")
    key = representation.get("id")
    if isinstance(key, bool) or not isinstance(key, str | int):
        raise BadUserInput(f"{where}: a {type_name} is referenced by its id, a string")
    return type_name, str(key)


async def _entity(info: Info, index: int, representation: object) -> _EntityRecord | Exception:
    """The record a representation names, or the error to report in its place."""
    try:
        type_name, key = _reference(index, representation)
        where = f"representations[{index}].id"
        remote_id = reference_id(info, key, (type_name,), where)
        record = None
        if remote_id is not None:  # None: an id of another account names nothing here
            record = await ENTITY_LOADERS[type_name](info.context.loaders).load(remote_id)
    except Exception as error:  # reported at _entities.<index>; the other entities stand
        return error
    if record is None:
        return RecordNotFound(f'No {type_name} has the id "{key}"')
    return record


@strawberry.type(name="Query", description=descriptions.QUERY)
class SubgraphQuery(Query):
    @resolver_field(
        name="_service",
        description="This subgraph's SDL, which a router composes; it answers even with "
        "introspection off.",
    )
    def service(self, info: Info) -> Service:
        return Service(sdl=info.schema.as_str())

    @resolver_field(
        name="_entities",
        description="Records by the representations a router sends; a representation "
        "that names nothing is null, with an error at its index.",
        graphql_type=list[Entity | None],
    )
    async def entities(
        self,
        info: Info,
        representations: Annotated[
            list[FederationAny],
            strawberry.argument(
                description="The records a router asks for, each `{__typename, id}` with the "
                "record's global id; each is loaded as its type's root lookup loads it."
            ),
        ],
    ) -> list[_EntityRecord | Exception]:
        # One gather: every lookup is queued before the loaders dispatch their batch.
        return await asyncio.gather(
            *(_entity(info, index, rep) for index, rep in enumerate(representations))
        )


# Strawberry prints `schema @link(…) { query: Query }`; Apollo's subgraph libraries print
# `extend schema @link(…)`, which says the same with the default root type names.
# (tests/test_strawberry_internals.py checks Strawberry's form.)
_SCHEMA_DEFINITION = re.compile(
    r"\Aschema (@link\(.*?\)) \{\n  query: Query\n  mutation: Mutation\n\}\n", re.S
)


# @defer and @stream as Strawberry prints their definitions. The subgraph runs them for clients
# that call it directly, as the gateway does, but its SDL leaves them out: a router plans @defer
# itself and never sends it to a subgraph, and composition gets the SDL it always had.
_INCREMENTAL_DIRECTIVES = re.compile(
    r'"""\n[^"]*"""\ndirective @(?:defer|stream)\(.*?\n\) on [A-Z_ |]+\n\n', re.S
)


class SubgraphSchema(GatewaySchema, FederationSchema):
    """The gateway's schema with the Federation 2 subgraph fields and entity keys."""

    def __init__(
        self,
        *,
        scalar_overrides: Mapping[object, type | ScalarWrapper | ScalarDefinition],
        extensions: Iterable[type[SchemaExtension] | Callable[[], SchemaExtension]],
        config: StrawberryConfig,
    ) -> None:
        super().__init__(
            query=SubgraphQuery,
            mutation=Mutation,
            # Registered before any field is converted, so every reference to the entity
            # types finds the keyed copy (module docstring; tests/test_strawberry_internals.py).
            # The federation Schema declares classes only; the Schema it passes them to takes
            # definitions.
            types=_ENTITY_DEFINITIONS,  # type: ignore[arg-type]
            scalar_overrides={**scalar_overrides, FederationAny: _ANY},
            extensions=extensions,
            config=config,
            federation_version=FEDERATION_VERSION,
        )
        self._sdl: str | None = None

    def as_str(self) -> str:
        if self._sdl is None:
            printed = super().as_str()
            head = _SCHEMA_DEFINITION.match(printed)
            if head is None:
                raise RuntimeError("the subgraph SDL does not start with its @link")
            body = _INCREMENTAL_DIRECTIVES.sub("", printed[head.end() :])
            self._sdl = f"extend schema {head.group(1)}\n" + body
        return self._sdl
