"""A corpus of malformed and hostile requests.

Each gets a clear error with a code, makes zero upstream calls, and leaves the server
healthy. The gateway runs in demo mode; its simulator counts every upstream call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support import gateway_client, gid

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class Case:
    name: str
    body: bytes | None = None  # raw POST body; None with `params` means GET
    content_type: str | None = "application/json"
    params: dict[str, str] | None = None
    status: int = 200
    codes: tuple[str, ...] = ()
    nulls: tuple[str, ...] = field(default=())  # data fields that must be null (no error)
    accept: str = "application/json"


def gql(query: str, variables: Any = None, **extra: Any) -> bytes:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    payload.update(extra)
    return json.dumps(payload).encode()


BAD_REQUEST = ("BAD_REQUEST",)
MEDIA_TYPE = ("UNSUPPORTED_MEDIA_TYPE",)
INVALID = ("GRAPHQL_VALIDATION_FAILED",)
PARSE = ("GRAPHQL_PARSE_FAILED",)
LIMIT = ("OPERATION_LIMIT_EXCEEDED",)
INPUT = ("BAD_USER_INPUT",)
COST = ("COST_LIMIT_EXCEEDED",)


# Ids no TalentLMS record has: path and query injection, odd digits, control characters.
HOSTILE_IDS = (
    "1,course_id:2",
    "../x",
    "%2F",
    "1/2",
    "1:2,3",
    "1 2",
    "٣",
    "１",
    "1e3",
    "0x10",
    "9" * 40,
    "1\n2",
    "1\u00002",
    "users/id:1",
    "1;2",
    "' OR 1=1 --",
    "<script>",
)


def nested(depth: int, *, inline: bool = False) -> str:
    """user → enrollments → course → enrollments → user → … as deep as asked."""
    inner = "id"
    for level in range(depth):
        parent = "course" if level % 2 else "user"
        if inline:  # the same path, each level wrapped in an inline fragment
            inner = f"... on {parent.title()} {{ {inner} }}"
        inner = f"enrollments(first: 1) {{ nodes {{ {parent} {{ {inner} }} }} }}"
    return f'{{ user(remoteId: "2") {{ {inner} }} }}'


def fragment_bomb(levels: int, fan_out: int) -> str:
    parts = ["fragment F0 on User { a0: id }"]
    for level in range(1, levels):
        spreads = " ".join(f"...F{level - 1}" for _ in range(fan_out))
        parts.append(f"fragment F{level} on User {{ {spreads} }}")
    return f'{{ user(remoteId: "2") {{ ...F{levels - 1} }} }} ' + " ".join(parts)


CASES: list[Case] = [
    # --- bodies that are not a GraphQL request ----------------------------------------------
    Case("empty body", b"", status=400, codes=BAD_REQUEST),
    Case("truncated json", b'{"query": "{ users', status=400, codes=BAD_REQUEST),
    Case("json array of junk", b"[1, 2]", status=400, codes=BAD_REQUEST),
    Case("json null", b"null", status=400, codes=BAD_REQUEST),
    Case("json number", b"42", status=400, codes=BAD_REQUEST),
    Case("json string", b'"{ users { totalCount } }"', status=400, codes=BAD_REQUEST),
    Case("query is a number", b'{"query": 1}', status=400, codes=BAD_REQUEST),
    Case("query is a list", b'{"query": ["{ a }"]}', status=400, codes=BAD_REQUEST),
    Case("query missing", b'{"variables": {}}', status=400, codes=BAD_REQUEST),
    Case("query null", b'{"query": null}', status=400, codes=BAD_REQUEST),
    Case("variables a list", gql("{ users { totalCount } }", [1]), status=400, codes=BAD_REQUEST),
    Case("variables a string", gql("{ users { totalCount } }", "x"), status=400, codes=BAD_REQUEST),
    Case(
        "extensions a list",
        gql("{ users { totalCount } }", extensions=[1]),
        status=400,
        codes=BAD_REQUEST,
    ),
    Case("invalid utf-8", b'{"query": "\xff\xfe{ users }"}', status=400, codes=BAD_REQUEST),
    Case("nul bytes", b'{"query": "{ user(remoteId: \\"\\u0000\\") { id } }"}', nulls=("user",)),
    Case("deeply nested json", b"[" * 5000 + b"]" * 5000, status=400, codes=BAD_REQUEST),
    # --- content types -------------------------------------------------------------------------
    Case(
        "text/plain",
        gql("{ users { totalCount } }"),
        content_type="text/plain",
        status=415,
        codes=MEDIA_TYPE,
    ),
    Case("xml", b"<query/>", content_type="application/xml", status=415, codes=MEDIA_TYPE),
    Case(
        "form encoded",
        b"query=%7B%20users%20%7D",
        content_type="application/x-www-form-urlencoded",
        status=415,
        codes=MEDIA_TYPE,
    ),
    Case(
        "no content type",
        gql("{ users { totalCount } }"),
        content_type=None,
        status=415,
        codes=MEDIA_TYPE,
    ),
    Case(
        "multipart",
        b"--x\r\n\r\n--x--",
        content_type="multipart/form-data; boundary=x",
        status=415,
        codes=MEDIA_TYPE,
    ),
    Case(
        "graphql content type",
        b"{ users { totalCount } }",
        content_type="application/graphql",
        status=415,
        codes=MEDIA_TYPE,
    ),
    # --- sizes ------------------------------------------------------------------------------
    Case(
        "huge body",
        gql("{ users { totalCount } }", {"pad": "x" * 300_000}),
        status=413,
        codes=("REQUEST_TOO_LARGE",),
    ),
    Case(
        "huge query string",
        gql("{ users { totalCount } }" + " " * 270_000),
        status=413,
        codes=("REQUEST_TOO_LARGE",),
    ),
    Case("token flood", gql("{ " + "__typename " * 3000 + "}"), codes=LIMIT),
    Case("comment flood within tokens", gql("{ __typename }\n" + "# x\n" * 1000), nulls=()),
    Case(
        "very long string literal",
        gql('{ user(email: "' + "a" * 60_000 + '@x.org") { id } }'),
        codes=INPUT,
    ),
    # --- depth, aliases, directives, root fields ---------------------------------------------
    Case("depth bomb", gql(nested(12)), codes=LIMIT + COST),
    Case(
        "depth bomb in fragments",
        gql(
            '{ user(remoteId: "2") { ...A } }'
            " fragment A on User { enrollments { nodes { course { ...B } } } }"
            " fragment B on Course { enrollments { nodes { user { ...C } } } }"
            " fragment C on User { enrollments { nodes { course { enrollments { nodes {"
            " id } } } } } }"
        ),
        codes=LIMIT + COST,
    ),
    Case("depth bomb in inline fragments", gql(nested(12, inline=True)), codes=LIMIT + COST),
    Case(
        "depth via fragment named __schema",
        gql(
            '{ user(remoteId: "2") { ...__schema } } fragment __schema on User {'
            " enrollments { nodes { course { enrollments { nodes { user { enrollments { nodes {"
            " course { enrollments { nodes { id } } } } } } } } } } } }"
        ),
        codes=LIMIT + INVALID + COST,
    ),
    Case(
        "alias bomb",
        gql("{ " + " ".join(f"a{i}: __typename" for i in range(40)) + " }"),
        codes=LIMIT,
    ),
    Case(
        "alias bomb in fragment",
        gql(
            '{ user(remoteId: "2") { ...A ...A ...A } } fragment A on User { '
            + " ".join(f"n{i}: name" for i in range(10))
            + " }"
        ),
        codes=LIMIT,
    ),
    Case("fragment bomb", gql(fragment_bomb(10, 10)), codes=LIMIT + COST),
    Case(
        "circular fragments",
        gql(
            '{ user(remoteId: "2") { ...A } }'
            " fragment A on User { ...B } fragment B on User { ...A }"
        ),
        codes=INVALID,
    ),
    Case(
        "self-referencing fragment",
        gql('{ user(remoteId: "2") { ...A } } fragment A on User { id ...A }'),
        codes=INVALID,
    ),
    Case(
        "directive flood",
        gql("{ __typename " + " ".join("@include(if: true)" for _ in range(40)) + " }"),
        codes=LIMIT + INVALID,
    ),
    Case(
        "directive flood across fields",
        gql("{ " + " ".join(f"t{i}: __typename @skip(if: false)" for i in range(14)) + " }"),
        codes=LIMIT,
    ),
    Case(
        "root field flood",
        gql("{ " + " ".join(f'u{i}: user(remoteId: "{i}") {{ id }}' for i in range(12)) + " }"),
        codes=LIMIT,
    ),
    # --- cost -------------------------------------------------------------------------------
    Case(
        "cost bomb",
        gql(
            "{ users(first: 100) { nodes { enrollments(first: 100) { nodes { course { items"
            " { nodes { id } } } } } } } }"
        ),
        codes=COST,
    ),
    Case(
        "cost bomb via variables",
        gql(
            "query($n: Int) { users(first: $n) { nodes { enrollments(first: $n) { nodes {"
            " course { title code } } } } } }",
            {"n": 100},
        ),
        codes=COST,
    ),
    Case(
        "roster status cost",
        gql("{ courses(first: 100) { nodes { enrollments(first: 100) { nodes { status } } } } }"),
        codes=COST,
    ),
    # --- paging arguments -------------------------------------------------------------------
    *[
        Case(f"first {value}", gql(f"{{ users(first: {value}) {{ totalCount }} }}"), codes=code)
        for value, code in (
            (101, INPUT),
            (1000, INPUT),
            (-1, INPUT),
            (2**31 - 1, INPUT),
            (2**31, INVALID),
            ('"5"', INVALID),
            ("5.5", INVALID),
            ("1e9", INVALID),
        )
    ],
    Case("last above max", gql("{ courses(last: 500) { totalCount } }"), codes=INPUT),
    Case("first and last", gql("{ courses(first: 1, last: 1) { totalCount } }"), codes=INPUT),
    *[
        Case(
            f"cursor {cursor!r}",
            gql(f'{{ courses(after: "{cursor}") {{ totalCount }} }}'),
            codes=INPUT,
        )
        for cursor in (
            "",
            "x",
            "Y3Vyc29y",
            "====",
            "AAAA",
            "bm90OmFuOm9mZnNldA==",
            "-1",
            "Zm9vOi0x",
        )
    ],
    # --- ids and lookups that cannot name a TalentLMS record --------------------------------
    # As a provider id (remoteId) each names nothing: null, and no call goes out with it.
    *[
        Case(
            f"remoteId {value!r}",
            gql(
                "query($id: ID!) { user(remoteId: $id) { id } course(remoteId: $id) { id }"
                " courseEnrollment(remoteId: $id) { id } courseItem(remoteId: $id) { id } }",
                {"id": value},
            ),
            nulls=("user", "course", "courseEnrollment", "courseItem"),
        )
        for value in HOSTILE_IDS
    ],
    # As a global id none is one of this API's: refused before any call.
    *[
        Case(
            f"id {value!r}",
            gql(
                "query($id: ID!) { user(id: $id) { id } course(id: $id) { id }"
                " courseEnrollment(id: $id) { id } courseItem(id: $id) { id } }",
                {"id": value},
            ),
            codes=INPUT,
        )
        for value in HOSTILE_IDS
    ],
    Case(
        "id of another type",
        gql("query($id: ID!) { user(id: $id) { id } }", {"id": gid("Course", 101)}),
        codes=INPUT,
    ),
    Case(
        "id of another account",
        gql("query($id: ID!) { user(id: $id) { id } }", {"id": gid("User", 2, "elsewhere")}),
        nulls=("user",),
    ),
    *[
        Case(
            f"email {value!r}",
            gql("query($e: String) { user(email: $e) { id } }", {"e": value}),
            codes=INPUT,
        )
        for value in (
            "",
            "no-at-sign",
            "a@b,c:d",
            "a@b/../c",
            "a b@c.org",
            "a@b.org\n",
            "@x.org",
            "a@",
            "a@%2F.org",
            "x" * 300 + "@y.org",
            "a@b@c",
            "a:b@c.org",
        )
    ],
    *[
        Case(
            f"username {value!r}",
            gql("query($u: String) { user(username: $u) { id } }", {"u": value}),
            codes=INPUT,
        )
        for value in ("", "a,b", "a:b", "a/b", "a b", "x" * 200, "tab\tname", "é\u202e")
    ],
    Case("two lookups", gql('{ user(remoteId: "1", username: "x") { id } }'), codes=INPUT),
    Case("no lookup", gql("{ user { id } }"), codes=INPUT),
    Case(
        "enrollments without user or course",
        gql("{ courseEnrollments(filter: {}) { totalCount } }"),
        codes=INPUT,
    ),
    # --- schema mistakes ---------------------------------------------------------------------
    Case("unknown field", gql("{ users { nodes { password } } }"), codes=INVALID),
    Case("unknown root field", gql("{ admins { id } }"), codes=INVALID),
    Case("unknown argument", gql("{ users(frist: 5) { totalCount } }"), codes=INVALID),
    Case(
        "unknown type in fragment",
        gql("{ users { nodes { ...F } } } fragment F on Admin { id }"),
        codes=INVALID,
    ),
    Case("bad enum", gql("{ users(filter: {status: ACTIV}) { totalCount } }"), codes=INVALID),
    Case(
        "unknown input field",
        gql("{ users(filter: {stauts: ACTIVE}) { totalCount } }"),
        codes=INVALID,
    ),
    Case("selection on scalar", gql("{ users { totalCount { id } } }"), codes=INVALID),
    Case("missing selection", gql("{ users }"), codes=INVALID),
    Case("syntax error", gql("{ users { nodes { id } "), codes=PARSE),
    Case("mutation", gql("mutation { addUser { id } }"), codes=INVALID),
    Case("subscription", gql("subscription { users { id } }"), codes=INVALID),
    Case("two anonymous operations", gql("{ a: __typename } { b: __typename }"), codes=INVALID),
    Case(
        "unknown operation name",
        gql("query A { __typename }", operationName="B"),
        status=400,
        codes=BAD_REQUEST,
    ),
    Case("unused variable type", gql("query($x: Nope) { __typename }"), codes=INVALID),
    # --- variables ------------------------------------------------------------------------------
    Case(
        "variable wrong type",
        gql("query($n: Int) { users(first: $n) { totalCount } }", {"n": "ten"}),
        codes=INPUT,
    ),
    Case(
        "variable missing",
        gql("query($n: Int!) { users(first: $n) { totalCount } }", {}),
        codes=INPUT,
    ),
    Case(
        "variable null for non-null",
        gql("query($id: ID!) { user(id: $id) { id } }", {"id": None}),
        codes=INPUT,
    ),
    Case(
        "variable object for string",
        gql("query($e: String) { user(email: $e) { id } }", {"e": {"$ne": 1}}),
        codes=INPUT,
    ),
    Case(
        "variable list for id",
        gql("query($id: ID!) { user(id: $id) { id } }", {"id": [1, 2]}),
        codes=INPUT,
    ),
    Case(
        "bad datetime",
        gql(
            "query($d: DateTime) { users(filter: {updatedAfter: $d}) { totalCount } }",
            {"d": "yesterday"},
        ),
        codes=INPUT,
    ),
    Case(
        "bad datetime literal",
        gql('{ users(filter: {updatedAfter: "2024-13-45"}) { totalCount } }'),
        codes=INVALID,
    ),
    # --- passthrough ----------------------------------------------------------------------------
    Case(
        "remote query unknown key",
        gql('{ users(remoteQuery: {id: "1"}) { totalCount } }'),
        codes=INPUT,
    ),
    Case(
        "remote query paging key",
        gql("{ users(remoteQuery: {page_size: 1000}) { totalCount } }"),
        codes=INPUT,
    ),
    Case(
        "remote query not an object", gql('{ users(remoteQuery: "x") { totalCount } }'), codes=INPUT
    ),
    Case(
        "remote query nested",
        gql("{ courses(remoteQuery: {custom_field_value: {a: 1}}) { totalCount } }"),
        codes=INPUT,
    ),
    Case(
        "remote query control chars",
        gql(
            "query($q: JSON) { users(remoteQuery: $q) { totalCount } }",
            {"q": {"custom_field_value": "a\u0000b"}},
        ),
        codes=INPUT,
    ),
    # --- GET ------------------------------------------------------------------------------------
    Case("GET without query", params={}, status=400, codes=BAD_REQUEST),
    Case("GET without query, any type", params={}, accept="*/*", status=200, codes=()),
    Case("GET mutation", params={"query": "mutation { x }"}, status=400, codes=BAD_REQUEST),
    Case(
        "GET bad variables",
        params={"query": "{ __typename }", "variables": "{"},
        status=400,
        codes=BAD_REQUEST,
    ),
    Case("GET depth bomb", params={"query": nested(12)}, codes=LIMIT + COST),
    # --- batches --------------------------------------------------------------------------------
    Case(
        "batch flood",
        json.dumps([{"query": "{ __typename }"}] * 11).encode(),
        status=400,
        codes=BAD_REQUEST,
    ),
    Case("empty batch", b"[]", status=400, codes=BAD_REQUEST),
    Case("batch of junk", b'[{"query": 1}, 2]', status=400, codes=BAD_REQUEST),
]


def test_the_corpus_is_large():
    assert len(CASES) >= 100


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_hostile_request_is_refused_cleanly(case: Case):
    async with gateway_client() as client:
        stats = client.app.state.runtime.simulator.state.stats
        if case.params is not None:
            response = await client.get(
                "/graphql", params=case.params, headers={"Accept": case.accept}
            )
        else:
            request_headers = {"Accept": case.accept}
            if case.content_type:
                request_headers["Content-Type"] = case.content_type
            response = await client.post("/graphql", content=case.body, headers=request_headers)
        assert response.status_code == case.status, response.text[:500]
        if case.accept == "*/*":  # browsers get GraphiQL for a GET without a query
            assert "graphiql" in response.text.lower()
            return
        body = response.json()
        codes = tuple(dict.fromkeys(e["extensions"]["code"] for e in body.get("errors", [])))
        assert set(codes) <= set(case.codes) and (codes or not case.codes), (codes, body)
        for name in case.nulls:
            assert body["data"][name] is None
        for error in body.get("errors", []):
            assert error["message"] and "Traceback" not in error["message"]
        assert stats.total == 0  # nothing reached TalentLMS
        health = await client.get("/healthz")
        assert health.status_code == 200
        still = await client.post(
            "/graphql", json={"query": '{ user(remoteId: "2") { id remoteId } }'}
        )
        assert still.json()["data"] == {"user": {"id": gid("User", 2), "remoteId": "2"}}


HUGE_INT = "1" + "0" * 5000  # past Python's 4300-digit limit for int(str)


@pytest.mark.parametrize(
    "query",
    [
        f"{{ users(first: {HUGE_INT}) {{ nodes {{ id }} }} }}",
        f"query ($n: Int = {HUGE_INT}) {{ users(first: $n) {{ nodes {{ id }} }} }}",
    ],
    ids=["argument", "variable default"],
)
async def test_a_huge_integer_literal_is_a_validation_error_not_a_crash(query, caplog):
    # Like any Int literal out of range, whatever its length; nothing worth a traceback.
    async with gateway_client() as client:
        response = await client.post("/graphql", json={"query": query})
        graphql_response = await client.post(
            "/graphql",
            json={"query": query},
            headers={"Accept": "application/graphql-response+json"},
        )
    body = response.json()
    assert response.status_code == 200
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Internal server error" not in body["errors"][0]["message"]
    assert graphql_response.status_code == 400  # a request error under the spec's type
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
