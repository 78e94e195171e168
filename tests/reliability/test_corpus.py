"""The bad-input corpus (``corpus.py``) through every layer that reads user files: the readers under MONAI's
``LoadImaged``, the importers' decoding and report, the segmentation bundle's training preprocessing, and
the bundle's inference over a folder with ``python -m monai.bundle run``.

Each bad file must give its typed error, naming the file and the cause; a batch finishes the good files and
lists every failure; nothing written is half-written.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
import torch
from corpus import BAD, BLANK, CASES, GOOD, Case, pair_corpus
from monai.bundle import ConfigParser
from monai.data import Dataset
from monai.transforms import Compose, LoadImaged
from PIL import Image
from results import record

from monai_mammo.data import (
    FailureSkippingDataLoader,
    MammoAutoReader,
    MammoDicomReader,
    MammoReadError,
    root_cause,
)
from monai_mammo.data.datasets import prepare_dataset
from monai_mammo.data.datasets.cache import decode_image
from monai_mammo.data.datasets.prepare import report_path
from monai_mammo.data.errors import BlankImageError, ImageTooLargeError
from monai_mammo.transforms import RejectBlankImaged

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / "bundles" / "mammo_lesion_segmentation" / "configs"
DOCS = REPO / "docs" / "reliability.md"
OUTPUTS = {"mask.nii.gz", "mask.png", "prob.nii.gz", "overlay.png", "lesions.csv"}


def check_error(error: BaseException, case: Case, path: Path) -> None:
    """``error`` is exactly the case's type and its message names the file and matches the cause."""
    assert type(error) is case.error, f"{case.name}: {type(error).__name__}: {error}"
    message = str(error)
    if isinstance(error, MammoReadError):
        assert message.startswith(f"{path}: ") and error.filename == str(path)
    else:
        assert str(path) in message
    assert re.search(case.cause, message), f"{case.name}: {message!r} does not match {case.cause!r}"


@pytest.mark.parametrize("case", BAD, ids=lambda c: c.name)
def test_reader_gives_the_typed_error_without_allocating(corpus, case: Case) -> None:
    root, _ = corpus
    path = root / case.name
    tracemalloc.start()
    try:
        with pytest.raises(Exception) as info:
            LoadImaged(keys="image", reader=MammoAutoReader())({"image": str(path)})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    check_error(info.value, case, path)
    size = path.stat().st_size if path.exists() else 0
    # refused before any pixel buffer: a bomb costs less than 1 MiB, any bad file a few times its size
    assert peak < (2**20 if case.error is ImageTooLargeError else 4 * size + 8 * 2**20), f"{peak:,} bytes"
    # inside a Compose, MONAI wraps the error; the failure record finds it again
    with pytest.raises(RuntimeError) as wrapped:
        Compose([LoadImaged(keys="image", reader=MammoAutoReader())])({"image": str(path)})
    assert type(root_cause(wrapped.value)) is case.error
    if path.suffix == ".dcm":  # the DICOM reader on its own gives the same error
        with pytest.raises(case.error):
            LoadImaged(keys="image", reader=MammoDicomReader())({"image": str(path)})


@pytest.mark.parametrize("case", GOOD + BLANK, ids=lambda c: c.name)
def test_good_files_read_and_blank_ones_are_refused_after_loading(corpus, case: Case) -> None:
    root, _ = corpus
    path = root / case.name
    data = LoadImaged(keys="image", reader=MammoAutoReader())({"image": str(path)})
    image = data["image"]
    assert image.ndim == 3 and image.shape[0] == 1 and image.dtype == torch.float32
    assert torch.isfinite(image).all()
    if case.kind == "blank":
        with pytest.raises(BlankImageError) as info:
            RejectBlankImaged(keys="image")(data)
        check_error(info.value, case, path)
        return
    assert RejectBlankImaged(keys="image")(data)["image"] is image
    if case.name.endswith(".dcm"):
        assert image.meta["laterality"] in ("L", "R")
    if case.name == "good_no_laterality_tags.dcm":  # no tag, no text: the side comes from the image
        assert (image.meta["laterality"], image.meta["laterality_source"]) == ("L", "image")
        assert image.meta["view_position"] == "UNKNOWN"


