"""Demand control: estimate, before execution, what an operation will cost upstream.

The estimate walks the operation (fragments expanded) with the number of objects each
field will be resolved on, and asks the provider's cost table what each field costs:

* ``calls`` per parent object (e.g. a course detail per enrollment whose course is opened);
* ``detail`` — the field needs the parent's full record; counted once per parent object,
  however many fields need it, and after it the parent counts as full;
* ``once`` — calls shared by the whole operation (a category list, the portal's siteinfo);
* ``reference`` — the field returns references (a group's members) that hold only a few
  fields: selecting any other loads each one's record, and after it the object is full.

List sizes come from ``first``/``last`` (default 25). The estimate is an upper bound on
calls for the gateway's call plan (deduplication only makes the real count smaller) and
is reported beside the actual count in ``extensions.cost``.

Calls with a ``key`` (``users/id``, ``courses/id``) fetch records the portal's own data
names, and the provider makes each at most once per operation: their count is bounded by
the records of that kind the portal holds (the table's ``record_bounds``), when known.
Calls named by arguments (``user(id:)``) are not: an id may name nobody. The quota check
leaves out calls whose answers the upstream cache holds now (``cached``: root lookups and
lists); the limit check does not, so that whether an operation is accepted does not depend
on what other requests happened to cache.

A federation subgraph's ``_entities`` (``schema/federation.py``) costs, per distinct
representation, what the root lookup of its type costs (``ENTITY_LOOKUPS``), and the
fields selected on each type are walked once per distinct representation of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
)

# graphql-core's own module, not its package's exports: tests/test_strawberry_internals.py.
from graphql.execution.values import VariableValues, get_argument_values, get_variable_values

from gateway.domain.cost import CostEstimate, CostTable, FieldCost
from gateway.domain.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, peek_offset
from gateway.errors import ErrorCode, PacingTimeout, TooComplex, retry_after_seconds
from gateway.upstream.pacer import Admission
from gateway.upstream.quota import QuotaTracker
from schema.types.node import NODE_LOOKUPS, decode_global_id, id_problem, remote_id_of

__all__ = ["ENTITY_LOOKUPS", "cost_rule", "estimate_operation"]

ENTITY_LOOKUPS: Final[dict[str, str]] = {
    "User": "user",
    "Course": "course",
    "CourseItem": "courseItem",
    "CourseEnrollment": "courseEnrollment",
    "Group": "group",
}
"""The root lookup whose loader resolves a federation entity of each type."""


def _entity_reference(representation: object) -> tuple[str, str] | None:
    """The type name and provider id of an ``_entities`` representation the resolver will
    look up: one whose ``id`` is a global id of its ``__typename`` (it refuses the rest
    without a call)."""
    if not isinstance(representation, Mapping):
        return None
    type_name, key = representation.get("__typename"), representation.get("id")
    decoded = decode_global_id(key) if isinstance(key, str) else None
    if decoded is None or decoded.type_name != type_name:
        return None
    return type_name, decoded.remote_id


def _page_size(arguments: Mapping[str, Any]) -> int:
    for name in ("first", "last"):
        value = arguments.get(name)
        if isinstance(value, int) and value >= 0:
            return value
    return DEFAULT_PAGE_SIZE


# Field visits an estimate may make. Real operations need a few hundred; a fragment bomb
# (fragments spreading fragments) would need billions and is refused instead.
MAX_VISITS = 20_000


_LOOKUP_TYPES: Final[Mapping[str, str]] = {
    lookup: type_name for type_name, lookup in NODE_LOOKUPS.items()
}


def _with_provider_ids(field_name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """``arguments`` with the provider's ids where the client gave global ids: cost tables
    speak the provider's ids (to ask the upstream cache what it holds)."""
    type_name = _LOOKUP_TYPES.get(field_name)
    if type_name is not None:
        remote = arguments.get("remoteId")
        if remote is None:
            remote = remote_id_of(arguments.get("id"), (type_name,))
        return {**arguments, "id": remote}
    f = arguments.get("filter")
    if not isinstance(f, Mapping):
        return arguments
    ids = {
        "userId": remote_id_of(f.get("userId"), ("User",)),
        "courseId": remote_id_of(f.get("courseId"), ("Course",)),
        "category": remote_id_of(f.get("category"), ("Category",)),
    }
    return {**arguments, "filter": {**f, **{k: v for k, v in ids.items() if v is not None}}}


