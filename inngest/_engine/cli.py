"""``python -m inngest dev``: command-line flags, ``INNGEST_*`` variables, and the main loop."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import time
import typing

from inngest._engine import memory, registration
from inngest._engine.discovery import with_scheme
from inngest._engine.executor import READ_TIMEOUT
from inngest._engine.http.api import DEFAULT_LIMITS
from inngest._engine.http.server import DEFAULT_PORT, DEFAULT_QUEUE_WORKERS, DevServer

_TRUE = ("1", "true", "yes", "on")


def _env(name: str) -> str | None:
    value = os.environ.get(f"INNGEST_{name}")
    return value if value not in (None, "") else None


def _env_flag(name: str) -> bool:
    return (_env(name) or "").strip().lower() in _TRUE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m inngest",
        description="inngest-sync: tools for the synchronous Inngest SDK.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    dev = commands.add_parser(
        "dev", help="run the local Inngest-compatible dev server",
        description="Run the local Inngest-compatible dev server. Every flag can also be set "
                    "with an INNGEST_* environment variable (e.g. INNGEST_PORT, "
                    "INNGEST_SDK_URL as a comma-separated list).",
    )
    dev.add_argument("-u", "--sdk-url", action="append", default=None, metavar="URL",
                     help="an app's serve URL to sync (repeatable)")
    dev.add_argument("-p", "--port", type=int, default=int(_env("PORT") or DEFAULT_PORT),
                     help="port to listen on (default %(default)s)")
    dev.add_argument("--host", default=_env("HOST") or "127.0.0.1",
                     help="address to bind (default %(default)s)")
    dev.add_argument("--no-discovery", action="store_true", default=_env_flag("NO_DISCOVERY"),
                     help="do not probe local ports for apps")
    dev.add_argument("--no-poll", action="store_true", default=_env_flag("NO_POLL"),
                     help="do not re-sync healthy apps periodically")
    dev.add_argument("--poll-interval", type=float,
                     default=float(_env("POLL_INTERVAL") or 5), metavar="SECONDS",
                     help="seconds between app pings (default %(default)s)")
    dev.add_argument("--retry-interval", type=float,
                     default=float(_env("RETRY_INTERVAL") or 0), metavar="SECONDS",
                     help="fixed seconds between retries; 0 uses backoff (default)")
    dev.add_argument("--queue-workers", type=int,
                     default=int(_env("QUEUE_WORKERS") or DEFAULT_QUEUE_WORKERS),
                     help="requests to apps in flight at once (default %(default)s)")
    dev.add_argument("--call-timeout", type=_positive_seconds,
                     default=float(_env("CALL_TIMEOUT") or READ_TIMEOUT), metavar="SECONDS",
                     help="seconds to wait for an app's answer to one call; the attempt then "
                          "fails and is retried (default %(default)s, the real server's)")
    dev.add_argument("--max-body-size", type=_positive_bytes,
                     default=int(_env("MAX_BODY_SIZE") or DEFAULT_LIMITS.max_body_bytes),
                     metavar="BYTES",
                     help="largest request body the API reads; larger ones get a 413 before "
                          "they are read (default %(default)s)")
    dev.add_argument("--persist", action="store_true", default=_env_flag("PERSIST"),
                     help="keep state in SQLite at ./.inngest/main.db (or --sqlite-dir)")
    dev.add_argument("--sqlite-dir", default=_env("SQLITE_DIR"),
                     help="directory for the SQLite database when persisting")
    dev.add_argument("--signing-key", default=_env("SIGNING_KEY"),
                     help="sign requests to apps with this key")
    dev.add_argument("--log-level", default=_env("LOG_LEVEL") or "info",
                     choices=("debug", "info", "warning", "error"),
                     help="log verbosity (default %(default)s)")
    return parser


def _positive_seconds(text: str) -> float:
    seconds = float(text)
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text}")
    return seconds


def _positive_bytes(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        size = 0
    if size < 1:
        raise argparse.ArgumentTypeError(f"must be a positive number of bytes: {text}")
    return size


def sdk_urls(flags: list[str] | None) -> list[str]:
    if flags:
        return flags
    return [url.strip() for url in (_env("SDK_URL") or "").split(",") if url.strip()]


# How often the main loop looks whether a stop signal has come.
_STOP_POLL_SECONDS = 0.1


def _record_stop_signals() -> list[int]:
    """SIGINT and SIGTERM, appended to the returned list as they come.

    The handler only appends. Python runs it in the main thread between any two bytecodes:
    inside a lock that thread holds, or inside the handler of an earlier signal. A handler
    that takes a lock (``threading.Event.set`` does) deadlocks the process there."""
    received: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda number, _frame: received.append(number))
    return received


def main(argv: typing.Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command != "dev":
        parser.print_help()
        return 0 if args.command is None else 2
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(message)s",
                        datefmt="%H:%M:%S")
    urls = sdk_urls(args.sdk_url)
    for url in urls:
        try:
            registration.normalize_url(with_scheme(url))
        except registration.UrlError as err:
            parser.error(f"--sdk-url / INNGEST_SDK_URL: {err}")
    memory.return_large_buffers()
    server = DevServer(
        port=args.port, host=args.host, sdk_urls=urls,
        poll=not args.no_poll, poll_interval=args.poll_interval,
        discovery=not args.no_discovery, queue_workers=args.queue_workers,
        retry_interval=args.retry_interval, persist=args.persist,
        sqlite_dir=args.sqlite_dir, signing_key=args.signing_key,
        call_timeout=args.call_timeout, max_body_bytes=args.max_body_size,
    )
    received = _record_stop_signals()
    server.start()
    print(f"Inngest console: {server.url}/", flush=True)
    try:
        while not received:
            time.sleep(_STOP_POLL_SECONDS)
    finally:
        logging.getLogger("inngest.engine").info("shutting down")
        server.stop()
    return 0
