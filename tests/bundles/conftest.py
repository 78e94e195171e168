"""Fixtures shared by the bundle tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from monai_mammo.data.datasets.training_sources import build_training_folds, write_training_datalists
from monai_mammo.data.phantom import write_phantom_dataset


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve phantom mammograms (three women, four views each: one woman per fold; seed 1 puts malignant
    and non-malignant views in the validation fold, so the validation AUC is defined) and their datalist."""
    return write_phantom_dataset(tmp_path_factory.mktemp("phantoms"), n_images=12, shape=(96, 80), seed=1)


@pytest.fixture(scope="session")
def real_test_folds(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The DDSM lesion boxes and mini-MIAS imported and split by woman exactly as both bundles' data step
    splits them (about 1,100 films, about a minute on 2 cores; built once for every test that uses it): the
    folder holding ``datalist.json`` (all folds), ``test_ddsm_boxes.json`` and ``test_mini_mias.json``."""
    data = tmp_path_factory.mktemp("real_folds")
    folds = build_training_folds(shared_data, data, sources=("ddsm_boxes", "mini_mias"))
    write_training_datalists(folds, data, "monai_mammo bundles")
    return data
