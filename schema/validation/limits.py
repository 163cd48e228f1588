"""Operation limits: cheap checks that refuse abusive operations before they execute.

Anchors: the OWASP GraphQL cheat sheet, GraphQL Armor's defaults (max depth 6, max
aliases 15, max tokens 1000, max directives 50, hidden suggestions) and Apollo Router's
operation limits. Every limit is a plain graphql-core validation rule, so it runs with the
specification's rules and reports like them, with ``extensions.code``.

How the rules measure, and why:

* Per operation definition, through every fragment spread and inline fragment the
  operation uses; unused fragments are ignored (``NoUnusedFragments`` reports them).
* Fragments are never treated specially by *name*. Some depth limiters skip fragments
  whose name starts with ``__`` (meant to skip introspection), so ``fragment __schema on
  User { … }`` escapes them. Here only the introspection *fields* ``__schema`` and
  ``__type`` are special.
* Each fragment is measured once and remembered, so a fragment bomb (F1 spreads F0 ten
  times, F2 spreads F1 ten times, …) costs time linear in the document, not in its
  expansion. Counts saturate at the limit + 1, so the arithmetic stays small.
* A fragment cycle is cut where it closes (it adds nothing), so measuring terminates;
  ``NoFragmentCycles`` reports the cycle itself.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, fields
from typing import ClassVar, TypeVar, cast

from graphql import (
    SKIP,
    ASTValidationRule,
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VisitorAction,
)

from gateway.config import LimitsSettings
from gateway.errors import ErrorCode

__all__ = [
    "INTROSPECTION_FIELDS",
    "IntrospectionDisabled",
    "OperationLimitExceeded",
    "OperationLimits",
    "hide_suggestions",
    "limit_rules",
]

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
"""Fields that expose the schema. ``__typename`` is not one: it only names an object's type,
clients (Apollo, urql, Relay) add it everywhere, and it stays allowed."""


@dataclass(frozen=True)
class OperationLimits:
    """The limits one app applies to every operation.

    * ``max_depth`` — fields on the deepest path, the root field counting 1 (as Apollo
      Router counts); fragments and inline fragments add nothing. The deepest useful
      query of our schema, users → nodes → enrollments → nodes → course → items → nodes →
      children → title (``queries/learner_dashboard.graphql``), has depth 9; written the
      Relay way, through ``edges { node }``, it has depth 12. 13 admits both with one
      level of headroom; GraphQL Armor's 6 would refuse our own example queries. Depth is
      a cheap first guard: the cost limit is what bounds upstream work.
    * ``max_aliases`` — aliased fields the operation expands to; 15 as GraphQL Armor.
      Aliases are how one request asks for the same expensive field many times.
    * ``max_directives`` — directive uses the operation expands to. Armor allows 50; our
      schema has only ``@skip``/``@include``, so 20 is plenty and cuts directive floods.
    * ``max_root_fields`` — top-level fields (each one is a separate upstream lookup or
      list); 10 covers a dashboard and refuses alias batching of lookups.
    * ``max_mutations`` — top-level fields of a mutation, each one a write the LMS acts on,
      run one after the other in document order (the GraphQL spec): 5 covers a screen's
      actions and bounds what one request can change.
    * ``max_tokens`` — tokens of the document, comments included: graphql-core's parser
      stops there (``parse(..., max_tokens=…)``). Our example queries have under 100 and
      GraphiQL's full introspection query 163; 2000 (Armor: 1000) leaves room for the
      fragment-heavy documents code generators write, and still bounds parsing work.
    * ``introspection`` — False refuses ``__schema`` and ``__type`` (``__typename`` stays
      allowed). When allowed, their subtrees do not count for depth (GraphQL Armor's
      ``ignoreIntrospection``), so GraphiQL's introspection query (depth 15) passes; queries
      that cycle through types (fields → type → fields …) are refused by graphql-core's
      ``MaxIntrospectionDepthRule``, one of the specified rules.
    * ``hide_suggestions`` — remove every "Did you mean …?" from error messages, so that a
      client without introspection cannot discover the schema from typos.
    """

    max_depth: int = 13
    max_aliases: int = 15
    max_directives: int = 20
    max_root_fields: int = 10
    max_mutations: int = 5
    max_tokens: int = 2000
    introspection: bool = True
    hide_suggestions: bool = False

    def __post_init__(self) -> None:
        # A negative limit would refuse every operation: surely a configuration mistake.
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name.startswith("max_") and (
                not isinstance(value, int) or isinstance(value, bool) or value < 0
            ):
                raise ValueError(f"{field.name} must be an integer >= 0, not {value!r}")

    @classmethod
    def from_settings(cls, settings: LimitsSettings) -> OperationLimits:
        return cls(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_directives=settings.max_directives,
            max_root_fields=settings.max_root_fields,
            max_mutations=settings.max_mutations,
            max_tokens=settings.max_tokens,
            introspection=settings.introspection,
            hide_suggestions=settings.hide_suggestions,
        )


_MESSAGES = {
    "depth": "Query depth {actual} exceeds the maximum of {maximum}",
    "aliases": "Query alias count exceeds the maximum of {maximum}",
    "directives": "Query directive count exceeds the maximum of {maximum}",
    "root_fields": "Query root field count exceeds the maximum of {maximum}",
    "mutations": "Mutation count exceeds the maximum of {maximum} per operation",
    "tokens": "Query token count exceeds the maximum of {maximum}",
}


class OperationLimitExceeded(GraphQLError):
    """An operation over one of the limits, with ``extensions`` saying which and by how much.

    ``extensions`` = ``{"code": "OPERATION_LIMIT_EXCEEDED", "limit": <name>, "max": n,
    "actual": n}``. Limit names: ``depth``, ``aliases``, ``directives``, ``root_fields``,
    ``tokens`` (and ``introspection`` for :class:`IntrospectionDisabled`). Counts stop at
    the maximum + 1, so for every limit but ``depth`` an ``actual`` of max + 1 means "more
    than max" (counting a fragment bomb to the end would be the attack itself).
    """

    code: ClassVar[ErrorCode] = ErrorCode.OPERATION_LIMIT_EXCEEDED

    limit: str
    maximum: int
    actual: int

    def __init__(
        self,
        message: str,
        nodes: Node | Collection[Node] | None = None,
        *,
        limit: str,
        maximum: int,
        actual: int,
    ) -> None:
        super().__init__(
            message,
            nodes,
            extensions={"code": self.code, "limit": limit, "max": maximum, "actual": actual},
        )
        self.limit = limit
        self.maximum = maximum
        self.actual = actual

    @classmethod
    def for_limit(
        cls,
        limit: str,
        maximum: int,
        actual: int,
        nodes: Node | Collection[Node] | None = None,
    ) -> OperationLimitExceeded:
        """The error with the standard message, e.g. for ``limit="tokens"`` when parsing stops."""
        message = _MESSAGES[limit].format(actual=actual, maximum=maximum)
        return cls(message, nodes, limit=limit, maximum=maximum, actual=actual)


class IntrospectionDisabled(OperationLimitExceeded):
    """``__schema`` or ``__type`` selected while introspection is disabled.

    Its own code, ``INTROSPECTION_DISABLED``, so that clients (GraphiQL, codegen) can tell
    "no schema here" from "your query is too big".
    """

    code: ClassVar[ErrorCode] = ErrorCode.INTROSPECTION_DISABLED

    def __init__(self, field: FieldNode) -> None:
        super().__init__(
            f"Introspection is disabled, but the query selects '{field.name.value}'",
            field,
            limit="introspection",
            maximum=0,
            actual=1,
        )


# --- measuring ---------------------------------------------------------------------------


class _OperationRule(ValidationRule):
    """Measures each operation once, through its fragments, each fragment only once.

    Subclasses say what a field, a directive and a combination of siblings are worth; the
    value of a fragment is remembered by name for the rest of the document.
    """

    limits: ClassVar[OperationLimits]
    limit: ClassVar[str]

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self._fragment_values: dict[str, int] = {}
        self._measuring: set[str] = set()

    # what the subclasses define

    @property
    def maximum(self) -> int:
        raise NotImplementedError

    def combine(self, total: int, value: int) -> int:
        """Siblings: the sum, saturated at the maximum + 1 (the depth rule takes the max)."""
        return min(total + value, self.maximum + 1)

    def field(self, node: FieldNode) -> int:
        raise NotImplementedError

    def directives(self, directives: Iterable[DirectiveNode] | None) -> int:
        return 0

    # the walk

    def selection_set(self, node: SelectionSetNode | None) -> int:
        total = 0
        if node is None:
            return total
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                value = self.field(selection)
            elif isinstance(selection, InlineFragmentNode):
                value = self.combine(
                    self.directives(selection.directives),
                    self.selection_set(selection.selection_set),
                )
            elif isinstance(selection, FragmentSpreadNode):
                value = self.combine(
                    self.directives(selection.directives),
                    self.fragment(selection.name.value),
                )
            else:  # pragma: no cover - the AST has no other selections
                continue
            total = self.combine(total, value)
        return total

    def fragment(self, name: str) -> int:
        known = self._fragment_values.get(name)
        if known is not None:
            return known
        definition = self.context.get_fragment(name)
        if definition is None or name in self._measuring:
            return 0  # unknown (KnownFragmentNames) or a cycle (NoFragmentCycles): cut here
        self._measuring.add(name)
        try:
            value = self.combine(
                self.directives(definition.directives),
                self.selection_set(definition.selection_set),
            )
        finally:
            self._measuring.discard(name)
        self._fragment_values[name] = value
        return value

    def operation(self, node: OperationDefinitionNode) -> int:
        value = self.selection_set(node.selection_set)
        value = self.combine(value, self.directives(node.directives))
        for variable in node.variable_definitions or ():
            value = self.combine(value, self.directives(variable.directives))
        return value

    # the visitor

    def enter_operation_definition(
        self, node: OperationDefinitionNode, *_args: object
    ) -> VisitorAction:
        actual = self.operation(node)
        if actual > self.maximum:
            self.report_error(
                OperationLimitExceeded.for_limit(self.limit, self.maximum, actual, node)
            )
        return SKIP

    def enter_fragment_definition(
        self, _node: FragmentDefinitionNode, *_args: object
    ) -> VisitorAction:
        return SKIP  # measured where it is spread; an unused fragment does not count


class MaxDepthRule(_OperationRule):
    """Depth: fields on the deepest path, fragments and inline fragments adding nothing.

    With introspection allowed, a ``__schema``/``__type`` field and its subtree count 0, as
    GraphQL Armor's ``ignoreIntrospection``: GraphiQL's own query nests ``ofType`` 9 deep.
    Depth is never saturated: it is bounded by the document's nesting anyway.
    """

    limit = "depth"

    @property
    def maximum(self) -> int:
        return self.limits.max_depth

    def combine(self, total: int, value: int) -> int:
        return max(total, value)

    def field(self, node: FieldNode) -> int:
        if self.limits.introspection and node.name.value in INTROSPECTION_FIELDS:
            return 0
        return 1 + self.selection_set(node.selection_set)


class MaxAliasesRule(_OperationRule):
    """Aliased fields the operation expands to: 5 in a fragment spread 4 times count 20.

    Aliases inside introspection count too: aliasing ``types`` is a known way to multiply
    the (large) introspection result.
    """

    limit = "aliases"

    @property
    def maximum(self) -> int:
        return self.limits.max_aliases

    def field(self, node: FieldNode) -> int:
        own = 1 if node.alias is not None else 0
        return self.combine(own, self.selection_set(node.selection_set))


class MaxDirectivesRule(_OperationRule):
    """Directive uses the operation expands to: on the operation, its variables, fields,
    fragment spreads, inline fragments and (once per spread) fragment definitions."""

    limit = "directives"

    @property
    def maximum(self) -> int:
        return self.limits.max_directives

    def directives(self, directives: Iterable[DirectiveNode] | None) -> int:
        return min(len(tuple(directives or ())), self.maximum + 1)

    def field(self, node: FieldNode) -> int:
        return self.combine(
            self.directives(node.directives), self.selection_set(node.selection_set)
        )


class MaxRootFieldsRule(_OperationRule):
    """Top-level fields, through fragments and inline fragments on the root type.

    Counted as written and expanded, not merged by response name: a fragment of two root
    fields spread three times counts 6.
    """

    limit = "root_fields"

    @property
    def maximum(self) -> int:
        return self.limits.max_root_fields

    def field(self, node: FieldNode) -> int:
        return 1  # what a root field selects does not matter here


class MaxMutationsRule(MaxRootFieldsRule):
    """Top-level fields of a mutation operation, counted as ``MaxRootFieldsRule`` counts."""

    limit = "mutations"

    @property
    def maximum(self) -> int:
        return self.limits.max_mutations

    def enter_operation_definition(
        self, node: OperationDefinitionNode, *args: object
    ) -> VisitorAction:
        if node.operation is not OperationType.MUTATION:
            return SKIP
        return super().enter_operation_definition(node, *args)


class NoIntrospectionRule(ValidationRule):
    """Refuses every ``__schema`` and ``__type`` field an operation uses, also in fragments.

    Each offending field is reported once (code ``INTROSPECTION_DISABLED``), even if several
    operations share its fragment. ``__typename`` stays allowed.
    """

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self._reported: set[int] = set()

    def enter_operation_definition(
        self, node: OperationDefinitionNode, *_args: object
    ) -> VisitorAction:
        definitions: list[OperationDefinitionNode | FragmentDefinitionNode] = [node]
        definitions += self.context.get_recursively_referenced_fragments(node)
        for definition in definitions:
            for field in _introspection_fields(definition.selection_set):
                if id(field) not in self._reported:
                    self._reported.add(id(field))
                    self.report_error(IntrospectionDisabled(field))
        return SKIP

    def enter_fragment_definition(
        self, _node: FragmentDefinitionNode, *_args: object
    ) -> VisitorAction:
        return SKIP  # reached through the operations that spread it


def _introspection_fields(selection_set: SelectionSetNode) -> list[FieldNode]:
    """``__schema``/``__type`` fields in a selection set, not looking into spreads."""
    found: list[FieldNode] = []
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode) and selection.name.value in INTROSPECTION_FIELDS:
                found.append(selection)
            nested = getattr(selection, "selection_set", None)
            if isinstance(nested, SelectionSetNode):
                pending.append(nested)
    return found


_Rule = TypeVar("_Rule", bound=ValidationRule)


def _configured(rule: type[_Rule], limits: OperationLimits) -> type[_Rule]:
    # graphql-core instantiates a rule class with the context only, so the limits ride on a
    # subclass made for them.
    return cast(
        "type[_Rule]", type(rule.__name__, (rule,), {"limits": limits, "__doc__": rule.__doc__})
    )


def limit_rules(limits: OperationLimits) -> list[type[ASTValidationRule]]:
    """Validation rules enforcing ``limits`` (all but ``max_tokens``, a bound of the parser).

    Use with the specified rules, e.g. Strawberry's ``AddValidationRules``.
    """
    rules: list[type[ASTValidationRule]] = [
        _configured(MaxDepthRule, limits),
        _configured(MaxAliasesRule, limits),
        _configured(MaxDirectivesRule, limits),
        _configured(MaxRootFieldsRule, limits),
        _configured(MaxMutationsRule, limits),
    ]
    if not limits.introspection:
        rules.append(NoIntrospectionRule)
    return rules


# --- suggestions -------------------------------------------------------------------------

_QUOTED = r"'[^']*'"
_SUGGESTION = re.compile(
    r"(?P<lead>\.?[ \t]*)Did you mean"
    r"(?:"
    # did_you_mean(): fields, arguments, types, input fields, enum values, inline
    # fragments ('A', 'A' or 'B', 'A', 'B', or 'C'); ScalarLeafs: 'user { ... }'
    rf" (?:the enum value |to use an inline fragment on )?{_QUOTED}"
    rf"(?:(?:, or |, | or ){_QUOTED})*\?"
    # schema validation: "Did you mean: <value>?"
    r"|: [^\n]*\?"
    # anything else, up to its question mark or the end
    r"|[^?]*(?:\?|$)"
    r")"
    # input objects: "unknown field 'x'. Did you mean 'y'? Found: {…}."
    r"(?P<found> Found)?"
)


def _drop_suggestion(match: re.Match[str]) -> str:
    lead = match.group("lead")
    if match.group("found") is not None and lead.startswith("."):
        # graphql-core's own wording without a suggestion: "unknown field 'x', found: {…}."
        return ", found"
    found = match.group("found") or ""
    return lead.rstrip(" \t") + found


def hide_suggestions(message: str) -> str:
    """``message`` without any "Did you mean …?" suggestion.

    Suggestions name fields, arguments, types, enum values and input fields close to what
    the client typed, which leaks the schema when introspection is disabled. Strawberry's
    ``disable_field_suggestions`` only covers "Cannot query field"; graphql-core's
    ``hide_suggestions`` only covers validation, not execution (variables) or ScalarLeafs.
    The rest of the message is kept, e.g. "Unknown argument 'frist' on field
    'Query.users'." and "…unknown field 'stauts', found: {stauts: ACTIVE}."
    """
    cleaned, count = _SUGGESTION.subn(_drop_suggestion, message)
    return cleaned.strip() if count else message
