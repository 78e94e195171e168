"""SkipFailedItems / FailureSkippingDataLoader: bad files are reported and skipped, good ones go through."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from monai.data import Dataset
from monai.transforms import Compose, Lambda, LoadImaged

from monai_mammo.data import (
    FailureSkippingCacheDataset,
    FailureSkippingDataLoader,
    ItemFailure,
    MammoAutoReader,
    SkipFailedItems,
    root_cause,
)
from monai_mammo.data.errors import MammoReadError, NotDicomError
from monai_mammo.data.phantom import make_phantom, write_phantom_dicom


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    """Two good phantom DICOMs, a text file named .dcm and a truncated DICOM, in that order."""
    root = tmp_path_factory.mktemp("inputs")
    good = []
    for k, side in enumerate("LR"):
        path = write_phantom_dicom(make_phantom((64, 64), seed=k, laterality=side), root / f"good_{side}.dcm")
        good.append(path)
    (root / "notes.dcm").write_text("not a mammogram")
    (root / "cut.dcm").write_bytes(Path(good[0]).read_bytes()[:3000])
    names = [good[0], root / "notes.dcm", good[1], root / "cut.dcm"]
    return [{"image": str(p)} for p in names]


def load() -> LoadImaged:
    return LoadImaged(keys="image", reader=MammoAutoReader())


def test_root_cause_finds_the_typed_error_under_monai_wrapping() -> None:
    typed = NotDicomError("x.dcm", "is not DICOM.")
    try:
        try:
            raise typed
        except MammoReadError as e:
            raise RuntimeError("applying transform <LoadImaged>") from e
    except RuntimeError as wrapped:
        assert root_cause(wrapped) is typed
    plain = KeyError("k")
    assert root_cause(plain) is plain


def test_skip_failed_items_turns_errors_into_records(folder: list[dict[str, str]]) -> None:
    dataset = SkipFailedItems(Dataset(folder, load()), keys="image")
    assert len(dataset) == 4
    assert isinstance(dataset[0], dict) and tuple(dataset[0]["image"].shape) == (1, 64, 64)
    failure = dataset[1]
    assert isinstance(failure, ItemFailure)
    assert failure.index == 1 and failure.source == folder[1]["image"]
    assert failure.error == "NotDicomError" and "notes.dcm" in failure.message


def test_errors_outside_catch_propagate(folder: list[dict[str, str]]) -> None:
    dataset = SkipFailedItems(Dataset(folder, load()), keys="image", catch=(KeyError,))
    with pytest.raises(RuntimeError):
        dataset[1]


@pytest.mark.parametrize("num_workers", [0, 2])
def test_loader_yields_good_batches_and_writes_the_report(
    folder: list[dict[str, str]], tmp_path: Path, num_workers: int
) -> None:
    report = tmp_path / "failures.json"
    loader = FailureSkippingDataLoader(
        Dataset(folder, load()), keys="image", report_path=report, batch_size=2, num_workers=num_workers
    )
    batches = list(loader)
    images = torch.cat([b["image"] for b in batches])
    assert images.shape == (2, 1, 64, 64)  # the two good files, whatever batch they fell in
    written = json.loads(report.read_text())
    assert written["n_items"] == 4 and written["n_failed"] == 2
    assert [Path(f["source"]).name for f in written["failures"]] == ["notes.dcm", "cut.dcm"]
    assert {f["error"] for f in written["failures"]} <= {"NotDicomError", "TruncatedFileError"}
    assert not list(tmp_path.glob(".*"))  # no temporary file left beside the report


def test_loader_report_is_written_with_no_failure(folder: list[dict[str, str]], tmp_path: Path) -> None:
    loader = FailureSkippingDataLoader(Dataset([folder[0]], load()), report_path=tmp_path / "r.json")
    assert len(list(loader)) == 1
    assert json.loads((tmp_path / "r.json").read_text()) == {"n_items": 1, "n_failed": 0, "failures": []}


def test_loader_refuses_sampler_with_shuffle(folder: list[dict[str, str]]) -> None:
    with pytest.raises(ValueError, match="sampler"):
        FailureSkippingDataLoader(Dataset(folder, load()), sampler=[0, 1], shuffle=True)


def test_cache_dataset_leaves_out_the_bad_films_and_reports_them(
    folder: list[dict[str, str]], tmp_path: Path
) -> None:
    report = tmp_path / "out" / "training_failures.json"
    dataset = FailureSkippingCacheDataset(folder, Compose([load()]), keys="image", report_path=report)
    assert len(dataset) == 2
    assert [d["image"] for d in dataset.data] == [folder[0]["image"], folder[2]["image"]]
    assert tuple(dataset[1]["image"].shape) == (1, 64, 64)
    written = json.loads(report.read_text())
    assert (written["n_items"], written["n_failed"]) == (4, 2)
    assert [(f["index"], f["error"]) for f in written["failures"]] == [
        (1, "NotDicomError"),
        (3, "TruncatedFileError"),
    ]
    assert all(f["message"].startswith(f["source"]) for f in written["failures"])


def test_cache_dataset_refuses_a_mostly_unreadable_datalist(folder: list[dict[str, str]]) -> None:
    with pytest.raises(RuntimeError, match="2 of 4 items could not be read.*notes.dcm"):
        FailureSkippingCacheDataset(folder, Compose([load()]), keys="image", max_failed_fraction=0.25)


def test_cache_dataset_stops_on_errors_that_are_not_about_a_file(folder: list[dict[str, str]]) -> None:
    def broken(item: dict) -> dict:
        raise ZeroDivisionError("a bug in a transform")

    with pytest.raises(RuntimeError) as info:
        FailureSkippingCacheDataset(folder[:1], Compose([load(), Lambda(broken)]), keys="image")
    assert isinstance(root_cause(info.value), ZeroDivisionError)


@pytest.mark.parametrize(
    "kwargs", [{"cache_rate": 0.5}, {"cache_num": 1}, {"runtime_cache": True}, {"max_failed_fraction": 2.0}]
)
def test_cache_dataset_settings_that_would_leave_items_unchecked(
    folder: list[dict[str, str]], kwargs: dict
) -> None:
    with pytest.raises(ValueError):
        FailureSkippingCacheDataset(folder, Compose([load()]), keys="image", **kwargs)
