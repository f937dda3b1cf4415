"""Shared evidence fixtures: the small demo store (built once per module, never written
after) and helpers to run the CLI and the standalone verifier."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from eventscope.demo_data import build_fixture_store
from eventscope.explorer.cli import main


@pytest.fixture(scope="session", autouse=True)
def private_access_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Exports record themselves in the access log: keep it out of the real user data
    folder. Tests that inspect the log point EVENTSCOPE_ACCESS_LOG at their own file."""
    path = tmp_path_factory.mktemp("access-log") / "access-log.jsonl"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EVENTSCOPE_ACCESS_LOG", str(path))
        yield path


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("evidence") / "demo.db"
    build_fixture_store(path)
    return str(path)


def run(*args: str) -> tuple[int, str, str]:
    """The `eventscope` CLI in-process: (exit code, stdout, stderr). An exception that
    escaped the CLI (a traceback a user would see) is re-raised, failing the test."""
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def unzip(bundle: Path, folder: Path) -> Path:
    folder.mkdir()
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(folder)
    return folder


def run_verifier(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The bundle's own verify_bundle.py in an isolated interpreter with no site-packages
    (`-I -S`), from the unzipped folder: proof that it needs only the standard library."""
    return subprocess.run(
        [sys.executable, "-I", "-S", str(folder / "verify_bundle.py"), *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load_verifier(folder: Path) -> ModuleType:
    """Import the bundle's verify_bundle.py (for many checks without a subprocess each)."""
    spec = importlib.util.spec_from_file_location("bundle_verifier", folder / "verify_bundle.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
