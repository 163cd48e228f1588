"""``lms-gateway``: serve the gateway, run the TalentLMS or LearnWorlds simulator, export the
SDL (plain or subgraph), build persisted-query manifests."""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

__all__ = ["build_parser", "main"]

DESCRIPTION = (
    "Serve the GraphQL gateway, run the TalentLMS or LearnWorlds simulator, export the SDL, "
    "measure, hash gateway API keys, build persisted-query manifests."
)


class _HelpFormatter(argparse.HelpFormatter):
    """Ends the help of every option that takes a value with its default, and with the
    environment variable of the setting behind it when there is one:
    ``(default: 8000; env LMS_GATEWAY_PORT)``. Flags are off unless given."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if not action.option_strings or action.nargs == 0 or action.default is argparse.SUPPRESS:
            return text
        shown = getattr(action, "shown", None) or _shown(action.default)
        env = getattr(action, "env", None)
        note = f"default: {shown}" + (f"; env {env}" if env else "")
        # argparse fills %(name)s in help texts: a literal % must be doubled.
        return f"{text} ({note.replace('%', '%%')})".lstrip()


def _shown(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` with ``_HelpFormatter``; subcommands' parsers are of its class."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("formatter_class", _HelpFormatter)
        super().__init__(**options)


class _Store(argparse.Action):
    """``store`` with what the help says of a default that is no value: ``env`` names the
    environment variable of the setting used when the option is not given, ``shown`` the
    default in words (``standard output``)."""

    def __init__(
        self,
        option_strings: Sequence[str],
        dest: str,
        *,
        env: str | None = None,
        shown: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(option_strings, dest, **options)
        self.env = env
        self.shown = shown

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)


def _setting_default(env: str) -> str:
    """The default of the setting read from the environment variable ``env``."""
    from gateway.config import environment_variables

    return _shown(environment_variables()[env].info.get_default(call_default_factory=True))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lms-gateway")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def _command(commands: argparse._SubParsersAction[_Parser], name: str, summary: str) -> _Parser:
    """A subcommand's parser; ``summary`` is its line in the list and, as a sentence, its
    description."""
    return commands.add_parser(
        name, help=summary, description=f"{summary[0].upper()}{summary[1:]}."
    )


# Options of `lms-gateway simulator` that only one provider's simulator reads: given for the
# other one, they are refused rather than ignored.
_TALENTLMS_ONLY = (
    "units_per_course",
    "date_format",
    "twelve_hour",
    "api_key",
    "hourly_limit",
    "burst_limit",
    "burst_window",
)
_LEARNWORLDS_ONLY = (
    "groups",
    "suspended_users",
    "client_id",
    "client_secret",
    "static_token",
    "no_static_token",
    "token_lifetime",
    "rate_limit",
    "rate_window",
    "retry_after",
)


def _simulator_arguments(simulator: _Parser) -> None:
    """``lms-gateway simulator``'s options. Those of one provider default to ``None`` (shown
    as their real default) so that giving one for the other provider can be refused."""
    from gateway.simulator import LearnWorldsConfig, SimulatorConfig

    talentlms, learnworlds = SimulatorConfig(), LearnWorldsConfig()
    simulator.add_argument(
        "--provider",
        default="talentlms",
        choices=["talentlms", "learnworlds"],
        help="which LMS the simulator answers like",
    )
    simulator.add_argument("--host", default="127.0.0.1", help="address to listen on")
    simulator.add_argument("--port", type=int, default=8001, help="port to listen on")
    simulator.add_argument("--seed", type=int, default=7, help="seed of the generated data")

    def by_provider(name: str) -> str:
        ours, theirs = getattr(talentlms, name), getattr(learnworlds, name)
        return f"{ours} for TalentLMS, {theirs} for LearnWorlds"

    simulator.add_argument(
        "--users", type=int, action=_Store, shown=by_provider("users"), help="number of users"
    )
    simulator.add_argument(
        "--courses",
        type=int,
        action=_Store,
        shown=by_provider("courses"),
        help="number of courses",
    )
    simulator.add_argument(
        "--enrollments-per-user",
        type=int,
        action=_Store,
        shown=by_provider("enrollments_per_user"),
        help="average enrollments per learner",
    )
    simulator.add_argument(
        "--latency-ms", type=float, default=0.0, help="latency added to every call"
    )

    def only(provider: str, **options: Any) -> dict[str, Any]:
        """A provider's own option: ``None`` unless given, its default shown in the help."""
        help_text = f"{provider}: {options.pop('help')}"
        if options.get("action") == "store_true":
            return {**options, "help": help_text}
        default = options.pop("default")
        return {**options, "action": _Store, "shown": _shown(default), "help": help_text}

    simulator.add_argument(
        "--units-per-course",
        type=int,
        **only("TalentLMS", default=talentlms.units_per_course, help="average units per course"),
    )
    simulator.add_argument(
        "--date-format",
        choices=["DDMMYYYY", "MMDDYYYY", "YYYYMMDD"],
        **only("TalentLMS", default=talentlms.date_format, help="how the portal formats dates"),
    )
    simulator.add_argument(
        "--twelve-hour",
        **only("TalentLMS", action="store_true", help="render 12-hour times"),
    )
    simulator.add_argument(
        "--api-key",
        **only("TalentLMS", default=talentlms.api_key, help="key the simulator accepts"),
    )
    simulator.add_argument(
        "--hourly-limit",
        type=int,
        **only("TalentLMS", default=talentlms.hourly_limit, help="calls per hour before 429"),
    )
    simulator.add_argument(
        "--burst-limit",
        type=int,
        **only(
            "TalentLMS",
            default=talentlms.burst_limit,
            help="calls per --burst-window before 429 with Retry-After; 0 lifts it",
        ),
    )
    simulator.add_argument(
        "--burst-window",
        type=float,
        **only("TalentLMS", default=talentlms.burst_window, help="seconds of the burst cap"),
    )
    simulator.add_argument(
        "--groups",
        type=int,
        **only("LearnWorlds", default=learnworlds.groups, help="number of user groups (0-4)"),
    )
    simulator.add_argument(
        "--suspended-users",
        type=int,
        **only("LearnWorlds", default=learnworlds.suspended_users, help="suspended learners"),
    )
    simulator.add_argument(
        "--client-id",
        **only(
            "LearnWorlds",
            default=learnworlds.client_id,
            help="the API client id, sent as Lw-Client",
        ),
    )
    simulator.add_argument(
        "--client-secret",
        **only("LearnWorlds", default=learnworlds.client_secret, help="the API client secret"),
    )
    simulator.add_argument(
        "--static-token",
        **only(
            "LearnWorlds",
            default=learnworlds.static_token,
            help="an access token accepted without the token call, as one made in the admin panel",
        ),
    )
    simulator.add_argument(
        "--no-static-token",
        **only("LearnWorlds", action="store_true", help="accept only tokens from the token call"),
    )
    simulator.add_argument(
        "--token-lifetime",
        type=int,
        **only(
            "LearnWorlds",
            default=learnworlds.token_lifetime,
            help="seconds an issued token lasts (its expires_in)",
        ),
    )
    simulator.add_argument(
        "--rate-limit",
        type=int,
        **only(
            "LearnWorlds",
            default=learnworlds.rate_limit,
            help="calls per --rate-window and client before 429; 0 lifts it",
        ),
    )
    simulator.add_argument(
        "--rate-window",
        type=float,
        **only("LearnWorlds", default=learnworlds.rate_window, help="seconds of the rate limit"),
    )
    simulator.add_argument(
        "--retry-after",
        **only(
            "LearnWorlds",
            action="store_true",
            help="send Retry-After with the 429 (the real API is not known to)",
        ),
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``lms-gateway`` command line: its subcommands and their options."""
    from gateway.bench.benchmark import add_bench_arguments

    parser = _Parser(prog="lms-gateway", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = _command(
        commands,
        "serve",
        "run the GraphQL gateway, configured by environment variables (docs/configuration.md)",
    )
    serve.add_argument(
        "--host",
        action=_Store,
        env="LMS_GATEWAY_HOST",
        shown=_setting_default("LMS_GATEWAY_HOST"),
        help="address to listen on",
    )
    serve.add_argument(
        "--port",
        type=int,
        action=_Store,
        env="LMS_GATEWAY_PORT",
        shown=_setting_default("LMS_GATEWAY_PORT"),
        help="port to listen on",
    )
    serve.add_argument(
        "--log-level",
        action=_Store,
        env="LMS_GATEWAY_LOG_LEVEL",
        shown=_setting_default("LMS_GATEWAY_LOG_LEVEL"),
        choices=["critical", "error", "warning", "info", "debug"],
        help="the least severe records written",
    )

    simulator = _command(
        commands, "simulator", "run the TalentLMS or LearnWorlds simulator standalone"
    )
    _simulator_arguments(simulator)

    export = _command(commands, "export-schema", "print the GraphQL SDL")
    export.add_argument(
        "--output",
        "-o",
        action=_Store,
        shown="standard output",
        help="write to this file",
    )
    export.add_argument(
        "--federation", action="store_true", help="the Apollo Federation 2 subgraph's SDL"
    )

    bench = _command(
        commands, "bench", "measure calls, latency, CPU and throughput against the simulator"
    )
    add_bench_arguments(bench)

    hashing = _command(
        commands, "hash-key", "print the SHA-256 of a gateway API key read from standard input"
    )
    hashing.add_argument(
        "--generate", action="store_true", help="make a new random key and print it too"
    )

    persisted = _command(
        commands, "persisted-queries", "persisted-query manifests (Apollo's format)"
    )
    persisted_commands = persisted.add_subparsers(
        dest="persisted_command", required=True, metavar="COMMAND"
    )
    build = _command(
        persisted_commands,
        "build",
        "write the manifest of every operation in a directory of .graphql files",
    )
    build.add_argument("directory", type=Path, help="e.g. queries/")
    build.add_argument(
        "--output",
        "-o",
        type=Path,
        action=_Store,
        shown="standard output",
        help="write to this file",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "simulator":
        return _simulator(args)
    if args.command == "hash-key":
        return _hash_key(args)
    if args.command == "bench":
        from gateway.bench.benchmark import run_bench

        return run_bench(args)
    if args.command == "persisted-queries":
        return _build_manifest(args)
    return _export(args)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _hash_key(args: argparse.Namespace) -> int:
    import secrets

    from gateway.tenancy.authorization import hash_key

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

    from gateway.app import create_app
    from gateway.config import Settings
    from gateway.errors import ConfigError
    from gateway.http.serving import GracefulServer, listening_sockets, uvicorn_config
    from gateway.observability.logs import configure_logging

    try:
        settings = Settings()
        app = create_app(settings)
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]).upper() or "configuration"
            print(f"lms-gateway: {where}: {error['msg']}", file=sys.stderr)
        return 2
    except ConfigError as exc:  # accounts file, persisted-query manifest, tracing extra
        print(f"lms-gateway: {exc}", file=sys.stderr)
        return 2
    host = args.host or settings.http.host
    port = settings.http.port if args.port is None else args.port
    log_level = args.log_level or settings.logging.log_level
    open_to_network = host not in LOOPBACK
    anonymous = not app.state.runtime.tenancy.requires_keys
    allowed = settings.demo or settings.tenancy.allow_anonymous
    if open_to_network and anonymous and not allowed:
        print(
            f"lms-gateway: refusing to serve real portals on {host} without gateway "
            "API keys: anyone who reaches it would act with the portals' admin keys. "
            "Configure api_keys in LMS_GATEWAY_ACCOUNTS_FILE, bind to 127.0.0.1, or set "
            "LMS_GATEWAY_ALLOW_ANONYMOUS=true.",
            file=sys.stderr,
        )
        return 2
    try:
        sockets = listening_sockets(host, port)
    except OSError as exc:
        print(f"lms-gateway: error: {_cannot_listen(host, port, exc)}", file=sys.stderr)
        return 2
    url = f"http://{host}:{sockets[0].getsockname()[1]}/graphql"  # --port 0: the system's pick
    # From here on every line on stderr is a log record in one format (text on a terminal,
    # else JSON), uvicorn's included; its access log is off because the gateway writes its own.
    configure_logging(settings.logging.log_format, log_level)
    log = logging.getLogger("gateway.cli")
    if open_to_network and anonymous:
        log.warning(
            "no gateway API keys are configured and the server is bound to %s: "
            "ANYONE WHO CAN REACH IT CAN QUERY IT.",
            host,
        )
    if open_to_network and settings.metrics.enabled and not settings.metrics.token:
        log.warning(
            "/metrics needs no key and the server is bound to %s: keep the port on an internal "
            "network, or set LMS_GATEWAY_METRICS_TOKEN.",
            host,
        )
    if settings.demo:
        log.info(
            "no TALENTLMS_API_KEY set, so this gateway serves DEMO DATA from the embedded "
            "TalentLMS simulator (%d users, %d courses, seed %d).",
            settings.simulator.users,
            settings.simulator.courses,
            settings.simulator.seed,
        )
    elif settings.learnworlds.configured:
        log.info("serving LearnWorlds school %s", settings.learnworlds.url)
    else:
        target = settings.upstream.base_url or settings.upstream.domain
        log.info("serving TalentLMS portal %s", target)
    if settings.federation.enabled:
        log.info("serving an Apollo Federation 2 subgraph")
    log.info("GraphQL and GraphiQL at %s", url)
    config = uvicorn_config(
        app,
        settings,
        host=host,
        port=port,
        log_level=log_level,
        log_config=None,  # keep configure_logging's handler
        access_log=False,  # the gateway writes its own access line
        timeout_graceful_shutdown=settings.http.shutdown_timeout_seconds,
    )
    GracefulServer(
        config,
        on_exit=app.state.readiness.drain,
        drain_delay=settings.http.shutdown_delay_seconds,
    ).run(sockets=sockets)
    return 0


def _cannot_listen(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use (set --port or LMS_GATEWAY_PORT)"
    reason = exc.strerror or str(exc)  # e.g. an address of another machine, a privileged port
    return (
        f"cannot listen on {host} port {port}: {reason} "
        "(set --host and --port, or LMS_GATEWAY_HOST and LMS_GATEWAY_PORT)"
    )


def _simulator(args: argparse.Namespace) -> int:
    import uvicorn

    other = _LEARNWORLDS_ONLY if args.provider == "talentlms" else _TALENTLMS_ONLY
    given = [
        f"--{name.replace('_', '-')}" for name in other if getattr(args, name) not in (None, False)
    ]
    if given:
        print(
            f"lms-gateway simulator: error: {', '.join(given)} "
            f"{'does' if len(given) == 1 else 'do'} not apply to --provider {args.provider}",
            file=sys.stderr,
        )
        return 2
    counts = {
        name: getattr(args, name)
        for name in ("users", "courses", "enrollments_per_user")
        if getattr(args, name) is not None
    }
    try:
        app = (
            _learnworlds_simulator(args, counts)
            if args.provider == "learnworlds"
            else _talentlms_simulator(args, counts)
        )
    except ValueError as exc:
        print(f"lms-gateway simulator: error: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def _given(args: argparse.Namespace, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _talentlms_simulator(args: argparse.Namespace, counts: dict[str, Any]) -> Any:
    from gateway.simulator import SimulatorConfig, create_simulator_app

    options = _given(args, ("units_per_course", "date_format", "api_key", "hourly_limit"))
    options |= _given(args, ("burst_window",))
    if args.burst_limit is not None:
        options["burst_limit"] = args.burst_limit or None
    config = SimulatorConfig(
        seed=args.seed,
        latency_ms=args.latency_ms,
        twelve_hour=args.twelve_hour,
        **counts,
        **options,
    )
    print(
        f"lms-gateway simulator: TalentLMS v1 at http://{args.host}:{args.port}/api/v1 "
        f"(API key {config.api_key!r}); call counts at /_simulator/stats",
        file=sys.stderr,
    )
    return create_simulator_app(config)


def _learnworlds_simulator(args: argparse.Namespace, counts: dict[str, Any]) -> Any:
    from gateway.simulator import LearnWorldsConfig, create_learnworlds_app

    names = ("groups", "suspended_users", "client_id", "client_secret", "token_lifetime")
    options = _given(args, (*names, "rate_limit", "rate_window", "static_token"))
    if args.no_static_token:
        options["static_token"] = None
    config = LearnWorldsConfig(
        seed=args.seed,
        latency_ms=args.latency_ms,
        retry_after=args.retry_after,
        **counts,
        **options,
    )
    school = f"http://{args.host}:{args.port}"
    rate = (
        f"{config.rate_limit} calls per {_shown(config.rate_window)} s"
        if config.rate_limit
        else "no rate limit"
    )
    lines = [
        f"lms-gateway simulator: LearnWorlds API v2 at {school}/admin/api "
        f"({config.users} users, {config.courses} courses, seed {config.seed}; {rate})",
        f"  school URL     {school}",
        f"  client id      {config.client_id}   (the Lw-Client header)",
        f"  client secret  {config.client_secret}",
        f"  token call     POST {school}/admin/api/oauth2/access_token "
        f"(tokens last {config.token_lifetime} s)",
        f"  static token   {config.static_token or '(none)'}",
        "  call counts at /_simulator/stats, faults at /_simulator/faults, "
        "credentials at /_simulator/auth",
    ]
    print("\n".join(lines), file=sys.stderr)
    return create_learnworlds_app(config)


def _build_manifest(args: argparse.Namespace) -> int:
    import json

    from gateway.errors import ManifestError
    from gateway.persisted.manifest import build_manifest
    from schema import schema

    if not args.directory.is_dir():
        print(f"lms-gateway: {args.directory} is not a directory", file=sys.stderr)
        return 2
    try:
        # Private: tests/test_strawberry_internals.py.
        manifest = build_manifest(args.directory, schema._schema)
    except ManifestError as exc:
        print(f"lms-gateway: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(manifest.as_json(), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
        print(f"lms-gateway: {len(manifest)} operations written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _export(args: argparse.Namespace) -> int:
    from schema import build_schema, schema
    from schema.validation.limits import OperationLimits

    exported = build_schema(OperationLimits(), federation=True) if args.federation else schema
    sdl = exported.as_str() + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(sdl)
    else:
        sys.stdout.write(sdl)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
