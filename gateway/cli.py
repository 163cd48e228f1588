"""``lms-gateway``: serve the gateway, run the TalentLMS simulator, export the SDL."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lms-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the GraphQL gateway (configured by environment)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )

    simulator = commands.add_parser("simulator", help="run the TalentLMS v1 simulator standalone")
    simulator.add_argument("--host", default="127.0.0.1")
    simulator.add_argument("--port", type=int, default=8001)
    simulator.add_argument("--seed", type=int, default=7)
    simulator.add_argument("--users", type=int, default=60)
    simulator.add_argument("--courses", type=int, default=12)
    simulator.add_argument("--units-per-course", type=int, default=10)
    simulator.add_argument("--enrollments-per-user", type=int, default=4)
    simulator.add_argument("--latency-ms", type=float, default=0.0)
    simulator.add_argument(
        "--date-format", default="DDMMYYYY", choices=["DDMMYYYY", "MMDDYYYY", "YYYYMMDD"]
    )
    simulator.add_argument("--twelve-hour", action="store_true", help="render 12-hour times")
    simulator.add_argument("--api-key", default=None, help="key the simulator accepts")

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.add_argument("--output", "-o", help="write to this file instead of stdout")

    bench = commands.add_parser(
        "bench", help="measure calls, latency, CPU and throughput against the simulator"
    )
    from gateway.bench import add_bench_arguments, run_bench

    add_bench_arguments(bench)

    hashing = commands.add_parser(
        "hash-key", help="print the SHA-256 of a gateway API key read from standard input"
    )
    hashing.add_argument(
        "--generate", action="store_true", help="make a new random key and print it too"
    )

    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "simulator":
        return _simulator(args)
    if args.command == "hash-key":
        return _hash_key(args)
    if args.command == "bench":
        return run_bench(args)
    return _export(args)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _hash_key(args: argparse.Namespace) -> int:
    import secrets

    from gateway.accounts import hash_key

    if args.generate:
        key = "lmsg_" + secrets.token_urlsafe(32)
        print(f"key:    {key}")
        print(f"sha256: {hash_key(key)}")
        return 0
    key = sys.stdin.readline().strip()
    if not key:
        print("lms-gateway: give the key on standard input", file=sys.stderr)
        return 2
    print(hash_key(key))
    return 0


def _serve(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from gateway.accounts import AccountsError
    from gateway.app import create_app
    from gateway.config import Settings
    from gateway.logs import configure_logging

    try:
        settings = Settings()
        app = create_app(settings)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]).upper() or "configuration"
            print(f"lms-gateway: {where}: {error['msg']}", file=sys.stderr)
        return 2
    except AccountsError as exc:
        print(f"lms-gateway: {exc}", file=sys.stderr)
        return 2
    url = f"http://{args.host}:{args.port}/graphql"
    open_to_network = args.host not in LOOPBACK
    anonymous = not app.state.runtime.tenancy.requires_keys
    allowed = settings.demo or settings.lms_gateway_allow_anonymous
    if open_to_network and anonymous and not allowed:
        print(
            f"lms-gateway: refusing to serve real portals on {args.host} without gateway "
            "API keys: anyone who reaches it would act with the portals' admin keys. "
            "Configure api_keys in LMS_GATEWAY_ACCOUNTS_FILE, bind to 127.0.0.1, or set "
            "LMS_GATEWAY_ALLOW_ANONYMOUS=true.",
            file=sys.stderr,
        )
        return 2
    # From here on every line on stderr is a log record in one format (JSON by default),
    # uvicorn's included; its access log is off because the gateway writes its own.
    configure_logging(settings.lms_gateway_log_format, args.log_level)
    log = logging.getLogger("gateway.cli")
    if open_to_network and anonymous:
        log.warning(
            "no gateway API keys are configured and the server is bound to %s: "
            "ANYONE WHO CAN REACH IT CAN QUERY IT.",
            args.host,
        )
    if open_to_network and settings.lms_gateway_metrics and not settings.lms_gateway_metrics_token:
        log.warning(
            "/metrics needs no key and the server is bound to %s: keep the port on an internal "
            "network, or set LMS_GATEWAY_METRICS_TOKEN.",
            args.host,
        )
    if settings.demo:
        log.info(
            "no TALENTLMS_API_KEY set, so this gateway serves DEMO DATA from the embedded "
            "TalentLMS simulator (%d users, %d courses, seed %d).",
            settings.lms_gateway_demo_users,
            settings.lms_gateway_demo_courses,
            settings.lms_gateway_demo_seed,
        )
    else:
        target = settings.talentlms_base_url or settings.talentlms_domain
        log.info("serving TalentLMS portal %s", target)
    log.info("GraphQL and GraphiQL at %s", url)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        log_config=None,  # keep configure_logging's handler
        access_log=False,
    )
    return 0


def _simulator(args: argparse.Namespace) -> int:
    import uvicorn

    from gateway.simulator import SimulatorConfig, create_simulator_app

    options = {
        "seed": args.seed,
        "users": args.users,
        "courses": args.courses,
        "units_per_course": args.units_per_course,
        "enrollments_per_user": args.enrollments_per_user,
        "latency_ms": args.latency_ms,
        "date_format": args.date_format,
        "twelve_hour": args.twelve_hour,
    }
    if args.api_key:
        options["api_key"] = args.api_key
    config = SimulatorConfig(**options)
    print(
        f"lms-gateway simulator: TalentLMS v1 at http://{args.host}:{args.port}/api/v1 "
        f"(API key {config.api_key!r}); call counts at /_simulator/stats",
        file=sys.stderr,
    )
    uvicorn.run(create_simulator_app(config), host=args.host, port=args.port, log_level="info")
    return 0


def _export(args: argparse.Namespace) -> int:
    from schema import schema

    sdl = schema.as_str() + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(sdl)
    else:
        sys.stdout.write(sdl)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