class _Walker:
    def __init__(
        self, context: ValidationContext, table: CostTable, variables: VariableValues
    ) -> None:
        self._context = context
        self._table = table
        self._variables = variables
        self._visits = 0
        self.estimate = CostEstimate()
        self.bad_arguments: list[tuple[FieldNode, str]] = []

    def check_paging(self, node: FieldNode, arguments: Mapping[str, Any]) -> None:
        """Refuse page sizes and cursors no list accepts, before any call is made."""
        first, last = arguments.get("first"), arguments.get("last")
        if first is not None and last is not None:
            self.bad_arguments.append((node, f"{node.name.value}: give first or last, not both"))
        for name, value in (("first", first), ("last", last)):
            if isinstance(value, int) and not 0 <= value <= MAX_PAGE_SIZE:
                self.bad_arguments.append(
                    (node, f"{name} must be between 0 and {MAX_PAGE_SIZE}, got {value}")
                )
        for name in ("after", "before"):
            cursor = arguments.get(name)
            if cursor is not None and peek_offset(cursor) is None:
                self.bad_arguments.append((node, f"invalid cursor for {node.name.value}"))

    def check_ids(self, node: FieldNode, type_name: str, arguments: Mapping[str, Any]) -> None:
        """Refuse ids of another type, or of none, before any call (the resolvers would too,
        but a nested list's only after its parent's calls)."""
        field_name = node.name.value
        given: list[tuple[object, Collection[str] | None, str]] = []
        if type_name == "Query" and field_name in _LOOKUP_TYPES:
            given.append((arguments.get("id"), (_LOOKUP_TYPES[field_name],), "id"))
        elif type_name == "Query" and field_name == "node":
            given.append((arguments.get("id"), None, "id"))
        elif type_name == "Query" and field_name == "nodes":
            ids = arguments.get("ids") or ()
            given += [(value, None, f"ids[{index}]") for index, value in enumerate(ids)]
        f = arguments.get("filter")
        if isinstance(f, Mapping):
            given.append((f.get("userId"), ("User",), "filter.userId"))
            given.append((f.get("courseId"), ("Course",), "filter.courseId"))
            category = f.get("category")
            if isinstance(category, str) and decode_global_id(category) is not None:
                given.append((category, ("Category",), "filter.category"))
        for value, expected, where in given:
            problem = id_problem(value, expected, where) if isinstance(value, str) else None
            if problem is not None:
                self.bad_arguments.append((node, f"{field_name}: {problem}"))

    def _visit(self, count: int = 1) -> None:
        self._visits += count
        if self._visits > MAX_VISITS:
            raise TooComplex(MAX_VISITS)

    def fields(
        self, selection_set: SelectionSetNode, seen: frozenset[str], on: str | None = None
    ) -> list[FieldNode]:
        """Fields of a selection set, fragments expanded (a fragment cycle is cut).

        ``on``: only what applies to that object type, for selections on a union.
        """
        found: list[FieldNode] = []
        for selection in selection_set.selections:
            self._visit()
            if isinstance(selection, FieldNode):
                found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(selection.type_condition, on):
                    found += self.fields(selection.selection_set, seen, on)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self._context.get_fragment(name)
                if (
                    fragment is not None
                    and name not in seen
                    and self._applies(fragment.type_condition, on)
                ):
                    found += self.fields(fragment.selection_set, seen | {name}, on)
        return found

    def _applies(self, condition: NamedTypeNode | None, on: str | None) -> bool:
        if on is None or condition is None or condition.name.value == on:
            return True
        named = self._context.schema.get_type(condition.name.value)
        if isinstance(named, GraphQLInterfaceType):  # `... on Node` under node(id:)
            return any(t.name == on for t in self._context.schema.get_possible_types(named))
        return isinstance(named, GraphQLUnionType) and any(t.name == on for t in named.types)

    def arguments(self, definition: GraphQLField, node: FieldNode) -> dict[str, Any]:
        try:
            return get_argument_values(definition, node, self._variables)
        except (GraphQLError, TypeError, ValueError):
            return {}  # invalid arguments are reported by validation; cost them as defaults

    def walk(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode,
        objects: int,
        full: bool,
        seen: frozenset[str] = frozenset(),
        on_union: bool = False,
        reference: FieldCost | None = None,
    ) -> None:
        if objects <= 0:
            return
        nodes = self.fields(selection_set, seen, parent.name if on_union else None)
        if (
            reference is not None
            and reference.reference is not None
            and not full
            and any(node.name.value not in reference.reference for node in nodes)
        ):
            self.count(objects, reference.reference_key)  # each reference loads its record
            full = True
        planned: list[tuple[FieldNode, GraphQLField, dict[str, Any], FieldCost]] = []
        for node in nodes:
            name = node.name.value
            definition = parent.fields.get(name)
            if definition is None:
                continue  # __typename, or an unknown field validation reports
            arguments = self.arguments(definition, node)
            self.check_ids(node, parent.name, arguments)
            if parent is self._context.schema.query_type and name in _BY_GLOBAL_ID:
                _BY_GLOBAL_ID[name](self, node, arguments, seen)
                continue
            arguments = _with_provider_ids(name, arguments)
            self.check_paging(node, arguments)
            selected = (
                frozenset(f.name.value for f in self.fields(node.selection_set, seen))
                if node.selection_set
                else frozenset()
            )
            cost = self._table.cost(parent.name, name, arguments=arguments, selected=selected)
            planned.append((node, definition, arguments, cost))
        details = [cost for *_, cost in planned if cost.detail]
        if not full and details:
            detail = max(details, key=lambda cost: cost.detail_calls)
            # One detail record per parent object, whichever fields need it.
            self.count(objects * detail.detail_calls, detail.detail_key)
            full = True
        self.estimate.fields += objects * len(nodes)
        for node, definition, arguments, cost in planned:
            self.add(objects, cost)
            if node.selection_set is None:
                continue
            child_full = full if cost.result_full is None else cost.result_full
            self.child(definition, node, arguments, cost, objects, child_full, seen)

    def count(self, calls: int, key: str | None) -> None:
        if key is None:
            self.estimate.calls += calls
        else:
            self.estimate.lookups[key] += calls

    def add(self, objects: int, cost: FieldCost) -> None:
        """``cost`` on ``objects`` parent objects."""
        self.count(objects * cost.calls, cost.key)
        if cost.key is None:
            self.estimate.cached += objects * min(cost.cached, cost.calls)
        self.estimate.once |= cost.once

    def entities(self, node: FieldNode, arguments: Mapping[str, Any], seen: frozenset[str]) -> None:
        """A subgraph's ``_entities``: each distinct reference costs its type's root lookup.

        Representations that name no entity type, or no global id of it, are refused without
        a call and cost nothing.
        """
        references = map(_entity_reference, arguments.get("representations") or ())
        distinct = {reference for reference in references if reference is not None}
        counts = Counter(type_name for type_name, _ in distinct)
        for type_name, count in counts.items():
            lookup = ENTITY_LOOKUPS.get(type_name)
            named = self._context.schema.get_type(type_name) if lookup else None
            if lookup is None or not isinstance(named, GraphQLObjectType):
                continue
            cost = self._table.cost("Query", lookup, arguments={"id": None}, selected=frozenset())
            self.add(count, cost)
            if node.selection_set is not None:
                full = True if cost.result_full is None else cost.result_full
                self.walk(named, node.selection_set, count, full, seen, on_union=True)

    def nodes(self, node: FieldNode, arguments: Mapping[str, Any], seen: frozenset[str]) -> None:
        """``node(id:)`` and ``nodes(ids:)``: each distinct id costs its type's root lookup.

        Ids that are none of this API's cost nothing: the resolver refuses them.
        """
        given = arguments.get("ids") if node.name.value == "nodes" else [arguments.get("id")]
        decoded = {decode_global_id(i) for i in given or () if isinstance(i, str)}
        for reference in decoded:
            if reference is None:
                continue
            named = self._context.schema.get_type(reference.type_name)
            if not isinstance(named, GraphQLObjectType):
                continue
            lookup = NODE_LOOKUPS[reference.type_name]
            cost = self._table.cost(
                "Query", lookup, arguments={"id": reference.remote_id}, selected=frozenset()
            )
            self.add(1, cost)
            if node.selection_set is not None:
                full = True if cost.result_full is None else cost.result_full
                self.walk(named, node.selection_set, 1, full, seen, on_union=True)

    def child(
        self,
        definition: GraphQLField,
        node: FieldNode,
        arguments: Mapping[str, Any],
        cost: FieldCost,
        objects: int,
        full: bool,
        seen: frozenset[str],
    ) -> None:
        assert node.selection_set is not None
        named = get_named_type(definition.type)
        if not isinstance(named, GraphQLObjectType):
            return
        reference = cost if cost.reference is not None else None
        if named.name.endswith("Connection"):
            size = _page_size(arguments)
            if cost.list_size is not None:  # a page holds no more than the whole list
                size = min(size, cost.list_size)
            self.connection(named, node.selection_set, objects, size, full, seen, reference)
            return
        field_type = definition.type
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        if isinstance(field_type, GraphQLList):
            objects *= cost.list_size if cost.list_size is not None else DEFAULT_PAGE_SIZE
        self.walk(named, node.selection_set, objects, full, seen, reference=reference)

    def connection(
        self,
        connection: GraphQLObjectType,
        selection_set: SelectionSetNode,
        objects: int,
        size: int,
        full: bool,
        seen: frozenset[str],
        reference: FieldCost | None = None,
    ) -> None:
        node_type = get_named_type(connection.fields["nodes"].type)
        assert isinstance(node_type, GraphQLObjectType)
        nodes = self.fields(selection_set, seen)
        self.estimate.fields += objects * len(nodes)
        for child in nodes:
            if child.selection_set is None:
                continue
            name = child.name.value
            if name == "nodes":
                self.walk(
                    node_type, child.selection_set, objects * size, full, seen, reference=reference
                )
            elif name == "edges":
                for edge_field in self.fields(child.selection_set, seen):
                    self.estimate.fields += objects * size
                    if edge_field.name.value == "node" and edge_field.selection_set:
                        self.walk(
                            node_type,
                            edge_field.selection_set,
                            objects * size,
                            full,
                            seen,
                            reference=reference,
                        )
            else:  # pageInfo
                self.estimate.fields += objects * len(self.fields(child.selection_set, seen))


