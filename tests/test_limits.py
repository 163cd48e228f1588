"""Operation limits as graphql-core validation rules, the parser's token bound and hidden
suggestions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from graphql import (
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    ValidationRule,
    execute_sync,
    get_introspection_query,
    parse,
    specified_rules,
    validate,
)

from schema import schema
from schema.validation.limits import (
    IntrospectionDisabled,
    OperationLimitExceeded,
    OperationLimits,
    hide_suggestions,
    limit_rules,
)

pytestmark = pytest.mark.unit

SCHEMA = schema._schema
# The defaults, with a depth limit of 10 that the tests' chains of managers cross.
DEFAULTS = OperationLimits(max_depth=10)
QUERIES = Path(__file__).resolve().parent.parent / "queries"


def limit_errors(query: str, limits: OperationLimits = DEFAULTS) -> list[GraphQLError]:
    """Only the limit rules, as the brief's ``validate(..., rules=limit_rules(...))``."""
    return validate(SCHEMA, parse(query), rules=limit_rules(limits))


def spec_errors(query: str) -> list[str]:
    """The specification's rules only: the test documents must be valid apart from limits."""
    return [error.message for error in validate(SCHEMA, parse(query))]


def all_errors(query: str, limits: OperationLimits = DEFAULTS) -> list[GraphQLError]:
    """What the gateway runs: the specified rules and the limit rules together."""
    return validate(SCHEMA, parse(query), rules=[*specified_rules, *limit_rules(limits)])


def extensions(errors: list[GraphQLError]) -> list[dict[str, object]]:
    return [dict(error.extensions or {}) for error in errors]


# --- the same operation written five ways ------------------------------------------------


@dataclass(frozen=True)
class Limit:
    name: str  # extensions.limit
    maximum: int
    parent: str  # the type the measured selections are on
    wrap: Callable[[str], str]  # the operation around them
    selections: Callable[[int], str]  # selections measuring n


def _user(inner: str) -> str:
    return '{ user(id: "1") { ' + inner + " } }"


def _root(inner: str) -> str:
    return "{ " + inner + " }"


def _managers(depth: int) -> str:
    # Inside `user`: `depth - 1` more fields on the deepest path (managers, then id).
    levels = depth - 2
    return "manager { " * levels + "id" + " }" * levels


LIMITS = [
    Limit("depth", DEFAULTS.max_depth, "User", _user, _managers),
    Limit("aliases", DEFAULTS.max_aliases, "User", _user, lambda n: _aliases(n)),
    # Repeating a field with the same arguments is valid (the copies merge), so directives
    # and root fields are counted without aliases.
    Limit(
        "directives", DEFAULTS.max_directives, "User", _user, lambda n: "id @skip(if: false) " * n
    ),
    Limit(
        "root_fields",
        DEFAULTS.max_root_fields,
        "Query",
        _root,
        lambda n: 'user(id: "1") { id } ' * n,
    ),
]


def _aliases(n: int) -> str:
    return " ".join(f"a{i}: id" for i in range(n))


def written(style: str, limit: Limit, n: int) -> str:
    selections = limit.selections(n)
    if style == "plain":
        return limit.wrap(selections)
    if style == "named fragment":
        return limit.wrap("...Part") + f" fragment Part on {limit.parent} {{ {selections} }}"
    if style == "inline fragment":
        return limit.wrap(f"... on {limit.parent} {{ {selections} }}")
    if style == "untyped inline fragment":
        return limit.wrap(f"... {{ {selections} }}")
    if style == "fragment named __schema":
        # graphql-core parses and validates a fragment named `__schema` (names starting
        # with "__" are reserved by the spec for introspection, but no rule of the parser
        # or of validation enforces that for fragments). It must be measured like any other.
        return (
            limit.wrap("...__schema") + f" fragment __schema on {limit.parent} {{ {selections} }}"
        )
    raise AssertionError(style)


STYLES = [
    "plain",
    "named fragment",
    "inline fragment",
    "untyped inline fragment",
    "fragment named __schema",
]
CASES = [
    pytest.param(limit, style, id=f"{limit.name}-{style}") for limit in LIMITS for style in STYLES
]


