"""The one table of ``emailshare``'s settings: flag, environment variable, default and help.

argparse's options (cli.py) and the configuration table of docs/operations.md are both this
table (a test holds the doc to it). A flag given wins over its variable, the variable over the
default; a malformed variable is refused naming it, like a malformed flag.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from emailshare.config import DEFAULT_DB
from emailshare.domain.numbers import parse_int

Parse = Callable[[str], object]


def _whole(text: str, minimum: int, maximum: int, message: str) -> int:
    """``text`` through the one integer parser (domain/numbers.py), or argparse's error."""
    value = parse_int(text, minimum, maximum)
    if value is None:
        raise argparse.ArgumentTypeError(message)
    return value


def port(text: str) -> int:
    """A TCP port, 1 to 65535."""
    return _whole(text, 1, 65535, f"{text!r} is not a TCP port (1 to 65535)")


def workers(text: str) -> int:
    """Worker processes, 1 to 64."""
    return _whole(text, 1, 64, f"{text!r}: workers must be from 1 to 64")


def count(text: str) -> int:
    """A whole number, 0 or more."""
    return _whole(text, 0, 100_000_000, f"{text!r} is not a whole number (0 to 100000000)")


def pool(text: str) -> int:
    """PostgreSQL connections per worker, 1 to 100."""
    return _whole(text, 1, 100, f"{text!r}: the pool size must be from 1 to 100")


def seconds(text: str) -> int:
    """A lifetime in seconds, 1 to 10**10 (about 317 years; what a fixture's expires_in takes)."""
    return _whole(text, 1, 10**10, f"{text!r} is not a number of seconds (1 to 10000000000)")


def interval(text: str) -> float:
    """Seconds between two events, 0 (never) to a day; a fraction is allowed."""
    return _positive_float(text, 0.0, f"{text!r} is not a number of seconds (0 to 86400)")


def timeout(text: str) -> float:
    """A timeout in seconds, more than 0 and at most a day."""
    return _positive_float(text, 0.001, f"{text!r} is not a timeout in seconds (0.001 to 86400)")