_BY_GLOBAL_ID: Final[
    dict[str, Callable[[_Walker, FieldNode, Mapping[str, Any], frozenset[str]], None]]
] = {
    "_entities": _Walker.entities,  # a federation subgraph's
    "node": _Walker.nodes,
    "nodes": _Walker.nodes,
}
"""Root fields that name records by id whatever their type: costed by the ids they get."""


def estimate_operation(
    context: ValidationContext,
    operation: OperationDefinitionNode,
    table: CostTable,
    variables: Mapping[str, Any],
) -> tuple[CostEstimate, list[tuple[FieldNode, str]]]:
    """The estimate, and the paging arguments found invalid on the way."""
    root = context.schema.get_root_type(operation.operation)
    definitions = operation.variable_definitions or ()
    coerced = get_variable_values(context.schema, definitions, dict(variables))
    if not isinstance(coerced, VariableValues):  # bad variables: execution reports them
        coerced = VariableValues({}, {})
    walker = _Walker(context, table, coerced)
    walker.estimate.bounds = dict(table.record_bounds())
    if root is not None:
        walker.walk(root, operation.selection_set, 1, full=True)
    return walker.estimate, walker.bad_arguments


def cost_rule(
    table: CostTable,
    variables: Mapping[str, Any] | None,
    operation_name: str | None,
    max_calls: int,
    on_estimate: Callable[[CostEstimate], None],
    quota: QuotaTracker | None = None,
    admission: Admission | None = None,
) -> type[ValidationRule]:
    """A validation rule that estimates the chosen operation and refuses it over ``max_calls``,
    over the portal's hourly quota, or when the portal's pacer cannot start its calls before
    the deadline (``admission``; an operation it admits is promised its calls).

    On the way it refuses page sizes and cursors no list accepts, with ``BAD_USER_INPUT``,
    so that such operations make no call at all.
    """

    class CostLimit(ValidationRule):
        per_request = True  # depends on variables and quota: see ValidatedDocuments

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            name = node.name.value if node.name else None
            operations = [
                d
                for d in self.context.document.definitions
                if isinstance(d, OperationDefinitionNode)
            ]
            if operation_name is not None and name != operation_name:
                return
            if operation_name is None and len(operations) != 1:
                return  # ambiguous: execution refuses it anyway
            try:
                estimate, bad = estimate_operation(self.context, node, table, variables or {})
            except TooComplex as too_complex:
                self.report_error(
                    GraphQLError(too_complex.message, node, extensions={"code": too_complex.code})
                )
                return
            for field_node, message in bad:
                self.report_error(
                    GraphQLError(message, field_node, extensions={"code": ErrorCode.BAD_USER_INPUT})
                )
            if bad:
                return
            on_estimate(estimate)
            if quota is not None and not quota.can_afford(estimate.uncached_calls):
                # Better to refuse now than to spend the portal's last calls on a partial answer.
                snapshot = quota.snapshot()
                self.report_error(
                    GraphQLError(
                        f"This query may need up to {estimate.uncached_calls} upstream calls and "
                        f"the portal has {quota.remaining} left this hour; retry after "
                        f"{snapshot['quotaResetAt']}.",
                        node,
                        extensions={
                            "code": ErrorCode.UPSTREAM_RATE_LIMITED,
                            "retryAt": snapshot["quotaResetAt"],
                            "cost": estimate.as_extension(),
                        },
                    )
                )
                return
            if estimate.total_calls > max_calls:
                self.report_error(
                    GraphQLError(
                        f"This query may need up to {estimate.total_calls} upstream calls; "
                        f"the limit is {max_calls}. Ask for fewer items (first/last) or "
                        "fewer nested lists.",
                        node,
                        extensions={
                            "code": ErrorCode.COST_LIMIT_EXCEEDED,
                            "cost": {**estimate.as_extension(), "maxCalls": max_calls},
                        },
                    )
                )
                return
            if admission is not None:
                try:
                    admission.request(estimate.uncached_calls)
                except PacingTimeout as busy:
                    self.report_error(
                        GraphQLError(
                            busy.message,
                            node,
                            extensions={
                                "code": ErrorCode.UPSTREAM_RATE_LIMITED,
                                "retryAfter": retry_after_seconds(busy.retry_after),
                                "cost": estimate.as_extension(),
                            },
                        )
                    )

    return CostLimit