@pytest.mark.parametrize(("limit", "style"), CASES)
def test_an_operation_at_the_limit_passes(limit: Limit, style: str):
    query = written(style, limit, limit.maximum)
    assert all_errors(query) == []


@pytest.mark.parametrize(("limit", "style"), CASES)
def test_an_operation_over_the_limit_is_refused(limit: Limit, style: str):
    query = written(style, limit, limit.maximum + 1)
    assert spec_errors(query) == []  # valid GraphQL: only the limit refuses it
    errors = limit_errors(query)
    assert extensions(errors) == [
        {
            "code": "OPERATION_LIMIT_EXCEEDED",
            "limit": limit.name,
            "max": limit.maximum,
            "actual": limit.maximum + 1,
        }
    ]
    error = errors[0]
    assert isinstance(error, OperationLimitExceeded)
    assert f"exceeds the maximum of {limit.maximum}" in error.message
    operation = parse(query).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    assert error.locations is not None
    assert error.locations[0].line == 1
    assert error.locations[0].column == 1  # at the operation


def test_depth_message_names_the_depth():
    (error,) = limit_errors(_user(_managers(12)))
    assert error.message == "Query depth 12 exceeds the maximum of 10"
    assert error.extensions == {
        "code": "OPERATION_LIMIT_EXCEEDED",
        "limit": "depth",
        "max": 10,
        "actual": 12,
    }


def test_depth_counts_fields_through_a_chain_of_fragments():
    # F0 holds `id`; each F<k> adds one `manager` around F<k-1>: user + 9 managers + id = 11.
    fragments = ["fragment F0 on User { id }"]
    fragments += [f"fragment F{k} on User {{ manager {{ ...F{k - 1} }} }}" for k in range(1, 10)]
    query = '{ user(id: "1") { ...F9 } } ' + " ".join(fragments)
    assert spec_errors(query) == []
    assert extensions(limit_errors(query))[0]["actual"] == 11
    assert extensions(limit_errors(query.replace("...F9", "...F8"))) == []  # depth 10


def test_depth_counts_fields_only_not_fragment_levels():
    # Ten levels of inline fragments and spreads around one field: depth 2.
    query = (
        '{ user(id: "1") { ' + "... on User { " * 10 + "...A" + " }" * 10 + " } }"
        " fragment A on User { ...B } fragment B on User { ... { id } }"
    )
    assert all_errors(query, OperationLimits(max_depth=2)) == []
    assert extensions(limit_errors(query, OperationLimits(max_depth=1)))[0]["actual"] == 2


def test_a_fragment_spread_many_times_counts_every_time():
    # 5 aliases in a fragment spread 3 times: 15 (allowed); 4 times: 20 (refused).
    fragment = " fragment Five on User { " + _aliases(5) + " }"
    assert all_errors(_user("...Five " * 3) + fragment) == []
    errors = limit_errors(_user("...Five " * 4) + fragment)
    assert extensions(errors) == [
        {"code": "OPERATION_LIMIT_EXCEEDED", "limit": "aliases", "max": 15, "actual": 16}
    ]


def test_each_operation_is_measured_on_its_own_and_unused_fragments_do_not_count():
    fragment = " fragment Ten on User { " + _aliases(10) + " }"
    unused = " fragment Unused on User { " + _aliases(40) + " }"
    document = (
        'query A { user(id: "1") { ...Ten } } query B { user(id: "2") { ...Ten } }'
        + fragment
        + unused
    )
    assert limit_errors(document) == []  # 10 each, not 20; Unused is not measured
    over = document.replace("query B {", 'query B { other: user(id: "3") { ...Ten }')
    errors = limit_errors(over)
    assert extensions(errors) == [
        {"code": "OPERATION_LIMIT_EXCEEDED", "limit": "aliases", "max": 15, "actual": 16}
    ]
    assert errors[0].locations is not None
    assert errors[0].locations[0].column == over.index("query B") + 1


