"""The issue's acceptance check: a bundle trains from a datalist the importer wrote (real mini-MIAS films)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from dataset_trees import mini_mias_subset

from monai_mammo.data.datasets import prepare_dataset

BUNDLE = Path(__file__).resolve().parents[3] / "bundles" / "mammo_lesion_segmentation"


@pytest.mark.slow  # one training epoch of the segmentation bundle on CPU: about a minute
@pytest.mark.skipif(
    not (BUNDLE / "configs" / "train.json").is_file(), reason="segmentation bundle not present"
)
def test_segmentation_bundle_trains_one_epoch_on_an_imported_mini_mias(shared_data, tmp_path):
    root = mini_mias_subset(shared_data / "mini_mias", tmp_path / "mias", n_images=24)  # 12 women
    datalist = prepare_dataset(
        "mini_mias",
        root=root,
        out=tmp_path / "prepared" / "datalist.json",
        cache_dir=tmp_path / "cache",
        size=(512, 416),
        workers=1,
        progress=False,
    )
    data = json.loads(datalist.read_text())
    assert data["training"] and data["validation"] and all("label" in i for i in data["training"])
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "monai.bundle",
            "run",
            "--config_file",
            "configs/train.json",
            "--bundle_root",
            str(BUNDLE),
            "--datalist",
            str(datalist),
            "--dataset_dir",
            str(datalist.parent),
            "--epochs",
            "1",
            "--output_dir",
            str(tmp_path / "run"),
        ],
        cwd=BUNDLE,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "run" / "model.pt").is_file()
    assert "val_mean_dice" in run.stdout + run.stderr
