"""``python -m inngest dev``: command-line flags, ``INNGEST_*`` variables, and the main loop."""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import signal
import time
import typing

from inngest._engine import config_file, memory, registration
from inngest._engine.discovery import with_scheme
from inngest._engine.executor import READ_TIMEOUT
from inngest._engine.http.api import DEFAULT_LIMITS
from inngest._engine.http.server import (
    DEFAULT_PORT, DEFAULT_QUEUE_WORKERS, DEFAULT_TICK_MS, DevServer,
)
from inngest._engine.json_logs import JsonLogFormatter

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")
_LEVELS = {"trace": "DEBUG", "debug": "DEBUG", "info": "INFO", "warn": "WARNING",
           "warning": "WARNING", "error": "ERROR", "emergency": "CRITICAL"}
# The real CLI's connect settings for its gRPC services, which this engine has none of.
_CONNECT_GRPC_KEYS = ("connect-gateway-grpc-port", "connect-executor-grpc-port",
                      "connect-gateway-grpc-ip", "connect-executor-grpc-ip")
# Keys of the real CLI's configuration file that only its `start` command reads.
_START_ONLY_KEYS = ("event-key", "redis-uri", "postgres-uri", "postgres-max-idle-conns",
                    "postgres-max-open-conns", "postgres-conn-max-idle-time",
                    "postgres-conn-max-lifetime", "api-host", "api-port", "prod",
                    "system-trace-endpoint", "system-trace-url-path")

log = logging.getLogger("inngest.engine")


class UsageError(ValueError):
    pass


def _env(name: str) -> str | None:
    value = os.environ.get(f"INNGEST_{name}")
    return value if value not in (None, "") else None


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in _TRUE + _FALSE:
        raise argparse.ArgumentTypeError(f"must be true or false: {text}")
    return lowered in _TRUE


def _positive_seconds(text: str) -> float:
    seconds = _number(text, "a positive number of seconds")
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text}")
    return seconds


def _retry_seconds(text: str) -> float:
    seconds = _number(text, "0 (backoff) or a positive number of seconds")
    if not seconds >= 0:
        raise argparse.ArgumentTypeError(
            f"must be 0 (backoff) or a positive number of seconds: {text}")
    return seconds


def _number(text: str, what: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}: {text}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"must be {what}: {text}")
    return number


def _positive_int(what: str) -> typing.Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            number = 0
        if number < 1:
            raise argparse.ArgumentTypeError(f"must be a positive number of {what}: {text}")
        return number
    return parse


_positive_bytes = _positive_int("bytes")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number (0-65535): {text}")
    return port


def _ip(text: str) -> str:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an IP address: {text}") from None
    return text


def _level(text: str) -> str:
    if text.lower() not in _LEVELS:
        raise argparse.ArgumentTypeError(
            f"must be one of trace, debug, info, warn, error: {text}")
    return text.lower()


class _Option(typing.NamedTuple):
    """A ``dev`` setting: a flag, an ``INNGEST_*`` variable and a configuration file key."""

    key: str
    parse: typing.Callable[[str], typing.Any]
    default: typing.Any
    help: str
    metavar: str | None = None
    short: str | None = None

    @property
    def is_switch(self) -> bool:
        return self.parse is _boolean

    @property
    def dest(self) -> str:
        return self.key.replace("-", "_")