def test_directives_on_spreads_fragments_and_the_operation_count():
    query = (
        'query Q($id: ID! = "1") { user(id: $id) @include(if: true) {'
        " ...F @include(if: true) ... @skip(if: false) { id } } }"
        " fragment F on User { id @skip(if: false) }"
    )
    assert all_errors(query, OperationLimits(max_directives=4)) == []
    assert extensions(limit_errors(query, OperationLimits(max_directives=3)))[0]["actual"] == 4


def test_root_fields_count_only_the_top_level():
    query = '{ user(id: "1") { id name manager { id } } courses { nodes { id } } }'
    assert all_errors(query, OperationLimits(max_root_fields=2)) == []
    errors = limit_errors(query, OperationLimits(max_root_fields=1))
    assert extensions(errors)[0] == {
        "code": "OPERATION_LIMIT_EXCEEDED",
        "limit": "root_fields",
        "max": 1,
        "actual": 2,
    }


# --- fragment bombs and cycles -----------------------------------------------------------


def _bomb(top: str, levels: int = 10, fan: int = 10) -> str:
    """F<k> spreads F<k-1> `fan` times: F<levels> expands to fan**levels copies of F0."""
    fragments = ["fragment F0 on User { " + top + " }"]
    for k in range(1, levels + 1):
        fragments.append(f"fragment F{k} on User {{ " + f"...F{k - 1} " * fan + "}")
    return " ".join(fragments)


@pytest.mark.parametrize(
    ("limit", "bomb", "actual"),
    [
        # 10 aliases x 10**10 copies; counted as "more than 15".
        ("aliases", _user("...F10") + " " + _bomb(_aliases(10)), 16),
        ("directives", _user("...F10") + " " + _bomb("id @skip(if: false)"), 21),
        # Depth: each level adds a `manager` around ten spreads of the level below:
        # user + 10 managers + id = 12 along each of 10**10 paths.
        (
            "depth",
            _user("...D10")
            + " fragment D0 on User { id } "
            + " ".join(
                f"fragment D{k} on User {{ manager {{ " + f"...D{k - 1} " * 10 + "} }"
                for k in range(1, 11)
            ),
            12,
        ),
        # Root fields: a root fragment of one field, ten-fold ten times.
        (
            "root_fields",
            "{ ...R10 } fragment R0 on Query { __typename } "
            + " ".join(
                f"fragment R{k} on Query {{ " + f"...R{k - 1} " * 10 + "}" for k in range(1, 11)
            ),
            11,
        ),
    ],
)
def test_fragment_bombs_are_measured_without_expanding_them(limit: str, bomb: str, actual: int):
    # Expanded literally this is 10**10 selections; measured once per fragment it is instant.
    errors = limit_errors(bomb)
    assert [(e["limit"], e["actual"]) for e in extensions(errors)] == [(limit, actual)]


@pytest.mark.parametrize(
    "query",
    [
        '{ user(id: "1") { ...A } } fragment A on User { ...A }',
        '{ user(id: "1") { ...A } } fragment A on User { a0: id manager { ...B } }'
        " fragment B on User { a1: id manager { ...A } }",
        '{ user(id: "1") { ...A } } fragment A on User { ... on User { ...B } }'
        " fragment B on User { ...C @skip(if: false) } fragment C on User { ...A }",
        "{ ...Q } fragment Q on Query { __typename ...Q }",
    ],
)
def test_circular_fragments_terminate(query: str):
    # The limit rules cut the cycle and report nothing of their own ...
    assert limit_errors(query) == []
    assert limit_errors(query, OperationLimits(introspection=False)) == []
    # ... and with the specified rules, NoFragmentCycles reports it.
    messages = [error.message for error in all_errors(query)]
    assert any("within itself" in message for message in messages), messages


def test_a_cycle_inside_a_bomb_terminates_too():
    query = _user("...F10") + " " + _bomb("a: id ...F10")
    assert [e["limit"] for e in extensions(limit_errors(query))] == ["aliases"]


# --- introspection -----------------------------------------------------------------------

