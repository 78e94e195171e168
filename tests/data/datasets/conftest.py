"""Fixtures: fresh data set trees in each public set's exact layout (builders in ``dataset_trees.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataset_trees import (
    build_cbis_ddsm,
    build_cmmd,
    build_ddsm_boxes,
    build_inbreast,
    build_mini_mias,
    build_rsna,
    build_vindr,
)


@pytest.fixture
def mini_mias_tree(tmp_path: Path) -> Path:
    return build_mini_mias(tmp_path / "all-mias")


@pytest.fixture
def cbis_tree(tmp_path: Path) -> Path:
    return build_cbis_ddsm(tmp_path / "cbis")["root"]


@pytest.fixture
def vindr_tree(tmp_path: Path) -> Path:
    return build_vindr(tmp_path / "vindr-mammo")


@pytest.fixture
def inbreast_tree(tmp_path: Path) -> Path:
    return build_inbreast(tmp_path / "INbreast")


@pytest.fixture
def rsna_tree(tmp_path: Path) -> Path:
    return build_rsna(tmp_path / "rsna-breast-cancer-detection")


@pytest.fixture
def cmmd_tree(tmp_path: Path) -> Path:
    pytest.importorskip("openpyxl", reason="writing/reading CMMD's .xlsx needs openpyxl")
    return build_cmmd(tmp_path / "cmmd")


@pytest.fixture
def cmmd_tree_csv(tmp_path: Path) -> Path:
    return build_cmmd(tmp_path / "cmmd_csv", clinical="csv")


@pytest.fixture
def ddsm_boxes_tree(tmp_path: Path) -> Path:
    return build_ddsm_boxes(tmp_path / "ddsm_boxes")
