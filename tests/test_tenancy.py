"""Tenancy: two accounts, two portals, scoped gateway keys; nothing crosses over or leaks."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from gateway.config import Settings
from gateway.simulator import SimulatorConfig, create_simulator_app, generate_portal
from gateway.tenancy.authorization import hash_key
from tests.support import gateway_client, serve_over_http

pytestmark = pytest.mark.http

ACME_TLMS_KEY = "acme-talentlms-key-7f3a9c1e"
GLOBEX_TLMS_KEY = "globex-talentlms-key-2b8d4e6f"
ACME_KEY = "lmsg_acme_frontend_key_0001"
GLOBEX_KEY = "lmsg_globex_frontend_key_0002"
OPS_KEY = "lmsg_ops_all_accounts_key_0003"
REVOKED_KEY = "globex-revoked-key-9c0d1e2f"
SECRETS = (ACME_TLMS_KEY, GLOBEX_TLMS_KEY, ACME_KEY, GLOBEX_KEY, OPS_KEY, REVOKED_KEY)

ACME = SimulatorConfig(seed=7, users=30, api_key=ACME_TLMS_KEY, date_format="DDMMYYYY")
GLOBEX = SimulatorConfig(
    seed=8, users=45, api_key=GLOBEX_TLMS_KEY, date_format="MMDDYYYY", twelve_hour=True
)
NAMES = "{ users(first: 3) { totalCount nodes { id name createdAt } pageInfo { endCursor } } }"


@dataclass
class Portals:
    acme: str
    globex: str
    acme_app: object
    globex_app: object


@pytest.fixture(scope="module")
def portals() -> Iterator[Portals]:
    acme, globex = create_simulator_app(ACME), create_simulator_app(GLOBEX)
    with ExitStack() as stack:
        yield Portals(
            stack.enter_context(serve_over_http(acme)),
            stack.enter_context(serve_over_http(globex)),
            acme,
            globex,
        )


@pytest.fixture
def settings(portals: Portals, tmp_path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f"""
[[accounts]]
id = "acme"
provider = "talentlms"
base_url = "{portals.acme}/api/v1"
api_key_env = "ACME_TALENTLMS_KEY"

[[accounts]]
id = "globex"
provider = "talentlms"
base_url = "{portals.globex}/api/v1"
api_key_env = "GLOBEX_TALENTLMS_KEY"

[[api_keys]]
name = "acme-frontend"
sha256 = "{hash_key(ACME_KEY)}"
accounts = ["acme"]

[[api_keys]]
name = "globex-frontend"
sha256 = "{hash_key(GLOBEX_KEY)}"
accounts = ["globex"]

[[api_keys]]
name = "ops"
sha256 = "{hash_key(OPS_KEY)}"
accounts = ["*"]
""",
        encoding="utf-8",
    )
    for name in ("TALENTLMS_DOMAIN", "TALENTLMS_BASE_URL", "TALENTLMS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACME_TALENTLMS_KEY", ACME_TLMS_KEY)
    monkeypatch.setenv("GLOBEX_TALENTLMS_KEY", GLOBEX_TLMS_KEY)
    return Settings(tenancy={"accounts_file": accounts})


def headers(key: str | None, account: str | None = None) -> dict[str, str]:
    found = {}
    if key is not None:
        found["Authorization"] = f"Bearer {key}"
    if account is not None:
        found["X-LMS-Account"] = account
    return found


def expected_names(config: SimulatorConfig) -> list[str]:
    users = generate_portal(config).users[:3]
    return [f"{u['first_name']} {u['last_name']}" for u in users]


@pytest.mark.parametrize(
    ("key", "account", "status", "portal"),
    [
        (ACME_KEY, "acme", 200, "acme"),
        (ACME_KEY, None, 200, "acme"),
        (ACME_KEY, "globex", 403, None),
        (GLOBEX_KEY, "globex", 200, "globex"),
        (GLOBEX_KEY, None, 200, "globex"),
        (GLOBEX_KEY, "acme", 403, None),
        (OPS_KEY, "acme", 200, "acme"),
        (OPS_KEY, "globex", 200, "globex"),
        (OPS_KEY, None, 400, None),
        (ACME_KEY, "initech", 403, None),
        (None, "acme", 401, None),
        ("lmsg_wrong_key", "acme", 401, None),
    ],
)
async def test_tenancy_matrix(settings, portals, key, account, status, portal):
    async with gateway_client(settings) as client:
        response = await client.post(
            "/graphql", json={"query": NAMES}, headers=headers(key, account)
        )
    assert response.status_code == status, response.text
    body = response.json()
    if portal is None:
        code = {400: "BAD_USER_INPUT", 401: "UNAUTHENTICATED", 403: "FORBIDDEN"}[status]
        assert [e["extensions"]["code"] for e in body["errors"]] == [code]
        assert "data" not in body
        if status == 401:
            assert response.headers["www-authenticate"] == "Bearer"
        return
    config = ACME if portal == "acme" else GLOBEX
    users = body["data"]["users"]
    assert [n["name"] for n in users["nodes"]] == expected_names(config)
    assert users["totalCount"] == config.users


async def test_unknown_account_and_out_of_scope_account_look_the_same(settings):
    async with gateway_client(settings) as client:
        unknown = await client.post(
            "/graphql", json={"query": NAMES}, headers=headers(ACME_KEY, "initech")
        )
        other = await client.post(
            "/graphql", json={"query": NAMES}, headers=headers(ACME_KEY, "globex")
        )
    assert unknown.json()["errors"][0]["message"].replace("initech", "X") == other.json()["errors"][
        0
    ]["message"].replace("globex", "X")


async def test_no_call_reaches_the_other_portal(settings, portals):
    acme_stats = portals.acme_app.state.stats
    globex_stats = portals.globex_app.state.stats
    acme_stats.reset()
    globex_stats.reset()
    async with gateway_client(settings) as client:
        for _ in range(3):
            await client.post("/graphql", json={"query": NAMES}, headers=headers(ACME_KEY))
    assert acme_stats.total > 0
    assert globex_stats.total == 0


async def test_cursors_do_not_cross_accounts(settings):
    async with gateway_client(settings) as client:
        acme = await client.post(
            "/graphql", json={"query": NAMES}, headers=headers(OPS_KEY, "acme")
        )
        cursor = acme.json()["data"]["users"]["pageInfo"]["endCursor"]
        globex = await client.post(
            "/graphql",
            json={
                "query": "query($c: String) { users(after: $c) { nodes { id } } }",
                "variables": {"c": cursor},
            },
            headers=headers(OPS_KEY, "globex"),
        )
    body = globex.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "another list" in body["errors"][0]["message"]


async def test_portal_caches_are_per_account(settings):
    """Each portal's date format is read and kept for that portal only."""
    async with gateway_client(settings) as client:
        for account, config in (("acme", ACME), ("globex", GLOBEX), ("acme", ACME)):
            response = await client.post(
                "/graphql", json={"query": NAMES}, headers=headers(OPS_KEY, account)
            )
            raw = generate_portal(config).users[0]["created_on"]
            created = response.json()["data"]["users"]["nodes"][0]["createdAt"]
            day, month = (raw[:2], raw[3:5]) if account == "acme" else (raw[3:5], raw[:2])
            assert created[5:7] == month and created[8:10] == day, (account, raw, created)