def _importer_case(case: Case) -> tuple[type[BaseException] | None, str]:
    """What the importers' decode gives: the same typed error; a missing file is a MammoReadError."""
    if case.error is FileNotFoundError:
        return MammoReadError, "cannot be decoded \\(FileNotFoundError"
    return case.error, case.cause


@pytest.mark.parametrize(
    "case", [c for c in CASES if not c.name.endswith((".nii", ".nii.gz"))], ids=lambda c: c.name
)
def test_importer_decode_gives_the_same_typed_error(corpus, case: Case) -> None:
    """The cached import (``monai-mammo prepare --cache``) decodes with the same readers: same errors."""
    root, _ = corpus
    path = root / case.name
    if case.kind == "good":
        image = decode_image(path)
        assert image.ndim == 2 and image.dtype == np.float32 and 0.0 <= image.min() < image.max() <= 1.0
        return
    error, cause = _importer_case(case)
    with pytest.raises(MammoReadError) as info:
        decode_image(path)
    check_error(info.value, Case(case.name, case.what, case.kind, error, cause), path)


def test_importer_reports_every_bad_film_and_keeps_the_others(shared_data: Path, corpus, tmp_path) -> None:
    """A real mini-MIAS tree in which five films are damaged, blank or gone: the import finishes and its
    report lists each of them with its error type."""
    root, _ = corpus
    source = shared_data / "mini_mias"
    rows = [line for line in (source / "Info.txt").read_text().splitlines() if line.startswith("mdb")]
    names = sorted({line.split()[0] for line in rows})[:12]
    tree = tmp_path / "mias"
    tree.mkdir()
    (tree / "Info.txt").write_text("\n".join(r for r in rows if r.split()[0] in names) + "\n")
    for name in names:
        shutil.copyfile(source / "images" / f"{name}.png", tree / f"{name}.png")
    damaged = {
        names[1]: ("truncated.png", "TruncatedFileError"),
        names[2]: ("bomb_60000.png", "ImageTooLargeError"),
        names[3]: ("colour_mask.png", "UnsupportedImageError"),
        names[4]: ("blank.png", "BlankImageError"),
    }
    for name, (corpus_file, _) in damaged.items():
        shutil.copyfile(root / corpus_file, tree / f"{name}.png")
    (tree / f"{names[5]}.png").unlink()  # listed in Info.txt, gone from the disk
    out = prepare_dataset(
        "mini_mias", root=tree, out=tmp_path / "d.json", cache_dir=tmp_path / "c", workers=1, progress=False
    )
    report = json.loads(report_path(out).read_text())
    assert {f["key"]: f["error_type"] for f in report["failed"]} == {k: v[1] for k, v in damaged.items()}
    assert all(f"{k}.png" in f["error"] for f in report["failed"] for k in [f["key"]])
    assert report["issue_counts"]["missing_image"] == 1 and names[5] in json.dumps(report["issues"])
    datalist = json.loads(out.read_text())
    kept = {i["image_id"] for fold in ("training", "validation", "test") for i in datalist[fold]}
    assert kept == set(names) - set(damaged) - {names[5]}


def test_training_preprocessing_refuses_a_mask_of_another_size_and_a_blank_image(
    shared_data: Path, tmp_path: Path
) -> None:
    """The segmentation bundle's own train.json preprocessing over image/mask pairs, in a batch."""
    items = pair_corpus(shared_data, tmp_path)
    parser = ConfigParser()
    parser.read_config(str(CONFIGS / "train.json"))
    parser["image_size"] = 128
    transform = Compose(parser.get_parsed_content("train#deterministic_transforms"))
    loader = FailureSkippingDataLoader(
        Dataset([{k: v for k, v in i.items() if k != "case"} for i in items], transform),
        keys=["image", "label"],
        report_path=tmp_path / "failures.json",
    )
    batches = list(loader)
    assert len(batches) == 1 and batches[0]["label"].shape[-2:] == batches[0]["image"].shape[-2:]
    report = json.loads((tmp_path / "failures.json").read_text())
    assert report["n_items"] == 3 and report["n_failed"] == 2
    by_error = {f["error"]: f["message"] for f in report["failures"]}
    assert set(by_error) == {"SizeMismatchError", "BlankImageError"}
    assert by_error["SizeMismatchError"].startswith(f"{items[1]['label']}: (key 'label') has size (512, 512)")
    assert f"but {items[1]['image']} (key 'image') has (1024, 1024)" in by_error["SizeMismatchError"]
    assert by_error["BlankImageError"].startswith(f"{items[2]['image']}: is blank")


