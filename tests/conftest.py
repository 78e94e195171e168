"""Shared fixtures: the read-only real data beside the project (``../shared/data``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SHARED_DATA = Path(os.environ.get("MONAI_MAMMO_SHARED_DATA", DEFAULT_SHARED_DATA)).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real mammograms (see ../shared/data/README.md); skips when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder not found at {SHARED_DATA} (set MONAI_MAMMO_SHARED_DATA)")
    return SHARED_DATA


def _system_tool(name: str, package: str) -> str:
    """The path of a system program the tests need; skips when it is absent, except in CI (``CI=true``),
    where ``.ci/run`` installs it and its absence is a failure."""
    import shutil

    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{name} is missing in CI: .ci/run installs Debian's {package} package")
        pytest.skip(f"{name} not installed (apt-get install {package}); CI installs it")
    return path


@pytest.fixture(scope="session")
def dciodvfy():
    """A function that checks a DICOM file with David Clunie's ``dciodvfy`` (dicom3tools) and returns its
    error lines (empty: valid); skips without dicom3tools."""
    import subprocess

    program = _system_tool("dciodvfy", "dicom3tools")

    def check(path: Path) -> list[str]:
        result = subprocess.run([program, str(path)], capture_output=True, text=True, timeout=120)
        lines = (result.stdout + result.stderr).splitlines()
        return [line for line in lines if line.startswith("Error")]

    return check


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of a headless-capable Chromium; skips without it."""
    return _system_tool("chromium", "chromium")
