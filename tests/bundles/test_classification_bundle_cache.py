"""mammo_classification with ``--cache_dir`` (PreprocessedCacheDataset) and ``--device_augmentation``.

The default run (``cache_dir`` null) is covered by test_classification_bundle.py and stays a
FailureSkippingCacheDataset fed by a ThreadDataLoader without workers. Here the overrides switch to the
on-disk cache (filled by the first run, found by the second and by ``monai-mammo cache build``) and to the
augmentation in ``prepare_batch``; the patches (RandLesionPatchd) are still cut per item from the cached
image, the class-and-source sampler is built from the cached dataset's items, and the patch class
(PatchClassd) is decided after the augmentation on either path.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from bundle_helpers import TINY_RUNS, bundle_workflow, tiny_train_parser
from monai.engines import default_prepare_batch

from monai_mammo.cli import main
from monai_mammo.data import FailureSkippingCacheDataset, PreprocessedCacheDataset, class_source_weights
from monai_mammo.engines import DeviceAugmentation

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "bundles" / "mammo_classification"
TRAIN = str(BUNDLE / "configs" / "train.json")
TINY = TINY_RUNS[BUNDLE.name]
BATCH_TRANSFORMS = ["RandFlipd", "RandVendorLookd", "RandAffined", "RandGaussianNoised", "PatchClassd"]


def n_entries(cache: Path) -> int:
    return len(list(cache.rglob("entry.json")))


def test_the_default_is_unchanged(tiny_data: Path, tmp_path: Path) -> None:
    parser = tiny_train_parser(BUNDLE, tiny_data, tmp_path)
    assert parser["cache_dir"] is None and parser["device_augmentation"] is False
    assert isinstance(parser.get_parsed_content("train#dataset"), FailureSkippingCacheDataset)
    assert isinstance(parser.get_parsed_content("validate#dataset"), FailureSkippingCacheDataset)
    assert parser.get_parsed_content("train#preprocessed_dataset") is None
    loader = parser.get_parsed_content("train#dataloader")
    assert (loader.num_workers, loader.pin_memory, loader.persistent_workers) == (0, False, False)
    names = [type(t).__name__ for t in parser.get_parsed_content("train#random_transforms")]
    assert names == ["SpatialPadd", "RandLesionPatchd", "DeleteItemsd", *BATCH_TRANSFORMS]
    assert parser.get_parsed_content("train#trainer").prepare_batch is default_prepare_batch


def test_a_run_fills_the_cache_and_the_next_one_finds_it(tiny_data: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    datalist = json.loads(tiny_data.read_text())
    n_train = len(datalist["training"])
    n_validate = sum(int(d.get("class", -1)) >= 0 for d in datalist["validation"])

    first = bundle_workflow(
        BUNDLE, TRAIN, "train", datalist=str(tiny_data), output_dir=str(tmp_path / "a"), cache_dir=str(cache),
        **TINY,
    )  # fmt: skip
    dataset = first.parser.get_parsed_content("train#dataset")
    assert isinstance(dataset, PreprocessedCacheDataset) and dataset.n_written == n_train
    assert first.parser.get_parsed_content("validate#dataset").n_written == n_validate
    assert n_entries(cache) == n_train + n_validate
    sampler = first.parser.get_parsed_content("train#sampler")
    assert sampler.weights.tolist() == torch.tensor(class_source_weights(dataset.data)).tolist()
    assert len(sampler.weights) == len(dataset) == n_train
    patches = dataset[0]  # cut per item from the cached image; the class decided per patch
    assert len(patches) == TINY["num_samples"]
    assert all(p["image"].shape == (1, *TINY["patch_size"]) and p["label"].ndim == 0 for p in patches)
    first.run()
    first.finalize()
    assert (tmp_path / "a" / "model.pt").is_file()

    second = bundle_workflow(
        BUNDLE, TRAIN, "train", datalist=str(tiny_data), output_dir=str(tmp_path / "b"), cache_dir=str(cache),
        device_augmentation=True, **TINY,
    )  # fmt: skip
    assert second.parser.get_parsed_content("train#dataset").n_written == 0  # every entry found
    assert second.parser.get_parsed_content("validate#dataset").n_written == 0
    names = [type(t).__name__ for t in second.parser.get_parsed_content("train#random_transforms")]
    assert names == ["SpatialPadd", "RandLesionPatchd", "DeleteItemsd"]  # the rest runs on the batch
    trainer = second.parser.get_parsed_content("train#trainer")
    assert isinstance(trainer.prepare_batch, DeviceAugmentation)
    batch = next(iter(second.parser.get_parsed_content("train#dataloader")))
    n_patches = TINY["batch_size"] * TINY["num_samples"]  # each image's patches, flattened into the batch
    assert batch["label"].shape == (n_patches, 1, *TINY["patch_size"])  # masks until the device
    image, label = trainer.prepare_batch(batch, torch.device("cpu"))
    assert image.shape == (n_patches, 1, *TINY["patch_size"])
    assert label.shape == (n_patches,) and label.dtype == torch.long
    assert set(label.tolist()) <= {0, 1, 2, second.parser["ignore_index"]}
    second.run()
    second.finalize()
    assert (tmp_path / "b" / "model.pt").is_file()
    assert json.loads((tmp_path / "b" / "training_failures.json").read_text())["n_failed"] == 0
    assert n_entries(cache) == n_train + n_validate


def test_the_command_builds_what_the_run_reads(tiny_data: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    overrides = [
        "--set",
        f"image_size={json.dumps(TINY['image_size'])}",
        "--set",
        f"datalist={json.dumps(str(tiny_data))}",
    ]
    assert (
        main(
            [
                "cache",
                "build",
                "--config_file",
                TRAIN,
                "--cache_dir",
                str(cache),
                "--workers",
                "0",
                *overrides,
            ]
        )
        == 0
    )
    datalist = json.loads(tiny_data.read_text())
    n_train = len(datalist["training"])
    n_validate = sum(int(d.get("class", -1)) >= 0 for d in datalist["validation"])
    # training items (image, lesion mask, breast mask) and validation items (image) have their own chains
    assert len({p.parent.parent.parent for p in cache.rglob("entry.json")}) == 2
    assert n_entries(cache) == n_train + n_validate
    parser = tiny_train_parser(BUNDLE, tiny_data, tmp_path / "run", cache_dir=str(cache))
    assert parser.get_parsed_content("train#dataset").n_written == 0
    assert parser.get_parsed_content("validate#dataset").n_written == 0
