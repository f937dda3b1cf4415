"""A `--domain` module that misbehaves (issue: plugins).

The module is the user's code and runs with the user's rights; what it must not do is
end eventscope silently (`sys.exit(0)` at import made `state` exit 0 with no output),
corrupt ``--json`` stdout with its `print`, or reach the terminal with escape sequences.
Its output is captured and shown afterwards, escaped, on stderr.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner
from eventscope.explorer.cli import main
from eventscope.store import NewEvent
from reliability_support import figure
from support.hostile import HOSTILE, forbidden_in

from tests.conftest import StoreFactory

NOISY = HOSTILE["osc52-clipboard"] + HOSTILE["clear-screen"]

PLUGIN = """
import sys
from pydantic import BaseModel
from eventscope.domain.aggregate import Aggregate, applies
from eventscope.domain.events import upcaster
from eventscope.domain.plugin import DomainPlugin

{at_import}

class AccountState(BaseModel):
    balance: int = 0


class Account(Aggregate[AccountState]):
    State = AccountState

    @applies("Deposited")
    def _deposited(state, data):
        {in_applier}
        state["balance"] += data["amount"]


@upcaster("Deposited", from_version=1)
def cents(data):
    print("upcasting", {noisy!r}, file=sys.stderr)
    return {{**data, "amount": data["amount"] * 100}}


DOMAIN = DomainPlugin(aggregates={{"account": Account}}, upcasters=[cents])
"""


def _plugin(folder: Path, name: str, at_import: str = "", in_applier: str = "pass") -> str:
    name = f"{name}_{folder.parent.name}"  # a fresh module per test: imports are cached
    (folder / f"{name}.py").write_text(
        textwrap.dedent(PLUGIN).format(at_import=at_import, in_applier=in_applier, noisy=NOISY)
    )
    return name


def _location(factory: StoreFactory) -> str:
    if factory.backend == "sqlite":
        return factory.location
    return f"{factory.location}?schema={factory.open_options['schema']}"


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def _store(factory: StoreFactory) -> str:
    store = factory()
    store.append(
        "account-1",
        [NewEvent("Deposited", {"amount": n}, schema_version=1) for n in (1, 2, 3)],
        stream_type="account",
    )
    return _location(factory)


def _invoke(args: list[str]) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result.exit_code, result.stdout_bytes, result.stderr


def test_a_plugin_that_exits_at_import_is_a_sentence_not_a_silent_success(
    store_factory: StoreFactory, plugins: Path
) -> None:
    source = _store(store_factory)
    for code, name in (("0", "exits_zero"), ("3", "exits_three"), ("'bye'", "exits_text")):
        module = _plugin(plugins, name, at_import=f"print({NOISY!r}); sys.exit({code})")
        for args in (
            ["state", source, "account-1", "--domain", module, "--json"],
            ["blame", source, "account-1", "--domain", module],
        ):
            status, stdout, stderr = _invoke(args)
            assert status == 2 and stdout == b"", (args, status, stdout)
            assert "called sys.exit(" in stderr and module in stderr, stderr
            assert not forbidden_in(stderr), forbidden_in(stderr)


def test_plugin_output_never_reaches_stdout_or_the_terminal_raw(
    store_factory: StoreFactory, plugins: Path
) -> None:
    source = _store(store_factory)
    module = _plugin(
        plugins,
        "chatty",
        at_import=f"print('importing', {NOISY!r})",
        in_applier=f"print('applying', {NOISY!r})",
    )
    status, stdout, stderr = _invoke(["state", source, "account-1", "--domain", module, "--json"])
    assert status == 0, stderr
    result = orjson.loads(stdout)  # stdout is exactly eventscope's JSON
    assert result["state"] == {"balance": 600} and result["version"] == 3
    assert b"\x1b" not in stdout and not forbidden_in(stderr), forbidden_in(stderr)
    assert f"domain module '{module}' printed" in stderr
    assert "importing" in stderr and "applying" in stderr and "upcasting" in stderr
    assert "\\x1b]52;c;" in stderr  # shown, escaped
    status, stdout, stderr = _invoke(["events", source, "account-1", "--json"])
    assert status == 0 and "printed" not in stderr  # nothing left over for the next command
    figure(
        f"plugins/output/{store_factory.backend}",
        "prints at import, in an applier and in an upcaster: stdout stayed valid JSON, "
        "the text was shown escaped on stderr; sys.exit(0/3/'bye') at import: exit 2 and "
        "a sentence",
    )


def test_a_plugin_that_exits_while_replaying_is_named_in_the_reason(
    store_factory: StoreFactory, plugins: Path
) -> None:
    source = _store(store_factory)
    module = _plugin(plugins, "exits_later", in_applier="sys.exit(0)")
    status, stdout, stderr = _invoke(["state", source, "account-1", "--domain", module, "--json"])
    assert status in (0, 2), stderr
    text = stdout.decode() + stderr
    assert "called sys.exit(0)" in text and module in text, text


def test_the_help_says_a_domain_module_runs_with_your_rights() -> None:
    for command in (["state", "--help"], ["open", "--help"]):
        text = " ".join(CliRunner().invoke(main, command).output.split())
        assert "run with your rights" in text, command
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "it runs with your rights" in " ".join(readme.split())
