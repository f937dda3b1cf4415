"""The one-way rule: explorer -> domain -> store. Checked in a fresh interpreter, because
an import anywhere in this test process would hide a violation."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = """
import sys
import {module}
print(",".join(sorted(name for name in {forbidden!r} if name in sys.modules)))
"""


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("store", ("domain", "explorer", "textual", "rich", "demo_data")),
        ("domain", ("explorer", "textual", "rich", "demo_data")),
        ("explorer.cli", ("textual",)),
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
