"""Fixtures of the reliability tests: the bad-input corpus, written once per session from ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import Case, build_corpus


@pytest.fixture(scope="session")
def corpus(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Case]]:
    """The corpus folder and its cases (skips, through ``shared_data``, when the real data is absent)."""
    root = tmp_path_factory.mktemp("corpus") / "inputs"
    return root, build_corpus(shared_data, root)
