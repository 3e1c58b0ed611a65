"""`tieout` command line: serve, worker, migrate, extract. Thin: parse arguments, call the app.

Expected failures (a bad setting, a port in use, a database that cannot be reached) print one
line on stderr and exit 1; Ctrl-C and SIGTERM stop the server, the worker and the embedded database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import structlog
from pydantic import ValidationError

from app import __version__
from app.core.config import Settings, describe_validation_error

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 130
DUPLICATE_SIGNAL_SECONDS = 1.0

DESCRIPTION = """\
tieout turns financial-statement PDFs into verified structured data.

Without DATABASE_URL every command uses an embedded PostgreSQL kept in $TIEOUT_DATA_DIR/pg
(default ./.tieout/pg). Settings come from environment variables and a .env file."""


class CommandError(Exception):
    """An expected failure; its message is printed as one line."""


class CommandParser(argparse.ArgumentParser):
    """argparse with usage errors on one line that points at --help.

    `usage_exit_code` is argparse's 2 unless a command needs 2 for something else (`extract`)."""

    usage_exit_code = 2

    def error(self, message: str) -> NoReturn:
        self.exit(self.usage_exit_code, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def fail(message: str) -> int:
    print(f"tieout: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise CommandError(describe_validation_error(exc)) from None


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before anything starts, so a port in use fails fast with one line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = "address already in use" if exc.errno == 98 else (exc.strerror or str(exc))
        raise CommandError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock


def prestart_embedded(settings: Settings) -> None:
    """Begin starting the embedded database now, so it overlaps the app's imports."""
    if settings.embedded_db:
        from app.core.pgserver import start_in_background

        start_in_background(settings.pg_dir)


@contextlib.contextmanager
def signal_handlers(on_signal: Callable[[int], None]) -> Iterator[None]:
    """Route SIGINT/SIGTERM to `on_signal`, with one SIGINT per Ctrl-C.

    Ctrl-C reaches both `uv run` and tieout, and uv forwards it again: SIGINTs closer together than
    DUPLICATE_SIGNAL_SECONDS count as one, so only a deliberate second Ctrl-C escalates.
    """
    loop = asyncio.get_running_loop()
    last_sigint = -DUPLICATE_SIGNAL_SECONDS

    def deduplicated(sig: int) -> None:
        nonlocal last_sigint
        if sig == signal.SIGINT:
            now = time.monotonic()
            if now - last_sigint < DUPLICATE_SIGNAL_SECONDS:
                return
            last_sigint = now
        on_signal(sig)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, deduplicated, sig)
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def server_config(app: Any, settings: Settings) -> Any:
    """uvicorn's configuration for `serve`: our lifespan and signals, a request-head deadline
    (HEADER_TIMEOUT_SECONDS) and a cap on connections plus requests (LIMIT_CONCURRENCY)."""
    import uvicorn

    from app.core.http import server_protocol

    return uvicorn.Config(
        app,
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        http=server_protocol(settings.header_timeout_seconds),
        limit_concurrency=settings.limit_concurrency,
        timeout_graceful_shutdown=max(1, int(settings.shutdown_grace_seconds)),
    )


async def serve(settings: Settings, sock: socket.socket) -> int:
    import uvicorn

    from app.main import create_app

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            # tieout owns SIGINT/SIGTERM for the whole run (see `on_signal`); uvicorn would
            # re-raise them after shutdown and kill the process before the lifespan cleans up.
            yield

    app = create_app(settings)
    server = Server(server_config(app, settings))
    main_task = asyncio.current_task()
    assert main_task is not None
    serving = False

    def on_signal(sig: int) -> None:
        if serving:
            server.handle_exit(sig, None)
        else:
            main_task.cancel()

    with signal_handlers(on_signal):
        try:
            async with app.router.lifespan_context(app):
                serving = True
                host, port = sock.getsockname()[:2]
                structlog.get_logger("tieout.cli").info("serve.listening", url=f"http://{host}:{port}")
                await server.serve(sockets=[sock])
                serving = False
        except asyncio.CancelledError:
            return EXIT_INTERRUPTED
    return EXIT_OK


async def run_worker(settings: Settings) -> int:
    from app.core.logging import configure_logging
    from app.main import build_worker, load_worker_class, open_runtime

    worker_class = load_worker_class()
    if worker_class is None:
        raise CommandError("the worker is not available yet (app/jobs/worker.py is missing)")
    configure_logging(settings)
    main_task = asyncio.current_task()
    assert main_task is not None
    async with open_runtime(settings, role=f"worker-{os.getpid()}") as runtime:
        worker = build_worker(worker_class, runtime)
        stopping: list[asyncio.Task[Any]] = []

        def on_signal(_: int) -> None:
            if stopping:
                main_task.cancel()
            else:
                stopping.append(asyncio.create_task(worker.stop()))

        with signal_handlers(on_signal):
            try:
                await worker.run()
                for task in stopping:
                    await task
            except asyncio.CancelledError:
                return EXIT_INTERRUPTED
    return EXIT_OK


async def run_migrate(settings: Settings, down: str | None) -> int:
    from app.core.db import current_revisions, migrate
    from app.core.logging import configure_logging
    from app.main import open_runtime

    configure_logging(settings)
    async with open_runtime(settings.model_copy(update={"run_migrations": False}), role="migrate") as rt:
        await migrate(rt.engine, down or "head", downgrade=down is not None)
        revisions = sorted(await current_revisions(rt.engine)) or ["base (empty)"]
    print(f"database at revision {', '.join(revisions)}")
    return EXIT_OK


def add_extract_command(commands: Any) -> None:
    help_text = "read one PDF offline and print its verified statements (no server needed)"
    parser = commands.add_parser("extract", help=help_text, description=help_text)
    try:
        from app import extract_command
    except ModuleNotFoundError as exc:
        if exc.name != "app.extract_command":
            raise
        parser.set_defaults(handler=lambda _: fail("extract is not available in this build"))
        parser.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        return
    extract_command.add_arguments(parser)
    parser.set_defaults(handler=extract_command.run)


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="tieout", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"tieout {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    text = "run the HTTP API and an in-process worker (RUN_WORKER=false for the API alone)"
    serve_parser = commands.add_parser(
        "serve",
        help=text,
        description=text + ". Runs migrations first unless RUN_MIGRATIONS=false; ready when GET "
        "/health/ready answers 200. Ctrl-C or SIGTERM stops the server, the worker and the embedded "
        "database.",
    )
    serve_parser.add_argument("--host", help="interface to listen on (default: TIEOUT_HOST or 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, help="TCP port (default: TIEOUT_PORT or 8000)")
    serve_parser.set_defaults(handler=handle_serve)

    text = "run a worker only (no HTTP), to add processing capacity next to `serve`"
    worker_parser = commands.add_parser(
        "worker",
        help=text,
        description=text + ". Use the same DATABASE_URL as the API (or, with the embedded database, the "
        "same TIEOUT_DATA_DIR). SIGTERM or Ctrl-C stops claiming and lets running jobs finish within "
        "SHUTDOWN_GRACE_SECONDS; a second signal releases them at once.",
    )
    worker_parser.set_defaults(handler=handle_worker)

    text = "bring the database schema to the latest revision (Alembic upgrade head)"
    migrate_parser = commands.add_parser("migrate", help=text, description=text)
    migrate_parser.add_argument(
        "--down", metavar="REV", help="downgrade to revision REV instead (e.g. 0001, or base for empty)"
    )
    migrate_parser.set_defaults(handler=handle_migrate)

    add_extract_command(commands)
    from app.extraction.commands import add_commands

    add_commands(commands)
    for command_parser in commands.choices.values():
        if command_parser.get_default("command_parser") is None:
            command_parser.set_defaults(command_parser=command_parser)
    return parser


def handle_serve(args: argparse.Namespace) -> int:
    from app.core.logging import configure_logging

    settings = load_settings(host=args.host, port=args.port)
    sock = bind_socket(settings.host, settings.port)
    configure_logging(settings)
    prestart_embedded(settings)
    return asyncio.run(serve(settings, sock))


def handle_worker(args: argparse.Namespace) -> int:
    settings = load_settings()
    prestart_embedded(settings)
    return asyncio.run(run_worker(settings))


def handle_migrate(args: argparse.Namespace) -> int:
    settings = load_settings()
    prestart_embedded(settings)
    return asyncio.run(run_migrate(settings, args.down))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:  # reported by the command's own parser, so `extract` keeps its exit code
        getattr(args, "command_parser", parser).error(f"unrecognized arguments: {' '.join(extras)}")
    try:
        return int(args.handler(args))
    except CommandError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:
        from app.main import StartupError

        if isinstance(exc, StartupError):
            return fail(str(exc))
        raise


if __name__ == "__main__":
    sys.exit(main())