NO_INTROSPECTION = OperationLimits(introspection=False)


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("{ __schema { types { name } } }", ["__schema"]),
        ('{ __type(name: "User") { name } }', ["__type"]),
        ("{ ...Q } fragment Q on Query { __schema { types { name } } }", ["__schema"]),
        ('{ ... on Query { __type(name: "User") { name } } }', ["__type"]),
        ('{ ... { __type(name: "User") { name } } }', ["__type"]),
        (
            "{ ...A } fragment A on Query { ...B }"
            ' fragment B on Query { __type(name: "User") { name } }',
            ["__type"],
        ),
        # A fragment's name is not what matters, its fields are.
        (
            "{ ...__schema } fragment __schema on Query { __schema { queryType { name } } }",
            ["__schema"],
        ),
        (
            '{ __typename s: __schema { queryType { name } } t: __type(name: "Course") { name } }',
            ["__schema", "__type"],
        ),
    ],
)
def test_disabled_introspection_refuses_schema_and_type(query: str, fields: list[str]):
    assert spec_errors(query) == []
    errors = limit_errors(query, NO_INTROSPECTION)
    assert all(isinstance(error, IntrospectionDisabled) for error in errors)
    assert [e["code"] for e in extensions(errors)] == ["INTROSPECTION_DISABLED"] * len(fields)
    assert [error.message.rsplit(" ", 1)[-1] for error in errors] == [f"'{f}'" for f in fields]
    assert all(error.locations for error in errors)  # at the field
    # With introspection allowed the same documents pass.
    assert limit_errors(query) == []


@pytest.mark.parametrize(
    "query",
    [
        "{ __typename }",
        '{ user(id: "1") { __typename manager { __typename } } }',
        "{ ...__schema } fragment __schema on Query { __typename }",
        "{ ...__type } fragment __type on Query { __typename }",
    ],
)
def test_disabled_introspection_allows_typename(query: str):
    assert all_errors(query, NO_INTROSPECTION) == []


def test_disabled_introspection_reports_a_shared_fragment_once_and_ignores_unused_ones():
    document = (
        "query A { ...Q } query B { ...Q } fragment Q on Query { __schema { queryType { name } } }"
        ' fragment Unused on Query { __type(name: "User") { name } }'
    )
    assert [e["code"] for e in extensions(limit_errors(document, NO_INTROSPECTION))] == [
        "INTROSPECTION_DISABLED"
    ]


def test_the_rule_is_only_there_when_introspection_is_disabled():
    def names(rules: list[type[ValidationRule]]) -> list[str]:
        return [rule.__name__ for rule in rules]

    assert names(limit_rules(DEFAULTS)) == [
        "MaxDepthRule",
        "MaxAliasesRule",
        "MaxDirectivesRule",
        "MaxRootFieldsRule",
        "MaxMutationsRule",
    ]
    assert names(limit_rules(NO_INTROSPECTION))[-1] == "NoIntrospectionRule"


def test_graphiql_introspection_query_passes_the_default_limits():
    query = get_introspection_query()
    assert all_errors(query) == []
    assert tokens(query) == 163
    # Its numbers: 1 root field, no aliases or directives; depth 15 (__schema types fields
    # args type + 9 nested ofType + name), which only counts when introspection is refused.
    strict = OperationLimits(max_depth=0, max_aliases=0, max_directives=0, max_root_fields=0)
    assert [(e["limit"], e["actual"]) for e in extensions(limit_errors(query, strict))] == [
        ("root_fields", 1)
    ]
    refused = limit_errors(query, NO_INTROSPECTION)
    assert [(e["code"], e["limit"], e["actual"]) for e in extensions(refused)] == [
        ("OPERATION_LIMIT_EXCEEDED", "depth", 15),
        ("INTROSPECTION_DISABLED", "introspection", 1),
    ]


def test_introspection_subtrees_skip_depth_but_not_aliases():
    deep = (
        "{ __schema { types { fields { type { fields { type { fields { type"
        " { ofType { ofType { name } } } } } } } } } } }"
    )
    assert limit_errors(deep) == []
    aliased = "{ __schema { " + " ".join(f"t{i}: types {{ name }}" for i in range(16)) + " } }"
    assert [e["limit"] for e in extensions(limit_errors(aliased))] == ["aliases"]


# --- the example operations -------------------------------------------------------------


def _depth(query: str) -> int:
    (error,) = limit_errors(query, OperationLimits(max_depth=0))
    return int(error.extensions["actual"])  # type: ignore[index]