_OPTIONS = (
    _Option("port", _port, DEFAULT_PORT, f"port to listen on (default {DEFAULT_PORT})",
            short="-p"),
    _Option("host", str, "127.0.0.1", "address to bind (default 127.0.0.1)"),
    _Option("no-discovery", _boolean, False, "do not probe local ports for apps"),
    _Option("no-poll", _boolean, False, "do not re-sync healthy apps periodically"),
    _Option("poll-interval", _positive_seconds, 5.0,
            "seconds between app pings (default 5)", "SECONDS"),
    _Option("retry-interval", _retry_seconds, 0.0,
            "fixed seconds between retries; 0 uses backoff (default)", "SECONDS"),
    _Option("queue-workers", _positive_int("workers"), DEFAULT_QUEUE_WORKERS,
            f"requests to apps in flight at once (default {DEFAULT_QUEUE_WORKERS})"),
    _Option("tick", _positive_int("milliseconds"), DEFAULT_TICK_MS,
            "accepted for the real CLI's sake and shown in /dev; no effect, as this "
            f"engine's queue wakes when work is due (default {DEFAULT_TICK_MS})", "MS"),
    _Option("call-timeout", _positive_seconds, READ_TIMEOUT,
            "seconds to wait for an app's answer to one call; the attempt then fails and "
            f"is retried (default {READ_TIMEOUT:g}, the real server's)", "SECONDS"),
    _Option("max-body-size", _positive_bytes, DEFAULT_LIMITS.max_body_bytes,
            "largest request body the API reads; larger ones get a 413 before they are "
            f"read (default {DEFAULT_LIMITS.max_body_bytes})", "BYTES"),
    _Option("persist", _boolean, False,
            "keep state in SQLite at ./.inngest/main.db (or --sqlite-dir)"),
    _Option("sqlite-dir", str, None, "directory for the SQLite database when persisting"),
    _Option("signing-key", str, None, "sign requests to apps with this key"),
    _Option("connect-gateway-port", _port, 8289,
            "port of the connect gateway's own listener, as the real server's (the next free "
            "one if taken; workers find it in the start response; default 8289)", "PORT"),
    _Option("connect-gateway-grpc-port", _port, 50052, "accepted; no effect", "PORT"),
    _Option("connect-executor-grpc-port", _port, 50053, "accepted; no effect", "PORT"),
    _Option("connect-gateway-grpc-ip", _ip, "127.0.0.1", "accepted; no effect", "IP"),
    _Option("connect-executor-grpc-ip", _ip, "127.0.0.1", "accepted; no effect", "IP"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m inngest",
        description="inngest-sync: tools for the synchronous Inngest SDK.",
    )
    _add_log_flags(parser, None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    dev = commands.add_parser(
        "dev", help="run the local Inngest-compatible dev server",
        description="Run the local Inngest-compatible dev server. Settings come from flags, "
                    "then INNGEST_* environment variables (INNGEST_PORT, INNGEST_SDK_URL as "
                    "a comma-separated list, ...), then a configuration file: --config or "
                    "INNGEST_CONFIG, else the first inngest.json, inngest.yaml or inngest.yml "
                    "in this directory, its parents or ~/.config/inngest, with the flags' "
                    "names as keys.",
    )
    dev.add_argument("--config", default=None, metavar="FILE",
                     help="path to an Inngest configuration file (JSON or YAML)")
    dev.add_argument("-u", "--sdk-url", action="append", default=None, metavar="URL",
                     help="an app's serve URL to sync (repeatable)")
    for option in _OPTIONS:
        names = [option.short, f"--{option.key}"] if option.short else [f"--{option.key}"]
        if option.is_switch:
            dev.add_argument(*names, action="store_const", const=True, default=None,
                             help=option.help)
        else:
            dev.add_argument(*names, type=option.parse, default=None, metavar=option.metavar,
                             help=option.help)
    _add_log_flags(dev, argparse.SUPPRESS)
    return parser


def _add_log_flags(parser: argparse.ArgumentParser, default: str | None) -> None:
    """The real CLI's global flags, accepted before or after ``dev``."""
    parser.add_argument("--json", action="store_const", const=True, default=default,
                        help="write logs as JSON lines")
    parser.add_argument("--verbose", action="store_const", const=True, default=default,
                        help="log at debug level (unless --log-level says otherwise)")
    parser.add_argument("-l", "--log-level", type=_level, default=default, metavar="LEVEL",
                        help="trace, debug, info (default), warn or error")


def resolve(args: argparse.Namespace) -> dict[str, typing.Any]:
    """Each setting from its flag, else its ``INNGEST_*`` variable, else the file, else the
    default; ``UsageError`` names the source of a bad value."""
    try:
        found = config_file.load(args.config or _env("CONFIG"))
    except config_file.ConfigFileError as err:
        raise UsageError(str(err)) from None
    values = found.values if found else {}
    if found:
        log.info("using config file %s", found.path)
        _warn_unknown_keys(found)
    settings = {option.dest: _resolve_one(option, getattr(args, option.dest), values, found)
                for option in _OPTIONS}
    settings["sdk_urls"] = _sdk_urls(args.sdk_url, values, found)
    settings["connect_grpc_set"] = any(
        getattr(args, key.replace("-", "_")) is not None
        or _env(key.upper().replace("-", "_")) or key in values
        for key in _CONNECT_GRPC_KEYS)
    return settings


def _resolve_one(option: _Option, flag: typing.Any, values: dict[str, typing.Any],
                 found: config_file.ConfigFile | None) -> typing.Any:
    if flag is not None:
        return flag
    variable = option.key.upper().replace("-", "_")
    text = _env(variable)
    if text is not None:
        return _parse(option, text, f"INNGEST_{variable}")
    if found and option.key in values:
        return _from_file(option, values[option.key], found.path)
    return option.default


def _parse(option: _Option, text: str, source: str) -> typing.Any:
    try:
        return option.parse(text)
    except argparse.ArgumentTypeError as err:
        raise UsageError(f"{source}: {err}") from None


def _from_file(option: _Option, value: typing.Any, path: str) -> typing.Any:
    source = f"config file {path}: {option.key}"
    if isinstance(value, bool) and option.is_switch:
        return value
    if isinstance(value, (list, dict)) or value is None or (
            isinstance(value, bool) and not option.is_switch):
        raise UsageError(f"{source}: must be a single value, not {json.dumps(value)}")
    return _parse(option, str(value), source)


def _sdk_urls(flags: list[str] | None, values: dict[str, typing.Any],
              found: config_file.ConfigFile | None) -> list[str]:
    if flags:
        return flags
    from_env = [url.strip() for url in (_env("SDK_URL") or "").split(",") if url.strip()]
    if from_env or not found or "sdk-url" not in values:
        return from_env
    urls = values["sdk-url"]
    urls = [urls] if isinstance(urls, str) else urls
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        raise UsageError(f"config file {found.path}: sdk-url: must be a URL or a list of "
                         f"URLs, not {json.dumps(urls)}")
    return urls


def _warn_unknown_keys(found: config_file.ConfigFile) -> None:
    known = {option.key for option in _OPTIONS} | {"sdk-url", *_START_ONLY_KEYS}
    for key in found.values:
        if key not in known:
            log.warning("config file %s: unknown key %r ignored", found.path, key)


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
    try:
        _configure_logging(args)
        settings = resolve(args)
        _check_urls(settings["sdk_urls"])
    except UsageError as err:
        parser.exit(2, f"python -m inngest dev: error: {err}\n")
    _note_inert_settings(settings)
    memory.return_large_buffers()
    server = DevServer(
        port=settings["port"], host=settings["host"], sdk_urls=settings["sdk_urls"],
        poll=not settings["no_poll"], poll_interval=settings["poll_interval"],
        discovery=not settings["no_discovery"], queue_workers=settings["queue_workers"],
        retry_interval=settings["retry_interval"], persist=settings["persist"],
        sqlite_dir=settings["sqlite_dir"], signing_key=settings["signing_key"],
        call_timeout=settings["call_timeout"], max_body_bytes=settings["max_body_size"],
        tick_ms=settings["tick"], connect_gateway_port=settings["connect_gateway_port"],
    )
    received = _record_stop_signals()
    server.start()
    print(f"Inngest console: {server.url}/", flush=True)
    try:
        while not received:
            time.sleep(_STOP_POLL_SECONDS)
    finally:
        log.info("shutting down")
        server.stop()
    return 0


def _configure_logging(args: argparse.Namespace) -> None:
    """``--log-level``, else ``INNGEST_LOG_LEVEL`` or the real CLI's ``LOG_LEVEL``, else
    debug with ``--verbose``; JSON lines with ``--json`` or ``LOG_HANDLER=json``."""
    level = args.log_level
    for variable in ("INNGEST_LOG_LEVEL", "LOG_LEVEL"):
        if level is None and os.environ.get(variable):
            level = _parse_level(os.environ[variable], variable)
    if level is None:
        level = "debug" if args.verbose else "info"
    handler = logging.StreamHandler()
    as_json = args.json or os.environ.get("LOG_HANDLER", "").lower() == "json"
    handler.setFormatter(JsonLogFormatter() if as_json else logging.Formatter(
        "%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    logging.basicConfig(level=_LEVELS[level], handlers=[handler])


def _parse_level(text: str, source: str) -> str:
    try:
        return _level(text)
    except argparse.ArgumentTypeError as err:
        raise UsageError(f"{source}: {err}") from None


def _check_urls(urls: list[str]) -> None:
    for url in urls:
        try:
            registration.normalize_url(with_scheme(url))
        except registration.UrlError as err:
            raise UsageError(f"--sdk-url / INNGEST_SDK_URL / sdk-url: {err}") from None


def _note_inert_settings(settings: dict[str, typing.Any]) -> None:
    if settings["connect_grpc_set"]:
        log.info("the --connect-*-grpc-* settings have no effect: this engine's connect "
                 "gateway has no gRPC services")
    if settings["tick"] != DEFAULT_TICK_MS:
        log.info("--tick has no effect: this engine's queue wakes when work is due")
