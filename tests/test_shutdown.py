"""Graceful shutdown of ``lms-gateway serve``, as an orchestrator does it: SIGTERM while a
request is in flight."""

from __future__ import annotations

import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support import serving

pytestmark = [pytest.mark.http, pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")]

# Two sequential portal calls (the user, then the course): two simulated latencies.
QUERY = '{ user(remoteId: "8") { name enrollments(first: 1) { nodes { course { title } } } } }'
LATENCY_MS = 2500


def gateway_env(**extra: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TALENTLMS_", "LMS_GATEWAY_"))
    }
    return {**env, "LMS_GATEWAY_DEMO_LATENCY_MS": str(LATENCY_MS), **extra}


def refused(base: str) -> bool:
    try:
        httpx.get(f"{base}/healthz", timeout=2)
    except httpx.ConnectError:
        return True
    return False


@pytest.mark.slow
def test_sigterm_finishes_the_request_in_flight_then_exits_0():
    env = gateway_env(LMS_GATEWAY_READINESS_TIMEOUT_SECONDS="30")
    with serving(env) as (process, base):
        with ThreadPoolExecutor(2) as pool:
            query = pool.submit(httpx.post, f"{base}/graphql", json={"query": QUERY}, timeout=60)
            probe = pool.submit(httpx.get, f"{base}/readyz", timeout=60)
            time.sleep(LATENCY_MS / 1000 / 2)  # both are now waiting on the simulated portal
            assert not query.done() and not probe.done()
            process.send_signal(signal.SIGTERM)
            # The listener closes at once; the requests already in flight carry on.
            deadline = time.monotonic() + 30
            while not refused(base):
                assert time.monotonic() < deadline, "still accepting connections"
                time.sleep(0.05)
            answer, readiness = query.result(), probe.result()
        _, stderr = process.communicate(timeout=60)
    assert answer.status_code == 200
    body = answer.json()
    assert "errors" not in body
    assert body["data"]["user"]["name"] == "Ingrid Rossi"
    assert body["data"]["user"]["enrollments"]["nodes"][0]["course"]["title"]
    # The probe that was asking the portal when shutdown began reports it.
    assert readiness.status_code == 503
    assert readiness.json()["reason"] == "SHUTTING_DOWN"
    assert process.returncode == 0, stderr
    assert "Application shutdown complete" in stderr  # lifespan ran: upstream client closed
    assert refused(base)


@pytest.mark.slow
def test_requests_still_running_at_the_shutdown_timeout_are_cancelled_and_it_exits_0():
    env = gateway_env(LMS_GATEWAY_SHUTDOWN_TIMEOUT_SECONDS="0.5")
    with serving(env) as (process, base), ThreadPoolExecutor(1) as pool:
        query = pool.submit(httpx.post, f"{base}/graphql", json={"query": QUERY}, timeout=60)
        time.sleep(LATENCY_MS / 1000 / 2)
        assert not query.done()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        with pytest.raises(httpx.HTTPError):
            query.result().raise_for_status()
    assert process.returncode == 0, stderr
    assert "timeout graceful shutdown exceeded" in stderr


@pytest.mark.slow
def test_with_a_drain_delay_it_keeps_serving_but_reports_unready_until_a_second_signal():
    env = gateway_env(LMS_GATEWAY_DEMO_LATENCY_MS="0", LMS_GATEWAY_SHUTDOWN_DELAY_SECONDS="600")
    with serving(env) as (process, base):
        assert httpx.get(f"{base}/readyz", timeout=30).status_code == 200
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30  # the signal arrives asynchronously
        while (readiness := httpx.get(f"{base}/readyz", timeout=30)).status_code == 200:
            assert time.monotonic() < deadline, "/readyz never turned unready"
            time.sleep(0.05)
        answer = httpx.post(f"{base}/graphql", json={"query": QUERY}, timeout=30)
        alive = httpx.get(f"{base}/healthz", timeout=30)
        process.send_signal(signal.SIGTERM)  # the second one skips the rest of the delay
        _, stderr = process.communicate(timeout=60)
    assert readiness.status_code == 503
    assert readiness.json()["reason"] == "SHUTTING_DOWN"
    assert answer.status_code == 200 and answer.json()["data"]["user"]["name"] == "Ingrid Rossi"
    assert alive.status_code == 200
    assert process.returncode == 0, stderr
    assert refused(base)
