"""Persisted queries: Apollo's APQ protocol, per-account storage, allow-list mode, manifests."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from gateway.app import create_app
from gateway.cli import main
from gateway.config import Settings
from gateway.errors import ManifestError
from gateway.persisted.manifest import build_manifest, load_manifest
from gateway.persisted.queries import MemoryPersistedQueryStore
from gateway.simulator import SimulatorConfig
from gateway.tenancy.authorization import hash_key
from schema import schema
from tests.support import (
    QUERIES,
    RecordingUpstream,
    gateway_client,
    keyed_settings,
    query_text,
    replaced,
    serve_over_http,
    simulator_stats,
    upstream_settings,
)

TRANSCRIPT = query_text("learner_transcript")
NAMES = '{ user(remoteId: "8") { name } }'
NO_CACHE = "private, no-cache, must-revalidate"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def apq(query_hash: str, version: Any = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": query_hash}}


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("data") is None
    [error] = body["errors"]
    return error


@pytest.fixture
def settings(demo_settings: Settings) -> Settings:
    # No shared cache: every run of an operation costs its full call count.
    return replaced(demo_settings, cache={"enabled": False})


# --- automatic persisted queries -----------------------------------------------------------


@pytest.mark.unit
async def test_apq_round_trip_as_apollo_client_does_it(settings):
    async with gateway_client(settings) as client:
        plain = (await client.post("/graphql", json={"query": TRANSCRIPT})).json()
        assert "errors" not in plain
        before = simulator_stats(client)

        # 1. The hash alone: unknown, so the client is told to send the text.
        missed = await client.post("/graphql", json={"extensions": apq(sha(TRANSCRIPT))})
        assert missed.status_code == 200
        assert missed.headers["cache-control"] == NO_CACHE
        error = only_error(missed.json())
        assert error == {
            "message": "PersistedQueryNotFound",
            "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
        }
        assert simulator_stats(client) == before  # nothing ran

        # 2. Hash and text: verified, stored, run.
        registered = await client.post(
            "/graphql", json={"query": TRANSCRIPT, "extensions": apq(sha(TRANSCRIPT))}
        )
        assert registered.status_code == 200
        assert registered.json()["data"] == plain["data"]

        # 3. The hash alone again: the stored document runs, at the plain query's cost.
        hit = (await client.post("/graphql", json={"extensions": apq(sha(TRANSCRIPT))})).json()
        assert "errors" not in hit
        assert hit["data"] == plain["data"]
        assert hit["extensions"]["upstream"]["calls"] == plain["extensions"]["upstream"]["calls"]
        assert plain["extensions"]["upstream"]["calls"] > 0


@pytest.mark.unit
async def test_apq_over_get_with_the_hash_in_the_extensions_parameter(settings):
    extensions = json.dumps(apq(sha(NAMES)))
    async with gateway_client(settings) as client:
        # Apollo Client 3 sends `Accept: */*`, which alone would get the GraphiQL page.
        headers = {"Accept": "*/*"}
        missed = await client.get("/graphql", params={"extensions": extensions}, headers=headers)
        assert missed.status_code == 200
        assert missed.headers["content-type"].startswith("application/json")
        assert missed.headers["cache-control"] == NO_CACHE
        assert only_error(missed.json())["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

        both = await client.get("/graphql", params={"query": NAMES, "extensions": extensions})
        assert both.json()["data"] == {"user": {"name": "Ingrid Rossi"}}

        for accept in ("*/*", "text/html", "application/json"):
            hit = await client.get(
                "/graphql", params={"extensions": extensions}, headers={"Accept": accept}
            )
            assert hit.status_code == 200
            assert hit.json()["data"] == {"user": {"name": "Ingrid Rossi"}}


@pytest.mark.unit
async def test_a_get_with_a_hash_still_needs_the_gateway_key(tmp_path):
    key = "lmsg_persisted_test_key_0001"
    settings = keyed_settings(tmp_path, key)
    params = {"extensions": json.dumps(apq(sha(NAMES)))}
    async with gateway_client(settings, RecordingUpstream()) as client:
        # A browser's Accept must not turn an operation into the (unauthenticated) IDE page.
        anonymous = await client.get("/graphql", params=params, headers={"Accept": "text/html"})
        assert anonymous.status_code == 401
        keyed = await client.get(
            "/graphql", params=params, headers={"Authorization": f"Bearer {key}"}
        )
        assert only_error(keyed.json())["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


@pytest.mark.unit
async def test_a_hash_that_is_not_the_texts_is_refused_and_not_stored(settings):
    wrong = sha(NAMES + " ")
    async with gateway_client(settings) as client:
        before = simulator_stats(client)
        refused = await client.post("/graphql", json={"query": NAMES, "extensions": apq(wrong)})
        assert refused.status_code == 400
        assert only_error(refused.json()) == {
            "message": "provided sha does not match query",
            "extensions": {"code": "PERSISTED_QUERY_HASH_MISMATCH"},
        }
        later = (await client.post("/graphql", json={"extensions": apq(wrong)})).json()
        assert only_error(later)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        assert simulator_stats(client) == before


@pytest.mark.unit
@pytest.mark.parametrize(
    ("extensions", "status", "code"),
    [
        (apq(sha(NAMES), version=2), 400, "PERSISTED_QUERY_NOT_SUPPORTED"),
        (apq(sha(NAMES), version=True), 400, "PERSISTED_QUERY_NOT_SUPPORTED"),
        (apq(sha(NAMES), version=None), 400, "PERSISTED_QUERY_NOT_SUPPORTED"),
        ({"persistedQuery": "abc"}, 400, "BAD_REQUEST"),
        ({"persistedQuery": {"version": 1}}, 400, "BAD_REQUEST"),
        ({"persistedQuery": {"version": 1, "sha256Hash": ""}}, 400, "BAD_REQUEST"),
        ({"persistedQuery": {"version": 1, "sha256Hash": 7}}, 400, "BAD_REQUEST"),
        ({"persistedQuery": {"version": 1, "sha256Hash": "a" * 300}}, 400, "BAD_REQUEST"),
    ],
)
async def test_malformed_persisted_query_extensions_get_coded_errors(
    settings, extensions, status, code
):
    async with gateway_client(settings) as client:
        before = simulator_stats(client)
        answer = await client.post("/graphql", json={"query": NAMES, "extensions": extensions})
        assert answer.status_code == status
        assert only_error(answer.json())["extensions"]["code"] == code
        assert simulator_stats(client) == before


@pytest.mark.unit
async def test_with_apq_off_the_client_is_told_to_stop_sending_hashes(settings):
    off = replaced(settings, persisted_queries={"apq": False})
    async with gateway_client(off) as client:
        for body in (
            {"extensions": apq(sha(NAMES))},
            {"query": NAMES, "extensions": apq(sha(NAMES))},
        ):
            answer = await client.post("/graphql", json=body)
            assert answer.status_code == 200
            assert only_error(answer.json()) == {
                "message": "PersistedQueryNotSupported",
                "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
            }
        plain = (await client.post("/graphql", json={"query": NAMES})).json()
        assert plain["data"] == {"user": {"name": "Ingrid Rossi"}}


@pytest.mark.unit
async def test_stored_documents_are_per_account(tmp_path):
    """A hash registered in one account is unknown in another: no cross-tenant oracle."""
    ops_key = "lmsg_persisted_ops_key_0003"
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        "".join(
            f'[[accounts]]\nid = "{name}"\nprovider = "talentlms"\n'
            f'base_url = "http://upstream.test/api/v1"\napi_key_env = "PQ_TEST_KEY"\n\n'
            for name in ("acme", "globex")
        )
        + f'[[api_keys]]\nname = "ops"\nsha256 = "{hash_key(ops_key)}"\naccounts = ["*"]\n',
        encoding="utf-8",
    )
    upstream = RecordingUpstream()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PQ_TEST_KEY", SimulatorConfig().api_key)
        settings = upstream_settings(tenancy={"accounts_file": accounts})
        async with gateway_client(settings, upstream) as client:

            async def post(account: str, body: dict[str, Any]) -> dict[str, Any]:
                headers = {"Authorization": f"Bearer {ops_key}", "X-LMS-Account": account}
                return (await client.post("/graphql", json=body, headers=headers)).json()

            registered = await post("acme", {"query": NAMES, "extensions": apq(sha(NAMES))})
            assert registered["data"] == {"user": {"name": "Ingrid Rossi"}}
            assert (await post("acme", {"extensions": apq(sha(NAMES))}))["data"] is not None
            calls = len(upstream.paths)
            other = await post("globex", {"extensions": apq(sha(NAMES))})
            assert only_error(other)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
            assert len(upstream.paths) == calls


@pytest.mark.unit
async def test_batches_resolve_persisted_queries_per_operation(settings):
    known, unknown = sha(NAMES), sha("{ courses { totalCount } }")
    async with gateway_client(settings) as client:
        answer = await client.post(
            "/graphql",
            json=[
                {"extensions": apq(known)},
                {"query": NAMES, "extensions": apq(known)},
                {"query": NAMES, "extensions": apq(unknown)},
                {"query": NAMES},
            ],
        )
        # One refused operation does not decide the status of the others' response.
        assert answer.status_code == 200
        missed, registered, mismatched, plain = answer.json()
        assert only_error(missed)["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        assert registered["data"] == plain["data"] == {"user": {"name": "Ingrid Rossi"}}
        assert only_error(mismatched)["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"

        again = await client.post(
            "/graphql", json=[{"extensions": apq(known)}, {"extensions": apq(known)}]
        )
        assert [item["data"] for item in again.json()] == [plain["data"]] * 2


@pytest.mark.unit
async def test_memory_store_is_a_bounded_lru():
    store = MemoryPersistedQueryStore(max_entries=2, max_bytes=10)
    await store.set("a", "1234")
    await store.set("b", "5678")
    assert await store.get("a") == "1234"  # now the most recent
    await store.set("c", "9")
    assert (await store.get("b"), len(store)) == (None, 2)
    await store.set("d", "abcdefgh")  # 4 + 1 + 8 bytes > 10: the least recent goes
    assert (await store.get("a"), await store.get("c"), await store.get("d")) == (
        None,
        "9",
        "abcdefgh",
    )
    assert store.size_bytes == 9
    await store.set("huge", "x" * 11)  # larger than the whole store: not kept
    assert await store.get("huge") is None and await store.get("d") == "abcdefgh"
    await store.set("d", "é")  # replacing an entry re-counts its size (2 bytes in UTF-8)
    assert store.size_bytes == 3


@pytest.mark.http
def test_apq_over_real_http(settings):
    with serve_over_http(create_app(settings)) as base, httpx.Client(base_url=base) as http:
        extensions = apq(sha(TRANSCRIPT))
        missed = http.post("/graphql", json={"extensions": extensions})
        assert (missed.status_code, missed.headers["cache-control"]) == (200, NO_CACHE)
        assert only_error(missed.json())["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        registered = http.post("/graphql", json={"query": TRANSCRIPT, "extensions": extensions})
        assert "errors" not in registered.json()
        hit = http.get("/graphql", params={"extensions": json.dumps(extensions)})
        assert hit.json()["data"] == registered.json()["data"]
        mismatch = http.post("/graphql", json={"query": NAMES, "extensions": extensions})
        assert mismatch.status_code == 400


# --- allow-list mode ---------------------------------------------------------------------------


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    """The manifest of queries/, written by the CLI as an operator would."""
    path = tmp_path / "manifest.json"
    assert main(["persisted-queries", "build", str(QUERIES), "-o", str(path)]) == 0
    return path


@pytest.fixture
def allowlist(settings: Settings, manifest_path: Path) -> Settings:
    return replaced(settings, persisted_queries={"allowlist": True, "manifest": manifest_path})


@pytest.mark.unit
def test_the_cli_writes_one_entry_per_operation_in_queries(manifest_path):
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert (data["format"], data["version"]) == ("apollo-persisted-query-manifest", 1)
    files = sorted(QUERIES.rglob("*.graphql"))
    assert sorted(op["body"] for op in data["operations"]) == sorted(
        f.read_text(encoding="utf-8") for f in files
    )
    assert all(op["id"] == sha(op["body"]) for op in data["operations"])
    # The example mutations (queries/mutations/) are in the manifest too: an allow-list
    # built from queries/ lets exactly these mutations run.
    types = {op["name"]: op["type"] for op in data["operations"]}
    assert types["LearnerDashboard"] == "query" and types["EnrollUser"] == "mutation"
    assert {f.parent.name for f in files if types[_operation_name(f)] == "mutation"} == {
        "mutations"
    }


@pytest.mark.unit
async def test_allowlist_runs_every_queries_operation_by_hash_and_by_text(allowlist):
    names = sorted(path.stem for path in QUERIES.glob("*.graphql"))
    async with gateway_client(allowlist) as client:
        for name in names:
            text = query_text(name)
            by_hash = (await client.post("/graphql", json={"extensions": apq(sha(text))})).json()
            by_text = (await client.post("/graphql", json={"query": text})).json()
            by_both = (
                await client.post("/graphql", json={"query": text, "extensions": apq(sha(text))})
            ).json()
            assert "errors" not in by_hash, (name, by_hash)
            assert by_hash["data"] == by_text["data"] == by_both["data"], name
            calls = by_hash["extensions"]["upstream"]["calls"]
            assert calls == by_text["extensions"]["upstream"]["calls"], name


@pytest.mark.unit
@pytest.mark.parametrize(
    "body",
    [
        {"query": NAMES},
        {"query": "{ __schema { types { name } } }"},
        {"query": "{ users"},  # refused before parsing: no parse error
        {"extensions": apq(sha(NAMES))},
        {"query": NAMES, "extensions": apq(sha(NAMES))},  # no registration at run time
        {"extensions": apq("not-a-manifest-id")},
        [{"query": NAMES}],
        [{"query": 7}],
    ],
    ids=[
        "ad-hoc",
        "introspection",
        "unparseable",
        "unknown-hash",
        "registration",
        "unknown-id",
        "batched",
        "batched-not-text",
    ],
)
async def test_allowlist_refuses_anything_else_without_an_upstream_call(allowlist, body):
    upstream = RecordingUpstream()
    settings = upstream_settings(
        cache={"enabled": False},
        persisted_queries={"allowlist": True, "manifest": allowlist.persisted_queries.manifest},
    )
    async with gateway_client(settings, upstream) as client:
        answer = await client.post("/graphql", json=body)
        if isinstance(body, list):
            assert answer.status_code == 200
            [error] = [only_error(item) for item in answer.json()]
        else:
            assert answer.status_code == 403
            error = only_error(answer.json())
            if body.get("extensions"):  # nothing was registered
                again = await client.post("/graphql", json={"extensions": body["extensions"]})
                assert again.status_code == 403
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
    assert not [path for path in upstream.paths if "ratelimit" not in path]


@pytest.mark.unit
async def test_allowlist_checks_the_text_sent_with_a_manifest_hash(allowlist):
    dashboard = query_text("learner_dashboard")
    async with gateway_client(allowlist) as client:
        before = simulator_stats(client)
        answer = await client.post(
            "/graphql", json={"query": NAMES, "extensions": apq(sha(dashboard))}
        )
        assert answer.status_code == 400
        assert only_error(answer.json())["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
        assert simulator_stats(client) == before


@pytest.mark.unit
async def test_allowlist_in_a_batch_refuses_per_operation(allowlist):
    outline = query_text("course_outline")
    async with gateway_client(allowlist) as client:
        answer = await client.post(
            "/graphql", json=[{"extensions": apq(sha(outline))}, {"query": NAMES}]
        )
    assert answer.status_code == 200
    allowed, refused = answer.json()
    assert allowed["data"]["course"]["title"]
    assert only_error(refused)["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"


@pytest.mark.http
def test_allowlist_over_real_http(allowlist):
    transcript_hash = sha(TRANSCRIPT)
    with serve_over_http(create_app(allowlist)) as base, httpx.Client(base_url=base) as http:
        by_hash = http.get("/graphql", params={"extensions": json.dumps(apq(transcript_hash))})
        assert by_hash.status_code == 200 and "errors" not in by_hash.json()
        adhoc = http.post("/graphql", json={"query": NAMES})
        assert adhoc.status_code == 403
        assert only_error(adhoc.json())["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"


@pytest.mark.unit
async def test_a_manifest_without_allowlist_preloads_hashes_for_every_account(
    settings, manifest_path
):
    preloaded = replaced(settings, persisted_queries={"manifest": manifest_path})
    async with gateway_client(preloaded) as client:
        hit = (await client.post("/graphql", json={"extensions": apq(sha(TRANSCRIPT))})).json()
        assert "errors" not in hit
        adhoc = (await client.post("/graphql", json={"query": NAMES})).json()
        assert adhoc["data"] == {"user": {"name": "Ingrid Rossi"}}


# --- manifests ---------------------------------------------------------------------------------


@pytest.mark.unit
def test_allowlist_without_a_manifest_is_a_configuration_error():
    with pytest.raises(ValidationError, match="LMS_GATEWAY_PERSISTED_QUERIES_MANIFEST"):
        Settings(persisted_queries={"allowlist": True})


def manifest(**overrides: Any) -> dict[str, Any]:
    body = "query Q { user(remoteId: 1) { name } }"
    operation = {"id": sha(body), "name": "Q", "type": "query", "body": body}
    operation.update(overrides.pop("operation", {}))
    return {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [operation],
        **overrides,
    }


@pytest.mark.unit
@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read"),
        ("{ not json", "is not JSON"),
        ("[]", "must be a JSON object"),
        (json.dumps(manifest(format="relay")), '"format" must be'),
        (json.dumps(manifest(version=2)), '"version" must be 1'),
        (json.dumps(manifest(operations={})), '"operations" must be a list'),
        (json.dumps(manifest(operations=[1])), "operations[0] must be an object"),
        (json.dumps(manifest(operation={"body": None})), 'operations[0]."body" must be'),
        (json.dumps(manifest(operation={"id": ""})), 'operations[0]."id" must be'),
        (json.dumps(manifest(operation={"type": "read"})), 'operations[0]."type" must be'),
        (json.dumps(manifest(operation={"body": "query {"})), "does not parse"),
    ],
    ids=[
        "missing",
        "not-json",
        "not-object",
        "format",
        "version",
        "operations",
        "operation",
        "body",
        "id",
        "type",
        "syntax",
    ],
)
def test_a_bad_manifest_is_a_clear_startup_error(tmp_path, settings, content, problem):
    path = tmp_path / "manifest.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError) as error:
        load_manifest(path)
    assert problem in str(error.value) and str(path) in str(error.value)
    with pytest.raises(ManifestError):
        create_app(replaced(settings, persisted_queries={"manifest": path}))


@pytest.mark.unit
def test_one_id_for_two_bodies_is_refused(tmp_path):
    data = manifest()
    data["operations"].append({**data["operations"][0], "body": "query Q { users { totalCount } }"})
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ManifestError, match="two different bodies"):
        load_manifest(path)


@pytest.mark.unit
def test_serve_refuses_to_start_with_a_bad_manifest(tmp_path, monkeypatch, capsys):
    for name in ("TALENTLMS_DOMAIN", "TALENTLMS_BASE_URL", "TALENTLMS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "missing.json"
    monkeypatch.setenv("LMS_GATEWAY_PERSISTED_QUERIES_MANIFEST", str(path))
    assert main(["serve"]) == 2
    assert f"cannot read persisted-query manifest {path}" in capsys.readouterr().err


@pytest.mark.unit
def test_ids_made_another_way_are_found_by_id_and_by_body_hash(tmp_path):
    data = manifest(operation={"id": "q-v1"})
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = load_manifest(path)
    body = data["operations"][0]["body"]
    assert loaded.lookup("q-v1") is loaded.lookup(sha(body)) is loaded.lookup_body(sha(body))
    assert loaded.lookup_body("q-v1") is None


@pytest.mark.unit
def test_build_splits_files_with_several_operations(tmp_path):
    (tmp_path / "pair.graphql").write_text(
        "fragment Who on User { name }\n"
        "fragment Where on Course { title }\n"
        'query One { user(remoteId: "8") { ...Who } }\n'
        'query Two { course(remoteId: "101") { ...Where } }\n',
        encoding="utf-8",
    )
    built = build_manifest(tmp_path, schema._schema)
    one, two = built.operations
    assert (one.name, two.name) == ("One", "Two")
    assert "fragment Who" in one.body and "Where" not in one.body
    assert "fragment Where" in two.body and "Who" not in two.body
    assert all(operation.id == sha(operation.body) for operation in built.operations)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({}, "no *.graphql files"),
        ({"a.graphql": "query A { user(remoteId: 1) { name }"}, "does not parse"),
        ({"a.graphql": "query A { user(remoteId: 1) { nope } }"}, "does not validate"),
        ({"a.graphql": "{ user(remoteId: 1) { name } }"}, "needs a name"),
        ({"a.graphql": "fragment F on User { name }"}, "has no operation"),
        (
            {"a.graphql": "query A { __typename }", "b.graphql": "query A { __typename }"},
            "operation A is in both",
        ),
    ],
    ids=["empty", "syntax", "invalid", "anonymous", "no-operation", "duplicate"],
)
def test_build_refuses_documents_a_manifest_cannot_hold(tmp_path, capsys, files, problem):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    out = tmp_path / "manifest.json"
    assert main(["persisted-queries", "build", str(tmp_path), "-o", str(out)]) == 2
    assert problem in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.unit
async def test_refusals_keep_their_status_under_the_graphql_response_media_type(settings):
    # Under application/graphql-response+json a refused request has no `data` entry, but a
    # persisted-query refusal keeps Apollo's status: PersistedQueryNotFound must stay 200 or
    # Apollo Client treats it as a network error and never sends the document.
    accept = {"accept": "application/graphql-response+json, application/json;q=0.9"}
    async with gateway_client(settings) as client:
        missed = await client.post("/graphql", json={"extensions": apq(sha(NAMES))}, headers=accept)
        assert missed.status_code == 200
        assert missed.headers["content-type"].startswith("application/graphql-response+json")
        assert "data" not in missed.json()
        assert missed.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"

        mismatch = await client.post(
            "/graphql", json={"query": NAMES, "extensions": apq(sha("other"))}, headers=accept
        )
        assert mismatch.status_code == 400
        assert "data" not in mismatch.json()
        code = mismatch.json()["errors"][0]["extensions"]["code"]
        assert code == "PERSISTED_QUERY_HASH_MISMATCH"


def _operation_name(path: Path) -> str:
    match = re.search(r"^(?:query|mutation)\s+(\w+)", path.read_text(encoding="utf-8"), re.M)
    assert match is not None, path
    return match.group(1)
