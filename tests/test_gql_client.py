"""A real GraphQL client against the gateway over HTTP: gql with its httpx transport.

gql fetches the schema by introspection (as codegen and IDEs do), validates documents against
it locally, sends variables, and turns GraphQL errors into ``TransportQueryError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from graphql import GraphQLError, build_schema, lexicographic_sort_schema, print_schema

from gateway.app import create_app
from gateway.config import Settings
from gateway.http.graphql_over_http import GRAPHQL_RESPONSE_JSON
from gateway.simulator import generate_portal
from tests.support import gid, query_text, serve_over_http

pytestmark = pytest.mark.http

SDL = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"
PORTAL = generate_portal()  # the demo gateway's data (default seed and sizes)


@pytest.fixture
def gateway_url(demo_settings: Settings) -> Iterator[str]:
    with serve_over_http(create_app(demo_settings)) as base:
        yield f"{base}/graphql"


async def test_gql_fetches_the_schema_and_runs_a_typed_query(gateway_url: str):
    client = Client(
        transport=HTTPXAsyncTransport(url=gateway_url),
        fetch_schema_from_transport=True,
        # The full introspection query (graphql-core leaves these out by default).
        introspection_args={
            "specified_by_url": True,
            "directive_is_repeatable": True,
            "schema_description": True,
            "input_value_deprecation": True,
            "input_object_one_of": True,
        },
    )
    async with client as session:
        data = await session.execute(
            GraphQLRequest(query_text("learner_transcript"), variable_values={"userRemoteId": "12"})
        )
        # Validated on the client against the fetched schema: never sent.
        with pytest.raises(GraphQLError, match="password"):
            await session.execute(GraphQLRequest('{ user(remoteId: "8") { password } }'))

    # What introspection gives a client is the schema the repository exports.
    assert client.schema is not None
    fetched = print_schema(lexicographic_sort_schema(client.schema))
    exported = print_schema(lexicographic_sort_schema(build_schema(SDL.read_text())))
    assert fetched == exported

    raw = PORTAL.user_detail("12")
    user = data["user"]
    assert user["id"] == gid("User", 12)
    assert user["name"] == f"{raw['first_name']} {raw['last_name']}"
    assert user["username"] == raw["login"]
    assert [node["id"] for node in user["enrollments"]["nodes"]] == [
        gid("CourseEnrollment", f"12:{course['id']}") for course in raw["courses"]
    ]
    assert [node["course"]["title"] for node in user["enrollments"]["nodes"]] == [
        course["name"] for course in raw["courses"]
    ]


@pytest.mark.parametrize("accept", [None, GRAPHQL_RESPONSE_JSON], ids=["json", "graphql-response"])
async def test_gql_surfaces_the_gateways_error_codes(gateway_url: str, accept: str | None):
    headers = {"Accept": accept} if accept else {}
    transport = HTTPXAsyncTransport(url=gateway_url, headers=headers)
    async with Client(transport=transport) as session:
        # A variable that does not coerce: refused before execution (400 under the new type).
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(
                GraphQLRequest(
                    query_text("learner_transcript"), variable_values={"userRemoteId": [8]}
                )
            )
        assert transport.response_headers is not None
        content_type = transport.response_headers["content-type"]
        # A lookup value no TalentLMS user can have: a field error beside good data.
        with pytest.raises(TransportQueryError) as partial:
            await session.execute(
                GraphQLRequest(
                    '{ ok: user(remoteId: "8") { id } bad: user(email: "no-at-sign") { id } }'
                )
            )
    assert content_type == (accept or "application/json")
    assert [e["extensions"]["code"] for e in refused.value.errors or []] == ["BAD_USER_INPUT"]
    assert refused.value.data is None
    assert [(e["path"], e["extensions"]["code"]) for e in partial.value.errors or []] == [
        (["bad"], "BAD_USER_INPUT")
    ]
    assert partial.value.data == {"ok": {"id": gid("User", 8)}, "bad": None}
