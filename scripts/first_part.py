"""Time to the first part of the deferred dashboard against the time to the whole dashboard.

Starts `lms-gateway simulator` (at `--latency-ms` per call) and `lms-gateway serve` in front of
it with the cache off, as a portal is used: over real HTTP, each in its own process. Then, for
`--iterations` rounds, alternately:

* the learner dashboard (queries/learner_dashboard.graphql) as one JSON answer: the time to
  its whole body;
* the deferred dashboard (queries/learner_dashboard_deferred.graphql) with Apollo Client's
  `Accept: multipart/mixed;deferSpec=20220824,...`: the time to each part (names; enrollments;
  outlines), the last one ending the answer;
* the deferred dashboard as a client without multipart sends it (`Accept: application/json`):
  the time to its one answer, with everything in it.

It checks that the parts merge into the dashboard's data with the same upstream calls, and
prints the medians and their ratios to the whole dashboard's.

    python scripts/first_part.py --latency-ms 50 --iterations 20
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from gateway.simulator import SimulatorConfig

QUERIES = Path(__file__).resolve().parent.parent / "queries"
DASHBOARD = (QUERIES / "learner_dashboard.graphql").read_text(encoding="utf-8")
DEFERRED = (QUERIES / "learner_dashboard_deferred.graphql").read_text(encoding="utf-8")
IN_PARTS = (  # Apollo Client 4's, for an operation with @defer
    "multipart/mixed;deferSpec=20220824,application/graphql-response+json,application/json;q=0.9"
)
BOUNDARY = b"\r\n---"  # the gateway's parts are separated by CRLF and --, boundary "-"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_answering(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"{url} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer")


def whole(client: httpx.Client, query: str, accept: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = client.post("/graphql", json={"query": query}, headers={"accept": accept})
    elapsed = time.perf_counter() - started
    body = response.json()
    if response.status_code != 200 or body.get("errors"):
        raise SystemExit(f"the dashboard failed: {response.status_code} {body.get('errors')}")
    return elapsed, body


def in_parts(client: httpx.Client) -> tuple[list[float], list[dict[str, Any]]]:
    """The time at which each part had arrived whole, and the parts."""
    times: list[float] = []
    parts: list[dict[str, Any]] = []
    started = time.perf_counter()
    with client.stream(
        "POST", "/graphql", json={"query": DEFERRED}, headers={"accept": IN_PARTS}
    ) as response:
        if not response.headers["content-type"].startswith("multipart/mixed"):
            raise SystemExit(f"not an answer in parts: {response.headers['content-type']}")
        buffer = b""
        for chunk in response.iter_raw():
            buffer += chunk
            while BOUNDARY in buffer:
                part, _, buffer = buffer.partition(BOUNDARY)
                _, blank, payload = part.partition(b"\r\n\r\n")
                if blank:
                    times.append(time.perf_counter() - started)
                    parts.append(json.loads(payload))
    return times, parts


def merged(parts: list[dict[str, Any]]) -> Any:
    """The parts' data merged at their paths (deferSpec=20220824)."""
    data = parts[0]["data"]
    for part in parts[1:]:
        for entry in part.get("incremental", []):
            target = data
            for key in entry["path"]:
                target = target[key]
            target.update(entry["data"])
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    sim_port, gateway_port = free_port(), free_port()
    logs = Path(tempfile.mkdtemp(prefix="first-part-"))
    sim = f"http://127.0.0.1:{sim_port}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        simulator_command = [
            "lms-gateway", "simulator", "--port", str(sim_port),
            "--latency-ms", str(args.latency_ms), "--hourly-limit", str(10**9),
        ]  # fmt: skip
        with open(logs / "simulator.log", "wb") as log:
            processes.append(subprocess.Popen(simulator_command, stdout=log, stderr=log))
        wait_until_answering(f"{sim}/_simulator/health", processes[-1])
        env = {key: value for key, value in os.environ.items() if not key.startswith("TALENTLMS_")}
        env.update(
            TALENTLMS_BASE_URL=f"{sim}/api/v1",
            TALENTLMS_API_KEY=SimulatorConfig().api_key,
            LMS_GATEWAY_CACHE="false",
            LMS_GATEWAY_PORT=str(gateway_port),
            LMS_GATEWAY_LOG_LEVEL="warning",
        )
        with open(logs / "gateway.log", "wb") as log:
            processes.append(
                subprocess.Popen(["lms-gateway", "serve"], env=env, stdout=log, stderr=log)
            )
        gateway = f"http://127.0.0.1:{gateway_port}"
        wait_until_answering(f"{gateway}/healthz", processes[-1])

        with httpx.Client(base_url=gateway, timeout=60) as client:
            _, reference = whole(client, DASHBOARD, "application/json")  # warm-up
            _, parts = in_parts(client)
            if merged(parts) != reference["data"]:
                raise SystemExit("the parts do not add up to the dashboard")
            calls = reference["extensions"]["upstream"]["calls"]
            if parts[-1]["extensions"]["upstream"]["calls"] != calls:
                raise SystemExit("the answer in parts made other calls than the dashboard")
            dashboard, inline, part_times = [], [], []
            for _ in range(args.iterations):
                dashboard.append(whole(client, DASHBOARD, "application/json")[0])
                part_times.append(in_parts(client)[0])
                inline.append(whole(client, DEFERRED, "application/json")[0])
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)

    whole_ms = statistics.median(dashboard) * 1000
    first_ms = statistics.median(times[0] for times in part_times) * 1000
    last_ms = statistics.median(times[-1] for times in part_times) * 1000
    inline_ms = statistics.median(inline) * 1000
    counts = sorted({len(times) for times in part_times})
    figures: dict[str, Any] = {
        "latencyMs": args.latency_ms,
        "iterations": args.iterations,
        "upstreamCalls": calls,
        "parts": counts,
        "dashboardMs": round(whole_ms, 1),
        "firstPartMs": round(first_ms, 1),
        "lastPartMs": round(last_ms, 1),
        "deferredAsOneAnswerMs": round(inline_ms, 1),
        "firstPartRatio": round(first_ms / whole_ms, 2),
        "lastPartRatio": round(last_ms / whole_ms, 2),
        "oneAnswerRatio": round(inline_ms / whole_ms, 2),
    }
    print(
        f"{args.latency_ms:g} ms per call, {calls} upstream calls each, medians of "
        f"{args.iterations}:\n"
        f"  dashboard, one answer:             {whole_ms:7.1f} ms\n"
        f"  deferred dashboard, first part:    {first_ms:7.1f} ms "
        f"({figures['firstPartRatio']:.2f} of the dashboard)\n"
        f"  deferred dashboard, last part:     {last_ms:7.1f} ms "
        f"({figures['lastPartRatio']:.2f}; {'/'.join(map(str, counts))} parts)\n"
        f"  deferred dashboard, one answer:    {inline_ms:7.1f} ms "
        f"({figures['oneAnswerRatio']:.2f}; a client without multipart)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
