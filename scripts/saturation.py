"""Load a gateway past its portal's burst cap and report what the portal received.

Starts `lms-gateway simulator` (enforcing the cap it is given, answering 429 past it) and
`lms-gateway serve` in front of it with the cache off and the same pacing cap, then runs
`--clients` closed-loop clients for `--seconds`, each sending the learner dashboard
(queries/learner_dashboard.graphql) and, when refused with UPSTREAM_RATE_LIMITED, waiting the
`extensions.retryAfter` it was given, as a well-behaved client does. It prints:

* the most calls the simulator received in any window of the cap's length (its own arrival
  times; the free /ratelimit does not count), against the cap;
* answers that were complete, partial (data with errors) and refused before any call.

    python scripts/saturation.py --clients 64 --seconds 60 --cap 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from gateway.simulator import SimulatorConfig

QUERIES = Path(__file__).resolve().parent.parent / "queries"
QUERY = (QUERIES / "learner_dashboard.graphql").read_text(encoding="utf-8")


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


def busiest_window(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    best, low = 0, 0
    for high, moment in enumerate(stamps):
        while stamps[low] <= moment - window:
            low += 1
        best = max(best, high - low + 1)
    return best


async def client(gateway: str, until: float, outcomes: Counter[str]) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        while time.monotonic() < until:
            body = (await http.post(gateway, json={"query": QUERY})).json()
            errors = body.get("errors") or []
            if not errors:
                outcomes["complete"] += 1
            elif body.get("data") is None:
                outcomes["refused"] += 1
                retry = errors[0].get("extensions", {}).get("retryAfter")
                await asyncio.sleep(min(float(retry or 1), max(0.0, until - time.monotonic())))
            else:
                outcomes["partial"] += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--cap", type=int, default=50, help="calls per window, both sides")
    parser.add_argument("--window", type=float, default=5.0)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    sim_port, gateway_port = free_port(), free_port()
    logs = Path(tempfile.mkdtemp(prefix="saturation-"))
    sim = f"http://127.0.0.1:{sim_port}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        simulator_command = [
            "lms-gateway", "simulator", "--port", str(sim_port),
            "--latency-ms", str(args.latency_ms), "--hourly-limit", str(10**9),
            "--burst-limit", str(args.cap), "--burst-window", str(args.window),
        ]  # fmt: skip
        with open(logs / "simulator.log", "wb") as log:
            processes.append(subprocess.Popen(simulator_command, stdout=log, stderr=log))
        wait_until_answering(f"{sim}/_simulator/health", processes[-1])
        env = {key: value for key, value in os.environ.items() if not key.startswith("TALENTLMS_")}
        env.update(
            TALENTLMS_BASE_URL=f"{sim}/api/v1",
            TALENTLMS_API_KEY=SimulatorConfig().api_key,
            TALENTLMS_PACE_MAX_CALLS=str(args.cap),
            TALENTLMS_PACE_WINDOW_SECONDS=str(args.window),
            LMS_GATEWAY_CACHE="false",
            LMS_GATEWAY_PORT=str(gateway_port),
        )
        with open(logs / "gateway.log", "wb") as log:
            processes.append(
                subprocess.Popen(["lms-gateway", "serve"], env=env, stdout=log, stderr=log)
            )
        gateway = f"http://127.0.0.1:{gateway_port}"
        wait_until_answering(f"{gateway}/healthz", processes[-1])
        httpx.post(f"{sim}/_simulator/reset-stats")

        outcomes: Counter[str] = Counter()
        until = time.monotonic() + args.seconds

        async def run() -> None:
            await asyncio.gather(
                *(client(f"{gateway}/graphql", until, outcomes) for _ in range(args.clients))
            )

        asyncio.run(run())
        stats = httpx.get(f"{sim}/_simulator/stats?timestamps=1").json()
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)

    stamps = [moment for moment, name in stats["timestamps"] if name != "ratelimit"]
    answers = sum(outcomes.values())
    with_data = outcomes["complete"] + outcomes["partial"]
    figures: dict[str, Any] = {
        "clients": args.clients,
        "seconds": args.seconds,
        "cap": args.cap,
        "window": args.window,
        "callsReceived": len(stamps),
        "busiestWindow": busiest_window(stamps, args.window),
        "answers": answers,
        **{name: outcomes[name] for name in ("complete", "partial", "refused")},
        "completeShareOfAnswersWithData": round(outcomes["complete"] / with_data, 3)
        if with_data
        else None,
    }
    print(
        f"portal received {len(stamps)} calls; busiest {args.window:g} s window: "
        f"{figures['busiestWindow']} (cap {args.cap})\n"
        f"answers: {answers} — complete {outcomes['complete']}, partial {outcomes['partial']}, "
        f"refused up front {outcomes['refused']}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0 if figures["busiestWindow"] <= args.cap else 1


if __name__ == "__main__":
    sys.exit(main())
