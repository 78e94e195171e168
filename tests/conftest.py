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
