from __future__ import annotations

from pathlib import Path

import pytest

from monai_mammo.data.datasets.files import find_files


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for rel in (
        "b/table.csv",
        "a/x/table.csv",
        "a/x/deep/table.csv",
        "images/table.csv",
        "table.csv",
        "a/other.txt",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    return tmp_path


def test_root_first_then_folders_in_name_order(tree: Path) -> None:
    found = [p.relative_to(tree).as_posix() for p in find_files(tree, lambda n: n == "table.csv")]
    assert found == ["table.csv", "a/x/table.csv", "a/x/deep/table.csv", "b/table.csv", "images/table.csv"]


def test_depth_and_skipped_folders(tree: Path) -> None:
    def names(**kw):
        return [p.relative_to(tree).as_posix() for p in find_files(tree, lambda n: n == "table.csv", **kw)]

    assert names(max_depth=1) == ["table.csv", "b/table.csv", "images/table.csv"]
    assert names(max_depth=2, skip_dir=lambda d: d == "images") == [
        "table.csv",
        "a/x/table.csv",
        "b/table.csv",
    ]
    assert names(max_depth=0) == ["table.csv"]
    assert next(find_files(tree, lambda n: n == "missing.csv"), None) is None
