"""The Marten, Eventuous and Axon fixture files: the committed dumps are exactly what their
scripts build, stay small, say they were not written by the real systems, and their
READMEs name every planted id the tests rely on."""

from __future__ import annotations

import hashlib
import importlib
import re
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.foreign.axon import facts as axon_facts
from tests.fixtures.foreign.eventuous import facts as eventuous_facts
from tests.fixtures.foreign.marten import facts as marten_facts
from tests.fixtures.foreign.pg import build_dump

FOREIGN = Path(__file__).resolve().parents[1] / "fixtures" / "foreign"
DUMPS = {
    "marten": [marten_facts.DUMP],
    "eventuous": [eventuous_facts.DUMP],
    "axon": [axon_facts.OID_DUMP, axon_facts.DUMP],
}
SYSTEMS = {"marten": "Marten", "eventuous": "Eventuous", "axon": "Axon"}
DUMPED_BY = re.compile(rb"^-- Dumped (?:from database|by pg_dump) version .*$", re.MULTILINE)


def normalised_digest(dump: Path) -> str:
    """The dump without the two lines naming the server's and pg_dump's versions."""
    return hashlib.sha256(DUMPED_BY.sub(b"", dump.read_bytes())).hexdigest()


@pytest.mark.parametrize("store", list(DUMPS))
def test_dumps_are_small_and_say_where_they_come_from(store: str) -> None:
    for name in DUMPS[store]:
        dump = FOREIGN / store / name
        assert dump.stat().st_size < 2 * 1024 * 1024, f"{name} is over 2 MB"
        head = dump.read_text(encoding="utf-8")[:600]
        assert f"They were NOT written by {SYSTEMS[store]}" in head


@pytest.mark.parametrize("store", list(DUMPS))
def test_readme_and_schema_notes(store: str) -> None:
    readme = " ".join((FOREIGN / store / "README.md").read_text().split())
    assert f"NOT written by {SYSTEMS[store]}" in readme
    assert "python -m tests.fixtures.foreign.regenerate" in readme
    schema = (FOREIGN / store / "SCHEMA.md").read_text()
    assert "Differs from seed-stores.md" in schema
    facts = importlib.import_module(f"tests.fixtures.foreign.{store}.facts")
    planted = {
        name: value
        for name, value in vars(facts).items()
        if name.isupper()
        and name.endswith(("_ID", "_KEY", "_STREAM", "_SCHEMA", "_TABLE", "_AGGREGATE"))
    }
    assert len(planted) >= 4
    missing = [name for name, value in planted.items() if str(value) not in readme]
    assert missing == [], f"README.md does not name {missing}"


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("store", list(DUMPS))
def test_committed_dumps_are_what_the_scripts_build(
    store: str, pg_url: str, tmp_path: Path
) -> None:
    module = importlib.import_module(f"tests.fixtures.foreign.{store}.generate")
    version = subprocess.run(["pg_dump", "--version"], capture_output=True, text=True).stdout
    major = re.search(r"(\d+)\.", version)
    for name, build in module.DUMPS.items():
        committed = FOREIGN / store / name
        recorded = re.search(rb"Dumped by pg_dump version (\d+)\.", committed.read_bytes())
        if major is None or recorded is None or recorded.group(1).decode() != major.group(1):
            pytest.skip("pg_dump's major version differs from the one the dump was made with")
        rebuilt = tmp_path / name
        build_dump(pg_url, rebuilt, build, prefix=f"es_rebuild_{store}", header=module.HEADER)
        assert normalised_digest(rebuilt) == normalised_digest(committed), (
            f"{committed} is not what generate.py builds: run "
            f"`python -m tests.fixtures.foreign.regenerate {store}` and commit the result"
        )
