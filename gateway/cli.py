"""``gateway`` command: serve, demo, openapi, check-config, writes."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.config import inline_secrets, load_settings, parse_settings
from gateway.settings import ConfigError, Settings

if TYPE_CHECKING:
    from gateway.infra.embedded_redis import EmbeddedRedis

#: set by ``gateway serve`` for its workers when it started a shared embedded Redis
EMBEDDED_REDIS_ENV = "LG_EMBEDDED_REDIS_URL"


def _config_path(args: argparse.Namespace) -> str:
    path = args.config or os.environ.get("GATEWAY_CONFIG")
    if not path:
        sys.exit("gateway: no configuration: pass --config FILE or set GATEWAY_CONFIG")
    return str(path)


def _load(path: str) -> Settings:
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        if len(exc.problems) == 1:
            sys.exit(f"gateway: configuration error in {path}: {exc}")
        listed = "".join(f"\n  {problem}" for problem in exc.problems)
        sys.exit(f"gateway: {len(exc.problems)} configuration errors in {path}:{listed}")
    inline = inline_secrets(Path(path).read_text(encoding="utf-8"))
    if inline:
        print(
            f"gateway: warning: secrets written into {path} instead of ${{ENV}} or a file: "
            + ", ".join(inline),
            file=sys.stderr,
        )
    return settings


def cmd_serve(args: argparse.Namespace) -> None:
    from gateway import serving
    from gateway.http_limits import uvicorn_options
    from gateway.infra.logging import configure

    path = _config_path(args)
    settings = _load(path)
    configure(settings.logging.level, settings.logging.format)
    host = args.host or settings.server.host
    port = args.port or settings.server.port
    workers = args.workers or settings.server.workers
    os.environ["GATEWAY_CONFIG"] = path
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # every worker writes its metric values here; /metrics merges them
        metrics_dir = tempfile.mkdtemp(prefix="lg-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    shared = None
    if settings.redis.url is None:
        # The embedded Redis lives in this (parent) process, so every worker shares it and a
        # worker restart keeps it; it persists unless redis.persist is false.
        shared = _start_embedded(settings)
        os.environ[EMBEDDED_REDIS_ENV] = shared.url
    try:
        serving.run(
            "gateway.asgi:app",
            host,
            port,
            workers,
            **uvicorn_options(settings.server),
        )
    finally:
        gave_up = shared is not None and shared.gave_up
        if shared is not None:
            shared.stop()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    if gave_up:
        sys.exit("gateway: the embedded Redis kept dying; stopped so that a supervisor restarts")


def _start_embedded(settings: Settings) -> EmbeddedRedis:
    from gateway.app import start_embedded_redis
    from gateway.infra.embedded_redis import DataDirInUse

    try:
        return start_embedded_redis(settings)
    except DataDirInUse as exc:
        sys.exit(f"gateway: {exc}")
    except RuntimeError as exc:
        sys.exit(f"gateway: cannot start the embedded Redis: {exc}")


def export_openapi() -> dict[str, object]:
    from gateway.app import create_litestar
    from gateway.sandbox.world import World

    # The schema does not depend on which programs exist; a placeholder world suffices.
    settings = parse_settings(World().config_yaml())
    schema: dict[str, object] = create_litestar(settings).openapi_schema.to_schema()
    return schema


def cmd_openapi(args: argparse.Namespace) -> None:
    text = json.dumps(export_openapi(), indent=2, sort_keys=True) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")


def cmd_check_config(args: argparse.Namespace) -> None:
    path = _config_path(args)
    settings = _load(path)
    for missing, consequence in (
        ("programs", "every /v1 call answers 404 program_not_found"),
        ("clients", "no API key is accepted (only member tokens, with identity set)"),
    ):
        if not getattr(settings, missing):
            print(
                f"gateway: warning: {path} configures no {missing}: {consequence}", file=sys.stderr
            )
    print(f"{path}: ok ({len(settings.programs)} programs, {len(settings.clients)} clients)")


def _demo(args: argparse.Namespace) -> None:
    from gateway import cli_demo

    cli_demo.cmd_demo(args)


def cmd_writes(args: argparse.Namespace) -> None:
    from gateway import cli_writes

    settings = _load(_config_path(args))
    sys.exit(cli_writes.run(settings, args))


_DESCRIPTION = """\
Loyalty Gateway: one REST API in front of many loyalty-points providers.

Start with `gateway demo` (simulated providers, an embedded Redis, a demo key printed);
run for real with `gateway serve --config FILE` after `gateway check-config --config FILE`.
Docs: README.md, docs/configuration.md, docs/operations.md."""

_CONFIG_HELP = "the YAML configuration file (default: $GATEWAY_CONFIG)"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("loyalty-gateway")
    except PackageNotFoundError:  # pragma: no cover - run from a bare source tree
        return "unknown"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="gateway",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="run the gateway with a configuration file",
        description="Run the gateway: uvicorn workers, the limits of server.*, graceful drain "
        "on SIGTERM. Flags override the file's server.host, server.port, server.workers.",
    )
    serve.add_argument("--config", help=_CONFIG_HELP)
    serve.add_argument("--host", help="the address to listen on (default: server.host)")
    serve.add_argument("--port", type=int, help="the port to listen on (default: server.port)")
    serve.add_argument("--workers", type=int, help="worker processes (default: server.workers)")
    serve.set_defaults(func=cmd_serve)
    demo = sub.add_parser(
        "demo",
        help="simulated providers + embedded Redis + gateway, a demo key printed",
        description="Every provider simulated, a sandbox identity provider (member tokens, "
        "on PORT + 1), an embedded Redis that keeps nothing, and the gateway. Stops on "
        "Ctrl+C or SIGTERM.",
    )
    demo.add_argument(
        "--host", default="127.0.0.1", help="the gateway's address (default: %(default)s)"
    )
    demo.add_argument(
        "--port", type=int, default=8080, help="the gateway's port (default: %(default)s)"
    )
    demo.add_argument("--verbose", action="store_true", help="log every request")
    demo.set_defaults(func=_demo)
    openapi = sub.add_parser(
        "openapi",
        help="export the OpenAPI document",
        description="Write the OpenAPI document the gateway serves at /openapi.json.",
    )
    openapi.add_argument(
        "--output",
        default="openapi/openapi.json",
        help="where to write it, - for stdout (default: %(default)s)",
    )
    openapi.set_defaults(func=cmd_openapi)
    check = sub.add_parser(
        "check-config",
        help="validate a configuration file",
        description="Validate a configuration file as `serve` would, with the environment's "
        "variables: every fault is listed with its key path; secrets written into the file "
        "and a file with no program or no client are warned about. Contacts nothing.",
    )
    check.add_argument("--config", help=_CONFIG_HELP)
    check.set_defaults(func=cmd_check_config)
    from gateway import cli_writes

    cli_writes.add_parser(sub).set_defaults(func=cmd_writes)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