def _positive_float(text: str, minimum: float, message: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(message) from None
    if not minimum <= value <= 86_400:  # also refuses nan
        raise argparse.ArgumentTypeError(message)
    return value


def timestamp(text: str) -> int:
    """A Unix time in seconds, 0 to 10**11."""
    return _whole(text, 0, 10**11, f"{text!r} is not a Unix time in seconds")


def key_file(path: str) -> str:
    """The admin key read from a file (its first line): unlike ``--admin-key``, it is not on
    the command line, which any user of the machine may read (``ps``)."""
    try:
        with open(path, encoding="utf-8") as f:
            key = f.readline().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise argparse.ArgumentTypeError(
            f"cannot read the admin key from {path!r}: {exc}"
        ) from None
    if not key:
        raise argparse.ArgumentTypeError(f"{path!r} holds no admin key (its first line is empty)")
    return key


def text(value: str) -> str:
    """Any text."""
    return value


def switch(value: str) -> bool:
    """A variable's on/off: 1, true, yes, on (any case) are on; 0, false, no, off are off."""
    low = value.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off", ""):
        return False
    raise argparse.ArgumentTypeError(f"{value!r} is not on or off (1/0, true/false)")


@dataclass(frozen=True)
class Option:
    """One setting. ``default_text`` is what help and the docs show as the default."""

    flag: str
    env: str
    default: object
    default_text: str
    help: str
    parse: Parse = text
    metavar: str | None = None

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")

    @property
    def is_switch(self) -> bool:
        return self.parse is switch


def _o(flag: str, env: str, default: object, shown: str, help: str, **kw: object) -> Option:
    return Option(flag, "EMAILSHARE_" + env, default, shown, help, **kw)  # type: ignore[arg-type]


OPTIONS: tuple[Option, ...] = (
    _o("--db", "DB", DEFAULT_DB, DEFAULT_DB, "the store: sqlite:///path.db or postgresql://…"),
    _o("--host", "HOST", "127.0.0.1", "127.0.0.1", "address to listen on (0.0.0.0: every one)"),
    _o("--port", "PORT", 8000, "8000", "TCP port to listen on; refused if in use", parse=port),
    _o("--workers", "WORKERS", 1, "1", "worker processes (1-64)", parse=workers),
    _o(
        "--public-url",
        "PUBLIC_URL",
        None,
        "the address the request reached (never its Host header)",
        "the api_domain handed out with tokens",
    ),
    _o(
        "--admin-key",
        "ADMIN_KEY",
        None,
        "off",
        "turns the admin API and page (/__emailshare/) on, guarded by this key (visible in ps:"
        " prefer the variable or --admin-key-file)",
    ),
    _o(
        "--admin-key-file",
        "ADMIN_KEY_FILE",
        None,
        "none",
        "read the admin key from this file's first line instead",
        parse=key_file,
        metavar="FILE",
    ),
    _o("--pool-size", "POOL_SIZE", 8, "8", "PostgreSQL connections per worker (1-100)", parse=pool),
    _o(
        "--cache-size",
        "CACHE_SIZE",
        20_000,
        "20000",
        "answers kept per worker, never stale (0: no cache)",
        parse=count,
    ),
    _o(
        "--cache-mb",
        "CACHE_MB",
        64,
        "64",
        "memory for the answers kept per worker, MiB",
        parse=count,
    ),
    _o(
        "--log-requests",
        "LOG_REQUESTS",
        False,
        "off",
        "one JSON log line per request",
        parse=switch,
    ),
    _o(
        "--request-log-size",
        "REQUEST_LOG_SIZE",
        200,
        "200",
        "requests each worker keeps for the admin API",
        parse=count,
    ),
    _o(
        "--credits-per-day",
        "CREDITS_PER_DAY",
        0,
        "0 (off)",
        "emulate Zoho's API credit budget per org over a rolling 24 h",
        parse=count,
    ),
    _o(
        "--max-concurrent",
        "MAX_CONCURRENT",
        0,
        "0 (off)",
        "emulate Zoho's concurrent-request limit per org",
        parse=count,
    ),
    _o(
        "--metrics-dir",
        "METRICS_DIR",
        None,
        "a temporary folder, removed at stop",
        "folder where workers leave metrics for /metrics (emptied of *.db files at start)",
    ),
    _o(
        "--sync-every",
        "SYNC_EVERY",
        0.0,
        "0 (never)",
        "serve: sync the mailboxes that have a server every SECONDS in the background",
        parse=interval,
        metavar="SECONDS",
    ),
    _o(
        "--mail-ca-file",
        "MAIL_CA_FILE",
        None,
        "the system's CAs",
        "CAs (PEM) to verify mail servers' certificates with",
        metavar="PATH",
    ),
    _o(
        "--mail-timeout",
        "MAIL_TIMEOUT",
        30.0,
        "30",
        "seconds a mail server may take to answer",
        parse=timeout,
        metavar="SECONDS",
    ),
    _o(
        "--keep",
        "KEEP",
        False,
        "off",
        "demo: keep the demo's temporary store when it stops",
        parse=switch,
    ),
)
BY_FLAG: Mapping[str, Option] = {o.flag: o for o in OPTIONS}

SERVE = (
    "--db",
    "--host",
    "--port",
    "--workers",
    "--public-url",
    "--admin-key",
    "--admin-key-file",
    "--pool-size",
    "--cache-size",
    "--cache-mb",
    "--log-requests",
    "--request-log-size",
    "--credits-per-day",
    "--max-concurrent",
    "--metrics-dir",
)


def help_line(o: Option, default_text: str | None = None) -> str:
    """The option's help as argparse shows it: what, the default, the variable."""
    shown = default_text or o.default_text
    return f"{o.help} (default: {shown}; env {o.env})".replace("%", "%%")


def add(parser: argparse.ArgumentParser, flags: Iterable[str], **defaults_text: str) -> None:
    """Add these options to ``parser``. Each defaults to None so that :func:`resolve` can tell
    a flag given from one left out; ``defaults_text`` overrides a shown default by dest."""
    for flag in flags:
        o = BY_FLAG[flag]
        shown = defaults_text.get(o.dest)
        if o.is_switch:
            parser.add_argument(o.flag, action="store_true", default=None, help=help_line(o, shown))
        else:
            parser.add_argument(
                o.flag,
                type=o.parse,
                default=None,
                metavar=o.metavar or o.dest.upper(),
                help=help_line(o, shown),
            )


def resolve(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    env: Mapping[str, str] | None = None,
    **defaults: object,
) -> None:
    """Fill every option left out from its variable, else its default (or ``defaults``'s);
    a malformed variable ends the command as a usage error naming it."""
    env = os.environ if env is None else env
    for o in OPTIONS:
        if not hasattr(args, o.dest) or getattr(args, o.dest) is not None:
            continue
        raw = env.get(o.env)
        if raw is None or (raw == "" and not o.is_switch):
            setattr(args, o.dest, defaults.get(o.dest, o.default))
            continue
        try:
            setattr(args, o.dest, o.parse(raw))
        except argparse.ArgumentTypeError as exc:
            parser.error(f"{o.env}={raw!r}: {exc}")


def markdown_table() -> str:
    """The configuration table of docs/operations.md, made from :data:`OPTIONS`."""
    rows = ["| flag | environment | default | meaning |", "|---|---|---|---|"]
    rows += [f"| `{o.flag}` | `{o.env}` | {o.default_text} | {o.help} |" for o in OPTIONS]
    return "\n".join(rows)
