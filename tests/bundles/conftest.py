"""Fixtures shared by the bundle tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from monai_mammo.data.phantom import write_phantom_dataset


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve phantom mammograms (three women, four views each: one woman per fold; seed 1 puts malignant
    and non-malignant views in the validation fold, so the validation AUC is defined) and their datalist."""
    return write_phantom_dataset(tmp_path_factory.mktemp("phantoms"), n_images=12, shape=(96, 80), seed=1)
