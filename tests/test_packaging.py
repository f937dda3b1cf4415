"""eventscope's import names are its own (`eventscope.store`, `eventscope.domain`, ...),
mapped onto the repository's folders by pyproject.toml, so an audited application's own
`store` or `domain` package cannot shadow them."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("store", "domain", "explorer", "demo_data")


def test_every_package_folder_is_listed_for_installation() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        "eventscope." + ".".join(init.parent.relative_to(ROOT).parts)
        for folder in FOLDERS
        for init in (ROOT / folder).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert on_disk - listed == set(), "package folders missing from pyproject.toml"
    assert listed - on_disk == set(), "pyproject.toml lists packages that do not exist"


def test_an_applications_store_and_domain_packages_cannot_shadow_eventscopes(
    tmp_path: Path,
) -> None:
    for name in ("store", "domain", "explorer"):
        package = tmp_path / name
        package.mkdir()
        (package / "__init__.py").write_text("raise SystemExit('the application ran')\n")
    code = (
        "import eventscope.store, eventscope.domain, eventscope.explorer.cli, sys\n"
        "print(eventscope.store.__file__)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "the application ran" not in result.stdout + result.stderr
    assert not Path(result.stdout.strip()).is_relative_to(tmp_path)