def test_example_queries_pass_and_the_deepest_is_9():
    depths = {}
    for path in sorted(QUERIES.glob("*.graphql")):
        text = path.read_text(encoding="utf-8")
        assert all_errors(text) == [], path.name
        assert tokens(text) < 100
        depths[path.stem] = _depth(text)
    # users → nodes → enrollments → nodes → course → items → nodes → children → title
    assert max(depths.values()) == depths["learner_dashboard"] == 9
    assert len(depths) >= 8


def test_the_deepest_path_through_edges_fits_the_default_depth():
    query = (
        "{ users { edges { node { enrollments { edges { node { course { items"
        " { edges { node { children { title } } } } } } } } } } } }"
    )
    assert spec_errors(query) == []
    assert _depth(query) == 12
    assert limit_errors(query, OperationLimits()) == []
    assert [e["limit"] for e in extensions(limit_errors(query))] == ["depth"]  # at 10


def test_limits_must_not_be_negative():
    with pytest.raises(ValueError, match="max_depth"):
        OperationLimits(max_depth=-1)
    assert OperationLimits(max_aliases=0).max_aliases == 0


def test_for_limit_builds_the_token_error():
    error = OperationLimitExceeded.for_limit("tokens", 2000, 2001)
    assert error.message == "Query token count exceeds the maximum of 2000"
    assert error.extensions == {
        "code": "OPERATION_LIMIT_EXCEEDED",
        "limit": "tokens",
        "max": 2000,
        "actual": 2001,
    }


# --- tokens -----------------------------------------------------------------------------


def tokens(source: str) -> int:
    """The fewest ``max_tokens`` the parser accepts ``source`` with (what the gateway sets)."""
    limit = 0
    while True:
        try:
            parse(source, max_tokens=limit)
        except GraphQLSyntaxError as error:
            assert "tokens" in error.message, error.message  # only the bound may refuse
            limit += 1
        else:
            return limit


@pytest.mark.parametrize(
    ("source", "count"),
    [
        ("{ hello }", 3),
        ("{ a, b, c }", 5),  # commas are insignificant
        ("# comment\n{ a } # trailing", 5),  # comments count: padding is not free
        ('{ a(b: "x y # not a comment") }', 8),
        ('"""block\n string""" query { a }', 5),
        ("query Q($id: ID!) { user(id: $id) { name } }", 21),
    ],
)
def test_the_token_bound_is_graphql_cores(source: str, count: int):
    assert tokens(source) == count


def test_the_token_bound_stops_a_huge_document_early():
    huge = "{ " + "a " * 5_000_000 + "}"  # 10 MB
    with pytest.raises(GraphQLSyntaxError, match="more than 2000 tokens"):
        parse(huge, max_tokens=2000)


# --- suggestions ------------------------------------------------------------------------


BAD_QUERIES = [
    # (query, what the message must still name)
    ('{ user(id: "1") { nmae } }', "'nmae'"),
    ("{ users { nodez { id } } }", "'nodez'"),
    ("{ users(frist: 2) { totalCount } }", "'frist'"),
    ("{ users { ...F } } fragment F on Usr { id }", "'Usr'"),
    ("query($f: UserFiltr) { users(filter: $f) { totalCount } }", "'UserFiltr'"),
    ("{ users(filter: {status: ACTIV}) { totalCount } }", "'ACTIV'"),
    ("{ users(filter: {status: [ACTIV]}) { totalCount } }", "'ACTIV'"),
    ("{ users(orderBy: {field: NAM}) { totalCount } }", "'NAM'"),
    ('{ users(filter: {status: "ACTIVE"}) { totalCount } }', '"ACTIVE"'),
    ("{ users(filter: {stauts: ACTIVE}) { totalCount } }", "'stauts'"),
    ('{ courses(filter: {serch: "x", stauts: [PUBLISHED]}) { totalCount } }', "'serch'"),
]


def _suggesting(messages: list[str]) -> list[str]:
    suggesting = [message for message in messages if "Did you mean" in message]
    assert suggesting, messages  # graphql-core did suggest something
    return suggesting


