"""Numbers and URLs that the database layer cannot take (issue: hostile input, CLI).

A version past 2^63 overflows SQLite's INTEGER and PostgreSQL's BIGINT; a port `abc`
fails inside SQLAlchemy's URL parsing; `postgresql+asyncpg://` and `+psycopg2://` name
drivers eventscope does not install. Each is one sentence on stderr with exit 2.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from eventscope.explorer.cli import main
from eventscope.store import NewEvent
from reliability_support import figure

from tests.conftest import StoreFactory

HUGE = "99999999999999999999"


def _location(factory: StoreFactory) -> str:
    if factory.backend == "sqlite":
        return factory.location
    return f"{factory.location}?schema={factory.open_options['schema']}"


def _one_sentence(args: list[str]) -> str:
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        repr(result.exception),
    )
    lines = [line for line in result.stderr.strip().splitlines() if line]
    assert result.exit_code == 2, (args, result.exit_code, result.stderr)
    assert "Traceback" not in result.output and lines, (args, result.output)
    return lines[-1]


def test_version_numbers_past_the_database_integer_are_refused(
    store_factory: StoreFactory,
) -> None:
    store = store_factory()
    store.append("acct-1", [NewEvent("Opened", {"balance": 1})], stream_type="acct")
    source = _location(store_factory)
    cases = [
        ["events", source, "acct-1", "--from-version", HUGE],
        ["events", source, "acct-1", "--to-version", HUGE],
        ["events", source, "acct-1", "--from-version", f"-{HUGE}"],
        ["state", source, "acct-1", "--version", HUGE],
        ["blame", source, "acct-1", "--version", HUGE],
        ["report", source, "acct-1", "--version", HUGE, "--no-access-log"],
        ["diff", source, "acct-1", "--from-version", HUGE, "--to-version", "1"],
        ["diff", source, "acct-1", "--snapshot", HUGE],
    ]
    for args in cases:
        _one_sentence(args)
    figure(
        f"inputs/huge-versions/{store_factory.backend}",
        f"{len(cases)}/{len(cases)} commands given version {HUGE}: one sentence, exit 2",
    )


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("postgresql://postgres@127.0.0.1:abc/test", "port 'abc'"),
        ("postgresql+psycopg://postgres@127.0.0.1:99999x/test", "port '99999x'"),
        ("postgresql+asyncpg://postgres@127.0.0.1/test", "not asyncpg"),
        ("postgresql+psycopg2://postgres@127.0.0.1/test", "not psycopg2"),
        ("eventsourcing:postgresql+psycopg2://postgres@127.0.0.1/test", "not psycopg2"),
    ],
)
def test_unusable_database_urls_are_one_sentence(url: str, words: str) -> None:
    for args in (
        ["verify", url],
        ["streams", url, "--json"],
        ["events", url, "acct-1"],
        ["import", "nothing.jsonl", "--db", url],
    ):
        line = _one_sentence(args)
        assert line.startswith("eventscope: ") and words in line, (args, line)
