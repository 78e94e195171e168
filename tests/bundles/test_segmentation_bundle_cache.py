"""mammo_lesion_segmentation with ``--cache_dir`` (PreprocessedCacheDataset) and ``--device_augmentation``.

The default run (``cache_dir`` null) is covered by test_segmentation_bundle.py and stays a
FailureSkippingCacheDataset fed by a ThreadDataLoader without workers; here the overrides switch to the
on-disk cache (filled by the first run, found by the second and by ``monai-mammo cache build``) and to the
augmentation in ``prepare_batch``.
"""

from __future__ import annotations

import json
from pathlib import Path

from bundle_helpers import TINY_RUNS, bundle_workflow, tiny_train_parser
from monai.engines import default_prepare_batch

from monai_mammo.cli import main
from monai_mammo.data import FailureSkippingCacheDataset, PreprocessedCacheDataset
from monai_mammo.engines import DeviceAugmentation

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "bundles" / "mammo_lesion_segmentation"
TRAIN = str(BUNDLE / "configs" / "train.json")
TINY = TINY_RUNS[BUNDLE.name]


def test_the_default_is_unchanged(tiny_data: Path, tmp_path: Path) -> None:
    parser = tiny_train_parser(BUNDLE, tiny_data, tmp_path)
    assert parser["cache_dir"] is None and parser["device_augmentation"] is False
    assert isinstance(parser.get_parsed_content("train#dataset"), FailureSkippingCacheDataset)
    assert parser.get_parsed_content("train#preprocessed_dataset") is None
    loader = parser.get_parsed_content("train#dataloader")
    assert (loader.num_workers, loader.pin_memory, loader.persistent_workers) == (0, False, False)
    names = [type(t).__name__ for t in parser.get_parsed_content("train#random_transforms")]
    assert names == [
        "SpatialPadd", "RandLesionPatchd", "DeleteItemsd", "RandFlipd", "RandAffined", "RandAdjustContrastd",
        "RandGaussianNoised",
    ]  # fmt: skip
    assert parser.get_parsed_content("train#trainer").prepare_batch is default_prepare_batch


def test_training_from_a_cache_built_by_the_command(tiny_data: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    overrides = [
        "--set",
        f"image_size={TINY['image_size']}",
        "--set",
        f"datalist={json.dumps(str(tiny_data))}",
    ]
    assert main(["cache", "build", "--config_file", TRAIN, "--cache_dir", str(cache), *overrides]) == 0
    datalist = json.loads(tiny_data.read_text())
    n_items = len(datalist["training"]) + len(datalist["validation"])  # validation items carry no 'lesion'
    assert len(list(cache.rglob("entry.json"))) == n_items
    run = {"datalist": str(tiny_data), "output_dir": str(tmp_path / "run"), "cache_dir": str(cache)}
    workflow = bundle_workflow(BUNDLE, TRAIN, "train", device_augmentation=True, **run, **TINY)
    dataset = workflow.parser.get_parsed_content("train#dataset")
    assert isinstance(dataset, PreprocessedCacheDataset) and dataset.n_written == 0  # all found
    assert workflow.parser.get_parsed_content("validate#dataset").n_written == 0
    assert isinstance(workflow.parser.get_parsed_content("train#trainer").prepare_batch, DeviceAugmentation)
    workflow.run()
    workflow.finalize()
    assert (tmp_path / "run" / "model.pt").is_file()
    assert json.loads((tmp_path / "run" / "training_failures.json").read_text())["n_failed"] == 0
    assert len(list(cache.rglob("entry.json"))) == n_items