def _well_formed(message: str) -> None:
    assert "Did you mean" not in message
    assert message == message.strip()
    assert "  " not in message
    assert " . " not in message
    assert not message.endswith(" .")
    assert ".." not in message
    assert message.endswith(".")


@pytest.mark.parametrize(("query", "named"), BAD_QUERIES)
def test_hide_suggestions_on_validation_messages(query: str, named: str):
    suggesting = _suggesting(spec_errors(query))
    hidden = [hide_suggestions(message) for message in suggesting]
    for message in hidden:
        _well_formed(message)
    assert any(named in message for message in hidden), hidden


def test_hide_suggestions_matches_graphql_cores_own_hidden_wording():
    for query, _named in BAD_QUERIES:
        shown = spec_errors(query)
        own = [error.message for error in validate(SCHEMA, parse(query), hide_suggestions=True)]
        assert [hide_suggestions(message) for message in shown] == own, query


def test_hide_suggestions_on_a_leaf_without_selection():
    # ScalarLeafs suggests `manager { ... }` even when graphql-core hides suggestions.
    (message,) = spec_errors('{ user(id: "1") { manager } }')
    assert message.endswith("Did you mean 'manager { ... }'?")
    assert hide_suggestions(message) == (
        "Field 'manager' of type 'User' must have a selection of subfields."
    )


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"f": {"stauts": "ACTIVE"}}, "'stauts'"),
        ({"f": {"status": ["ACTIV"]}}, "'ACTIV'"),
        ({"f": {"status": "ACTIV"}}, "'ACTIV'"),
        ({"f": {"role": ["LERNER"], "search": "Did you?"}}, "'LERNER'"),
    ],
)
def test_hide_suggestions_on_variable_messages(variables: dict[str, object], named: str):
    # execute_sync, not graphql_sync: graphql-core's execute() refuses a schema that declares
    # @defer and @stream (the gateway's executes incrementally, schema/incremental.py).
    result = execute_sync(
        SCHEMA,
        parse("query($f: UserFilter) { users(filter: $f) { totalCount } }"),
        variable_values=variables,
    )
    assert result.errors
    for message in _suggesting([error.message for error in result.errors]):
        hidden = hide_suggestions(message)
        _well_formed(hidden)
        assert hidden.startswith("Variable '$f' has invalid value")
        assert named in hidden


@pytest.mark.parametrize(
    ("message", "hidden"),
    [
        ("Cannot query field 'x' on type 'Query'.", "Cannot query field 'x' on type 'Query'."),
        (
            "Cannot query field 'x' on type 'Node'."
            " Did you mean to use an inline fragment on 'A' or 'B'?",
            "Cannot query field 'x' on type 'Node'.",
        ),
        (
            "Unknown argument 'x' on field 'Query.f'. Did you mean 'a', 'b', 'c', 'd', or 'e'?",
            "Unknown argument 'x' on field 'Query.f'.",
        ),
        (
            "Unknown argument 'x' on fragment 'F'. Did you mean 'y'?",
            "Unknown argument 'x' on fragment 'F'.",
        ),
        (
            "Enum 'E' cannot represent non-string value: 1."
            " Did you mean the enum value 'A', 'B', or 'C'?",
            "Enum 'E' cannot represent non-string value: 1.",
        ),
        (
            "Argument 'Q.f(a:)' has invalid default value: 1. Did you mean: {a: 1}?",
            "Argument 'Q.f(a:)' has invalid default value: 1.",
        ),
        (
            "Variable '$v' has invalid value at .a: Value 'X' does not exist in 'E' enum."
            " Did you mean the enum value 'Y'?",
            "Variable '$v' has invalid value at .a: Value 'X' does not exist in 'E' enum.",
        ),
        ("Did you mean 'a'? Rest.", "Rest."),
        ("A. Did you mean 'a'? B. Did you mean 'b' or 'c'? C.", "A. B. C."),
        ("Something new. Did you mean something else entirely?", "Something new."),
        ("Cut off. Did you mean", "Cut off."),
    ],
)
def test_hide_suggestions_forms(message: str, hidden: str):
    assert hide_suggestions(message) == hidden
