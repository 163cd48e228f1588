"""The shared cache: repeated and concurrent operations cost the upstream calls of one."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from gateway.providers.talentlms.client import TalentLmsClient
from gateway.upstream.cache import MemoryCacheStore, UpstreamCache
from gateway.upstream.usage import UpstreamUsage
from tests.support import counted, gateway_client, post, query_text, replaced, simulator_stats

pytestmark = pytest.mark.unit

DASHBOARD = query_text("learner_dashboard")
NO_CACHE = {"Cache-Control": "no-cache"}


def total(client: httpx.AsyncClient) -> int:
    return sum(simulator_stats(client).values())


async def test_the_same_dashboard_twice_costs_nothing_the_second_time():
    async with gateway_client() as client:
        first = await post(client, DASHBOARD)
        after_first = total(client)
        second = await post(client, DASHBOARD)
    assert first["extensions"]["upstream"]["calls"] == after_first == 18
    assert second["extensions"]["upstream"]["calls"] == 0
    assert second["extensions"]["upstream"]["cacheHits"] == 18
    assert total(client) == after_first
    assert second["data"] == first["data"]


async def test_ten_concurrent_identical_queries_cost_the_calls_of_one(demo_settings):
    slow = replaced(demo_settings, simulator={"latency_ms": 30})
    async with gateway_client(slow) as client:
        bodies = await asyncio.gather(*(post(client, DASHBOARD) for _ in range(10)))
        calls = total(client)
    assert calls == 18
    assert sum(b["extensions"]["upstream"]["calls"] for b in bodies) == 18
    assert all(b["data"] == bodies[0]["data"] for b in bodies)


async def test_no_cache_asks_upstream_again_and_refreshes():
    query = '{ user(remoteId: "8") { name } }'
    async with gateway_client() as client:
        await post(client, query)
        fresh = (await client.post("/graphql", json={"query": query}, headers=NO_CACHE)).json()
        cached = await post(client, query)
    assert counted(fresh["extensions"]["upstream"]) == {
        "calls": 1,
        "byEndpoint": {"users/id": 1},
        "cacheHits": 0,
        "retries": 0,
    }
    assert cached["extensions"]["upstream"]["calls"] == 0
    assert total(client) == 2


async def test_entries_expire_after_their_ttl(demo_settings):
    # The store's clock is moved by hand: a busy machine must not make "within" late.
    short = replaced(demo_settings, cache={"ttls": {"users/id": 60}})
    query = '{ user(remoteId: "8") { name } }'
    now = [1000.0]
    async with gateway_client(short) as client:
        cache = client.app.state.runtime.cache
        cache._store._clock = lambda: now[0]
        await post(client, query)
        now[0] += 59
        within = await post(client, query)
        now[0] += 2
        after = await post(client, query)
    assert within["extensions"]["upstream"]["calls"] == 0
    assert after["extensions"]["upstream"]["calls"] == 1


async def test_the_cache_can_be_switched_off(demo_settings):
    off = replaced(demo_settings, cache={"enabled": False})
    async with gateway_client(off) as client:
        await post(client, '{ user(remoteId: "8") { name } }')
        again = await post(client, '{ user(remoteId: "8") { name } }')
    assert counted(again["extensions"]["upstream"]) == {
        "calls": 1,
        "byEndpoint": {"users/id": 1},
        "cacheHits": 0,
        "retries": 0,
    }


BASE = "https://acme.talentlms.com/api/v1"


@respx.mock
async def test_enrollment_writes_drop_what_they_make_stale():
    user = respx.get(f"{BASE}/users/id:7").respond(json={"id": "7", "courses": []})
    course = respx.get(f"{BASE}/courses/id:3").respond(json={"id": "3", "users": []})
    respx.post(f"{BASE}/addusertocourse").respond(
        json=[{"user_id": "7", "course_id": "3", "role": "learner"}]
    )
    cache = UpstreamCache(MemoryCacheStore())
    async with httpx.AsyncClient() as http:
        api = TalentLmsClient(
            http, base_url=BASE, api_key="k", usage=UpstreamUsage(), cache=cache, cache_scope="acme"
        )
        for _ in range(2):
            await api.user(id="7")
            await api.course("3")
        assert (user.call_count, course.call_count) == (1, 1)
        await api.add_user_to_course(user_id="7", course_id="3")
        await api.user(id="7")
        await api.course("3")
    assert (user.call_count, course.call_count) == (2, 2)


@respx.mock
async def test_accounts_never_share_entries():
    route = respx.get(f"{BASE}/users/id:7").respond(json={"id": "7"})
    cache = UpstreamCache(MemoryCacheStore())
    async with httpx.AsyncClient() as http:
        for scope in ("acme", "globex", "acme"):
            api = TalentLmsClient(
                http,
                base_url=BASE,
                api_key="k",
                usage=UpstreamUsage(),
                cache=cache,
                cache_scope=scope,
            )
            await api.user(id="7")
    assert route.call_count == 2


async def test_memory_store_is_bounded_and_expires():
    now = [0.0]
    store = MemoryCacheStore(max_entries=2, clock=lambda: now[0])
    await store.set("a", 1, ttl=10)
    await store.set("b", 2, ttl=10)
    assert await store.get("a") == 1  # a is now the most recently used
    await store.set("c", 3, ttl=10)
    assert (await store.get("b"), len(store)) == (None, 2)  # b was evicted
    now[0] = 11
    assert await store.get("a") is None


async def test_a_failed_call_is_shared_but_not_cached():
    cache = UpstreamCache(MemoryCacheStore())
    calls = 0

    async def failing() -> object:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise RuntimeError("upstream down")

    results = await asyncio.gather(
        *(cache.fetch("k", "users/id", failing) for _ in range(5)), return_exceptions=True
    )
    assert calls == 1 and all(isinstance(r, RuntimeError) for r in results)
    with pytest.raises(RuntimeError):
        await cache.fetch("k", "users/id", failing)
    assert calls == 2


async def test_a_shared_call_outlives_the_caller_that_started_it():
    # The first caller's client went away; the others still wait for the same call.
    cache = UpstreamCache(MemoryCacheStore())
    calls = 0
    release = asyncio.Event()

    async def slow() -> object:
        nonlocal calls
        calls += 1
        await release.wait()
        return {"id": "7"}

    leader = asyncio.create_task(cache.fetch("k", "users/id", slow))
    await asyncio.sleep(0)
    followers = [asyncio.create_task(cache.fetch("k", "users/id", slow)) for _ in range(2)]
    await asyncio.sleep(0)
    leader.cancel()
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*followers) == [({"id": "7"}, True)] * 2
    assert leader.cancelled() and calls == 1
    assert await cache.fetch("k", "users/id", slow) == ({"id": "7"}, True)  # and it was kept


async def test_a_shared_call_stops_when_every_caller_has_left():
    cache = UpstreamCache(MemoryCacheStore())
    stopped = asyncio.Event()

    async def endless() -> object:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    callers = [asyncio.create_task(cache.fetch("k", "users/id", endless)) for _ in range(3)]
    await asyncio.sleep(0)
    for caller in callers:
        caller.cancel()
    await asyncio.wait_for(stopped.wait(), 5)
    assert all(caller.cancelled() for caller in callers)
