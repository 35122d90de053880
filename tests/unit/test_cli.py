"""The command line takes every setting a server worker can have."""

from __future__ import annotations

import argparse
import dataclasses
from importlib import metadata
from pathlib import Path

import pytest

from emailshare import cli, options
from emailshare.cli import build_parser
from emailshare.config import Settings
from emailshare.startup import Exit


def test_serve_has_a_flag_for_every_setting() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--db",
            "sqlite:///x.db",
            "--public-url",
            "http://h",
            "--admin-key",
            "k",
            "--cache-size",
            "5",
            "--cache-mb",
            "6",
            "--log-requests",
            "--pool-size",
            "3",
            "--request-log-size",
            "7",
            "--credits-per-day",
            "100",
            "--max-concurrent",
            "2",
        ]
    )
    options.resolve(build_parser(), args, {})
    given = {f.name for f in dataclasses.fields(Settings)} - {"clock", "db_url"}
    assert given <= set(vars(args))
    assert (args.cache_size, args.pool_size, args.request_log_size) == (5, 3, 7)
    assert args.cache_mb == 6
    assert (args.credits_per_day, args.max_concurrent, args.log_requests) == (100, 2, True)


def test_settings_travel_to_workers_through_the_environment() -> None:
    settings = Settings(
        db_url="sqlite:///y.db",
        public_url="http://x",
        admin_key="k",
        cache_size=9,
        cache_mb=2,
        log_requests=True,
        request_log_size=3,
        pool_size=4,
        credits_per_day=10,
        max_concurrent=1,
    )
    assert Settings.from_env(settings.to_env()) == settings


# --- one configuration surface: options.py, --help and docs/operations.md agree ---------------

OPERATIONS = Path(__file__).resolve().parent.parent.parent / "docs" / "operations.md"


def _between(text: str, name: str) -> str:
    begin, end = f"<!-- {name}: begin -->\n", f"\n<!-- {name}: end -->"
    return text[text.index(begin) + len(begin) : text.index(end)]


def test_the_docs_configuration_table_is_the_options_table() -> None:
    assert _between(OPERATIONS.read_text(), "options table") == options.markdown_table()


def test_the_docs_exit_status_table_lists_every_status() -> None:
    table = _between(OPERATIONS.read_text(), "exit statuses")
    shown = [int(row.split("|")[1]) for row in table.splitlines()[2:]]
    assert shown == [int(e) for e in Exit]


def test_every_serve_flag_has_help_with_its_default_and_variable() -> None:
    helptext = " ".join(_subparser("serve").format_help().split())
    for flag in options.SERVE:
        o = options.BY_FLAG[flag]
        assert " ".join(options.help_line(o).replace("%%", "%").split()) in helptext, flag


def _subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            sub: argparse.ArgumentParser = action.choices[name]
            return sub
    raise AssertionError(name)


def test_help_names_every_command_without_rst() -> None:
    parser = build_parser()
    helptext = parser.format_help()
    commands = next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    description = helptext.split("commands:")[1]
    for name in commands:
        assert name in description, name
    assert "``" not in helptext


def test_a_variable_fills_a_flag_left_out_and_a_flag_wins() -> None:
    parser = build_parser()
    env = {"EMAILSHARE_DB": "sqlite:///from-env.db", "EMAILSHARE_PORT": "9001"}
    args = parser.parse_args(["serve"])
    options.resolve(parser, args, env)
    assert (args.db, args.port, args.workers) == ("sqlite:///from-env.db", 9001, 1)
    args = parser.parse_args(["serve", "--db", "sqlite:///flag.db"])
    options.resolve(parser, args, env)
    assert args.db == "sqlite:///flag.db"
    args = parser.parse_args(["load", "x.json"])
    options.resolve(parser, args, env)
    assert args.db == "sqlite:///from-env.db"


def test_the_mail_settings_have_variables_too() -> None:
    """``--sync-every``, ``--mail-ca-file`` and ``--mail-timeout`` are rows of the one table:
    ``serve`` and ``sync`` read their variables, and a malformed one is refused by name."""
    parser = build_parser()
    env = {
        "EMAILSHARE_SYNC_EVERY": "2.5",
        "EMAILSHARE_MAIL_CA_FILE": "/etc/ca.pem",
        "EMAILSHARE_MAIL_TIMEOUT": "4",
    }
    args = parser.parse_args(["serve"])
    options.resolve(parser, args, env)
    assert (args.sync_every, args.mail_ca_file, args.mail_timeout) == (2.5, "/etc/ca.pem", 4.0)
    args = parser.parse_args(["sync", "--mail-timeout", "9"])
    options.resolve(parser, args, env)
    assert (args.mail_ca_file, args.mail_timeout) == ("/etc/ca.pem", 9.0)
    args = parser.parse_args(["serve"])
    options.resolve(parser, args, {})
    assert (args.sync_every, args.mail_ca_file, args.mail_timeout) == (0.0, None, 30.0)
    for name, bad in (("EMAILSHARE_MAIL_TIMEOUT", "0"), ("EMAILSHARE_SYNC_EVERY", "nan")):
        with pytest.raises(SystemExit):
            options.resolve(parser, parser.parse_args(["serve"]), {name: bad})


def test_the_demo_never_reads_the_store_variable() -> None:
    parser = build_parser()
    args = parser.parse_args(["demo"])
    options.resolve(parser, args, {"EMAILSHARE_DB": "sqlite:///mine.db"})
    assert args.demo_db is None
    assert not hasattr(args, "db")


def test_version() -> None:
    assert f"emailshare {cli._version()}" == f"emailshare {metadata.version('emailshare')}"


@pytest.mark.parametrize("name", ["acme", "emails"])
def test_the_shipped_examples_are_the_test_data(name: str) -> None:
    """``emailshare example-fixture acme`` / ``emails`` (docs/oauth.md, docs/client.md) are
    tests/data's files, byte for byte: the docs and the tests use one org."""
    root = Path(__file__).resolve().parent.parent.parent
    shipped = root / "src" / "emailshare" / "data" / f"{name}.json"
    assert shipped.read_bytes() == (root / "tests" / "data" / f"{name}.json").read_bytes()
