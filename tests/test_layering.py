"""The one-way rule: explorer -> domain -> store, checked in a fresh interpreter, because
an import anywhere in this test process would hide a violation; and the store's own
boundaries (a lazy package, a facade whose insides stay in store/native)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import sys
import {module}
print(",".join(sorted(name for name in {forbidden!r} if name in sys.modules)))
"""


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        (
            "eventscope.store",
            (
                "eventscope.domain",
                "eventscope.explorer",
                "textual",
                "rich",
                "eventscope.demo_data",
            ),
        ),
        ("eventscope.domain", ("eventscope.explorer", "textual", "rich", "eventscope.demo_data")),
        ("eventscope.explorer.cli", ("textual",)),
    ],
)
def test_importing_a_layer_does_not_import_the_layers_above(module: str, forbidden: tuple) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK.format(module=module, forbidden=forbidden)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "", f"importing {module} pulled in {result.stdout.strip()}"


@pytest.mark.parametrize(
    "module", ["eventscope.store", "eventscope.store.errors", "eventscope.store.records"]
)
def test_the_store_package_and_its_records_import_no_database_layer(module: str) -> None:
    """`store/__init__` is lazy: errors and records (which every layer imports) must not
    pull in SQLAlchemy or a driver."""
    result = subprocess.run(
        [sys.executable, "-c", CHECK.format(module=module, forbidden=("sqlalchemy", "psycopg"))],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "", f"importing {module} pulled in {result.stdout.strip()}"


def test_nothing_outside_store_native_touches_the_event_stores_private_parts(
    tmp_path: Path,
) -> None:
    """EventStore is a facade; its insides (`_db`, and whatever private names it may
    grow) are store/native's own. Tests and other layers use its public API (`connect()`
    for inspection below it)."""
    from eventscope.store import EventStore

    store = EventStore.open(tmp_path / "s.db")
    private = {
        name
        for name in {*dir(type(store)), *vars(store)}
        if name.startswith("_") and not name.startswith("__")
    }
    store.close()
    assert private, "EventStore keeps its state in private attributes"
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in (".venv", "build") or relative.parts[:2] == ("store", "native"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in private
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                offenders.append(f"{relative}:{node.lineno} .{node.attr}")
    assert offenders == []