def _parses(path: Path) -> None:
    """Read every byte of an output the way a viewer would (a half-written file fails here)."""
    if path.suffix == ".png":
        with Image.open(path) as im:
            im.load()
    elif path.name.endswith(".nii.gz"):
        assert np.isfinite(np.asarray(nib.load(path).dataobj)).all()
    elif path.suffix in (".csv",):
        with path.open() as f:
            rows = list(csv.reader(f))
        assert rows and all(len(r) == len(rows[0]) for r in rows)
    elif path.suffix == ".json":
        json.loads(path.read_text())
    elif path.suffix == ".dcm":  # DICOM SEG / SR of a DICOM input
        assert pydicom.dcmread(path).SOPClassUID
    else:
        raise AssertionError(f"unexpected output {path}")


def test_bundle_inference_over_the_corpus_folder(corpus, tmp_path: Path) -> None:
    """``python -m monai.bundle run`` over the whole corpus: every good file gets its outputs, failures.json
    lists every other file with its cause, and every file written parses."""
    root, cases = corpus
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "monai.bundle",
        "run",
        "--config_file",
        str(CONFIGS / "inference.json"),
        "--meta_file",
        str(CONFIGS / "metadata.json"),
        "--logging_file",
        str(CONFIGS / "logging.conf"),
        "--dataset_dir",
        str(root),
        "--output_dir",
        str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "2", "CUDA_VISIBLE_DEVICES": ""}
    start = time.monotonic()
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - start
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    report = json.loads((out / "failures.json").read_text())
    assert report["n_items"] == len(cases) and report["n_failed"] == len(BAD) + len(BLANK)
    failed = {Path(f["source"]).name: f for f in report["failures"]}
    assert set(failed) == {c.name for c in BAD + BLANK}
    for name, failure in failed.items():
        case = cases[name]
        assert failure["error"] == case.error.__name__, failure
        assert str(root / name) in failure["message"] and re.search(case.cause, failure["message"]), failure

    with (out / "summary.csv").open() as f:
        written = {Path(r["source"]).name: r["name"] for r in csv.DictReader(f)}
    assert set(written) == {c.name for c in GOOD}
    # good_mias.nii.gz and good_mias.png would share a folder: each keeps its own
    assert written["good_mias.nii.gz"] == "good_mias" and written["good_mias.png"] == "good_mias_png"
    folders = {p.name for p in out.iterdir() if p.is_dir()} - {"dicom_sr"}  # the SRs of DICOM exams
    assert folders == set(written.values())
    for source, name in written.items():
        dicom = {"seg.dcm"} if source.endswith(".dcm") else set()  # a DICOM SEG for a DICOM input
        assert {p.name for p in (out / name).iterdir()} == OUTPUTS | dicom, source
        mask = np.asarray(Image.open(out / name / "mask.png"))
        image = LoadImaged(keys="image", reader=MammoAutoReader())({"image": str(root / source)})["image"]
        assert mask.shape == tuple(image.shape[1:]), source  # in the original geometry
    every = [p for p in out.rglob("*") if p.is_file()]
    assert not [p for p in every if p.suffix == ".tmp" or p.name.startswith(".")]
    for path in every:
        _parses(path)
    record(
        "corpus",
        {
            "cases": len(cases),
            "good": len(GOOD),
            "bad": len(BAD),
            "blank": len(BLANK),
            "bundle_run_seconds": round(seconds, 1),
            "files_written": len(every),
        },
    )


def test_the_docs_list_every_corpus_case() -> None:
    text = DOCS.read_text()
    missing = [c.name for c in CASES if f"`{c.name}`" not in text]
    assert not missing, f"{DOCS} does not list {missing}"