async def test_secrets_never_appear_in_responses_or_logs(settings, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    texts = []
    async with gateway_client(settings) as client:
        requests = [
            (NAMES, headers(ACME_KEY)),
            (NAMES, headers(GLOBEX_KEY, "acme")),
            (NAMES, headers("Bearer " + ACME_KEY)),
            (NAMES, headers(ACME_KEY + "x")),
            (NAMES, {"Authorization": f"Basic {ACME_KEY}"}),
            ('{ user(id: "1") { remoteData } }', headers(OPS_KEY, "acme")),
            ("{ users { nodes { nope } } }", headers(OPS_KEY, "globex")),
            ("{ courses(first: 1000) { nodes { id } } }", headers(OPS_KEY, "acme")),
        ]
        for query, request_headers in requests:
            response = await client.post("/graphql", json={"query": query}, headers=request_headers)
            texts.append(response.text)
            texts.append(str(response.headers))
    # A portal that rejects its key: the error must not echo that key either.
    monkeypatch.setenv("GLOBEX_TALENTLMS_KEY", REVOKED_KEY)
    async with gateway_client(
        Settings(tenancy={"accounts_file": settings.tenancy.accounts_file})
    ) as client:
        response = await client.post(
            "/graphql", json={"query": NAMES}, headers=headers(OPS_KEY, "globex")
        )
        texts.append(response.text)
    assert response.json()["errors"][0]["extensions"]["code"] == "UPSTREAM_AUTH_FAILED"
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''} {record.args!r}"
        for record in caplog.records
    )
    everything = "\n".join(texts) + logged
    for secret in SECRETS:
        assert secret not in everything
    assert caplog.records  # the run did log something


def test_account_config_repr_hides_the_key(settings):
    from gateway.tenancy.accounts import load_tenancy

    tenancy = load_tenancy(settings, accounts_file=settings.tenancy.accounts_file)
    shown = repr(tenancy) + str(list(tenancy.accounts.values()))
    for secret in SECRETS:
        assert secret not in shown


@pytest.mark.parametrize("path", ["/healthz"])
async def test_health_needs_no_key(settings, path):
    async with gateway_client(settings) as client:
        assert (await client.get(path)).status_code == 200


async def test_graphiql_page_needs_no_key_but_queries_do(settings):
    async with gateway_client(settings) as client:
        page = await client.get("/graphql", headers={"Accept": "text/html"})
        query = await client.get(
            "/graphql",
            params={"query": "{ users { totalCount } }"},
            headers={"Accept": "text/html"},
        )
    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert query.status_code == 401


@pytest.mark.parametrize("with_gateway_keys", [True, False])
async def test_no_secret_sent_as_x_lms_account_comes_back(settings, tmp_path, with_gateway_keys):
    # A key pasted into the account header (the likeliest mix-up) is never echoed: not the
    # caller's, not another gateway key, not a portal's key, not a configured hash.
    if not with_gateway_keys:  # anonymous access: every account, no Authorization needed
        text = settings.tenancy.accounts_file.read_text(encoding="utf-8")
        anonymous = tmp_path / "anonymous.toml"
        anonymous.write_text(text.split("[[api_keys]]")[0], encoding="utf-8")
        settings = Settings(tenancy={"accounts_file": anonymous})
    configured = (*SECRETS, *(hash_key(key) for key in (ACME_KEY, GLOBEX_KEY, OPS_KEY)))
    callers = (ACME_KEY, GLOBEX_KEY, OPS_KEY, None) if with_gateway_keys else (None,)
    texts = []
    async with gateway_client(settings) as client:
        for caller in callers:
            for value in configured:
                response = await client.post(
                    "/graphql", json={"query": NAMES}, headers=headers(caller, value)
                )
                assert response.status_code in (401, 403), response.text
                texts.append(response.text + str(response.headers))
    everything = "\n".join(texts)
    for secret in configured:
        assert secret not in everything
