"""The real MONAI Label server with the monai_mammo app, on 127.0.0.1: info, inference on real mammograms,
bad requests, training from saved labels. The server runs from a MONAI Label environment (``tox -e label``, or
``.venv-label`` as docs/label.md builds it and ``.ci/run`` does in CI); skipped without one (a failure in CI).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))  # the bad-input corpus
from corpus import build_corpus  # noqa: E402
from dicomweb_server import dicomweb_server  # noqa: E402
from label_server import (  # noqa: E402
    CLASSIFICATION,
    PHANTOMS,
    REPO,
    SAMPLE,
    SEGMENTATION,
    Server,
    png,
    require_label_python,
    running_server,
    wait_for_training,
)

from monai_mammo.io import encode_png  # noqa: E402
from monai_mammo.label import write_label_app  # noqa: E402

MIAS = "mdb028"  # a real mini-MIAS mammogram with a circumscribed malignant mass
CBIS = "1-130"  # a real CBIS-DDSM DICOM (RLE, about 4500 x 2800)
LABEL_PYTHON = require_label_python()  # the server's and the compared bundle run's interpreter


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_label_app(tmp_path_factory.mktemp("label") / "app")


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    folder = tmp_path_factory.mktemp("studies")
    shutil.copy(shared_data / "mini_mias" / "images" / f"{MIAS}.png", folder)
    shutil.copy(shared_data / "cbis_ddsm" / "dicom" / f"{CBIS}.dcm", folder)
    for name in PHANTOMS:
        shutil.copy(SAMPLE / "images" / f"{name}.dcm", folder)
    return folder


@pytest.fixture(scope="module")
def server(app: Path, studies: Path) -> Iterator[Server]:
    with running_server(app, studies, app.parent / "server.log", python=LABEL_PYTHON) as running:
        yield running
    assert running.process.returncode is not None  # stopped


def bundle_mask(image: Path, out: Path) -> np.ndarray:
    """The mask ``python -m monai.bundle run`` of the segmentation bundle writes for ``image`` (0/1)."""
    folder = out / "input"
    folder.mkdir(parents=True)
    shutil.copy(image, folder)
    configs = REPO / "bundles" / SEGMENTATION / "configs"
    command = [str(LABEL_PYTHON), "-m", "monai.bundle", "run"]
    command += ["--config_file", str(configs / "inference.json")]
    command += ["--dataset_dir", str(folder), "--output_dir", str(out / "eval")]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return (np.array(Image.open(out / "eval" / image.stem / "mask.png")) > 0).astype(np.uint8)


def test_info_lists_both_models(server: Server) -> None:
    status, info = server.json("GET", "/info/")
    assert status == 200
    assert info["models"][SEGMENTATION]["type"] == "segmentation"
    assert info["models"][SEGMENTATION]["dimension"] == 2
    assert info["models"][SEGMENTATION]["labels"] == {"lesion": 1}
    assert info["models"][CLASSIFICATION]["type"] == "classification"
    assert set(info["models"][CLASSIFICATION]["labels"]) == {"normal", "benign", "malignant"}
    assert set(info["trainers"]) == {SEGMENTATION, CLASSIFICATION}
    assert info["datastore"]["total"] == 4  # the DICOM files are listed too


def test_segmentation_of_a_real_mammogram_is_the_bundles_own_in_the_original_geometry(
    server: Server, studies: Path, tmp_path: Path
) -> None:
    status, content, kind = server.request("POST", f"/infer/{SEGMENTATION}?image={MIAS}&output=image")
    assert status == 200 and kind == "image/png", content[:500]
    mask = png(content)
    assert mask.shape == (1024, 1024) and mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 1}
    expected = bundle_mask(studies / f"{MIAS}.png", tmp_path)
    assert np.mean(mask == expected) > 0.9999, "the server's mask differs from the bundle's"
    # mdb028: a 56-pixel-radius mass at x=338, y=314 from the bottom (row 710): the mask finds it
    rows, cols = np.nonzero(mask)
    assert mask.sum() > 1000
    assert np.any((rows - 710) ** 2 + (cols - 338) ** 2 < 56**2)

    status, result = server.json("POST", f"/infer/{SEGMENTATION}?image={MIAS}&output=json")
    assert status == 200
    assert result["image_shape"] == [1024, 1024]
    # the bundle's lesions.csv: no speck, at least 16 pixels of the 512-pixel working image (64 of these)
    assert result["lesions"] and all(row["area_px"] >= 64 for row in result["lesions"])
    assert sum(row["area_px"] for row in result["lesions"]) <= int(mask.sum())
    listed = sorted(row["area_px"] for row in result["lesions"])
    with (tmp_path / "eval" / MIAS / "lesions.csv").open() as f:
        assert listed == sorted(int(row["area_px"]) for row in csv.DictReader(f))
    assert all(row["area_mm2"] is None for row in result["lesions"])  # a PNG has no pixel spacing


def test_segmentation_of_a_full_field_dicom_keeps_its_rows_and_columns(server: Server, studies: Path) -> None:
    header = pydicom.dcmread(studies / f"{CBIS}.dcm", stop_before_pixels=True)
    status, content, _ = server.request("POST", f"/infer/{SEGMENTATION}?image={CBIS}&output=image")
    assert status == 200, content[:500]
    assert png(content).shape == (header.Rows, header.Columns)
    status, result = server.json("POST", f"/infer/{SEGMENTATION}?image={CBIS}&output=json")
    assert status == 200 and result["image_shape"] == [header.Rows, header.Columns]
    assert result["pixel_spacing"] == [None, None]  # these CBIS-DDSM files carry no pixel spacing
    status, result = server.json("POST", f"/infer/{SEGMENTATION}?image={PHANTOMS[0]}&output=json")
    assert status == 200 and all(0 < s < 1 for s in result["pixel_spacing"])  # mm, from PixelSpacing
    assert all(row["area_mm2"] > 0 for row in result["lesions"])


def test_classification_gives_class_probabilities(server: Server) -> None:
    status, result = server.json("POST", f"/infer/{CLASSIFICATION}?image={MIAS}&output=json")
    assert status == 200, result
    probabilities = result["probabilities"]
    assert set(probabilities) == {"normal", "benign", "malignant"}
    assert abs(sum(probabilities.values()) - 1.0) < 1e-4
    assert result["prediction"] == max(probabilities, key=probabilities.get)
    assert result["malignancy"] == probabilities["malignant"]
    assert result["heatmap_shape"] == [1024, 1024]
    status, content, kind = server.request("POST", f"/infer/{CLASSIFICATION}?image={MIAS}&output=image")
    assert status == 200 and kind == "image/png"
    heatmap = png(content)
    assert heatmap.shape == (1024, 1024) and heatmap.dtype == np.uint8 and heatmap.max() > 0


@pytest.mark.parametrize(
    "filename, content, cause",
    [
        ("not_an_image.png", b"hello, this is text", "UnsupportedImageError"),
        ("truncated.dcm", None, "TruncatedFileError"),
        ("notes.txt", b"a text file", "UnsupportedImageError"),
    ],
)
def test_a_bad_upload_is_a_4xx_with_the_reason_and_the_server_stays_up(
    server: Server, studies: Path, filename: str, content: bytes | None, cause: str
) -> None:
    if content is None:  # the first half of a real DICOM file
        content = (studies / f"{PHANTOMS[0]}.dcm").read_bytes()
        content = content[: len(content) // 2]
    status, body, _ = server.upload("POST", f"/infer/{SEGMENTATION}?output=json", "file", filename, content)
    assert status == 422, body[:500]
    detail = json.loads(body)["detail"]
    assert cause in detail
    assert server.request("GET", "/info/")[0] == 200


def test_the_bad_input_corpus_uploaded_gets_the_readers_own_errors(
    server: Server, shared_data: Path, tmp_path: Path
) -> None:
    """Every file of tests/reliability's corpus, uploaded to /infer: good files answer, bad and blank ones get
    a 422 naming the exact error type the reader raises, and the server stays up."""
    cases = build_corpus(shared_data, tmp_path / "corpus")
    answered = 0
    for name, case in cases.items():
        path = tmp_path / "corpus" / name
        if case.error is FileNotFoundError:  # a dangling link: there is nothing to upload
            continue
        status, body, _ = server.upload(
            "POST", f"/infer/{SEGMENTATION}?output=json", "file", name, path.read_bytes()
        )
        if case.kind == "good":
            assert status == 200, (name, body[:300])
        else:
            assert status == 422, (name, status, body[:300])
            assert json.loads(body)["detail"].startswith(f"{case.error.__name__}: "), (name, body[:300])
        answered += 1
    assert answered == len(cases) - 1
    assert server.request("GET", "/info/")[0] == 200


def test_an_unknown_model_or_image_is_a_404_that_names_it(server: Server) -> None:
    status, body = server.json("POST", f"/infer/no_such_model?image={MIAS}&output=json")
    assert status == 404 and "no_such_model" in body["detail"] and SEGMENTATION in body["detail"]
    status, body = server.json("POST", f"/infer/{SEGMENTATION}?image=no_such_image&output=json")
    assert status == 404 and "no_such_image" in body["detail"]
    status, _ = server.json("POST", "/train/no_such_model", {"max_epochs": 1})
    assert status == 404


def test_one_epoch_of_training_from_saved_labels_publishes_a_new_model(server: Server, app: Path) -> None:
    for name in PHANTOMS:
        label = (SAMPLE / "labels" / f"{name}.png").read_bytes()
        status, body, _ = server.upload(
            "PUT", f"/datastore/label?image={name}&tag=final", "label", f"{name}.png", label
        )
        assert status == 200, body[:500]
    model = app / "model" / SEGMENTATION / "models" / "model.pt"
    before = model.read_bytes()
    tiny = {
        "image_size": 128,
        "patch_size": [64, 64],
        "roi_size": [64, 64],
        "num_samples": 2,
        "batch_size": 1,
    }
    status, body = server.json("POST", f"/train/{SEGMENTATION}", {"max_epochs": 1, "val_split": 0.5, **tiny})
    assert status == 200, body
    record = wait_for_training(server)
    details = "\n".join(record.get("details", []))
    assert record["status"] == "DONE", details[-3000:]
    assert "Epoch: 1/1" in details and "published the best model" in details
    assert model.read_bytes() != before
    status, content, _ = server.request("POST", f"/infer/{SEGMENTATION}?image={PHANTOMS[0]}&output=image")
    assert status == 200 and png(content).shape == (512, 416)  # the new model serves


def test_one_epoch_of_classification_training_from_saved_classes(
    server: Server, app: Path, studies: Path
) -> None:
    empty = np.zeros((512, 416), np.uint8)
    labels = {  # a class given as a parameter, or read from the mask's largest value (1: benign)
        PHANTOMS[0]: ({"class": "malignant"}, (SAMPLE / "labels" / f"{PHANTOMS[0]}.png").read_bytes()),
        PHANTOMS[1]: ({"class": "normal"}, encode_png(empty)),
        MIAS: ({}, encode_png(np.pad(np.ones((200, 200), np.uint8), 412))),
    }
    for name, (params, mask) in labels.items():
        path = f"/datastore/label?image={name}&tag=final"
        status, body, _ = server.upload("PUT", path, "label", f"{name}.png", mask, params=json.dumps(params))
        assert status == 200, body[:500]
    model = app / "model" / CLASSIFICATION / "models" / "model.pt"
    before = model.read_bytes()
    tiny = {"image_size": [128, 104], "batch_size": 2}
    status, body = server.json(
        "POST", f"/train/{CLASSIFICATION}", {"max_epochs": 1, "val_split": 0.0, **tiny}
    )
    assert status == 200, body
    record = wait_for_training(server)
    details = "\n".join(record.get("details", []))
    assert record["status"] == "DONE", details[-3000:]
    assert "Epoch: 1/1" in details
    assert "published the best model" in details
    assert model.read_bytes() != before
    status, result = server.json("POST", f"/infer/{CLASSIFICATION}?image={PHANTOMS[0]}&output=json")
    assert status == 200 and set(result["probabilities"]) == {"normal", "benign", "malignant"}


def test_a_dicomweb_source_lists_mammography_series_and_infers_on_them(app: Path, studies: Path) -> None:
    files = [studies / f"{name}.dcm" for name in PHANTOMS]
    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    cache = app.parent / "dicomweb_cache"
    with (
        dicomweb_server(files) as url,
        running_server(
            app,
            url,
            app.parent / "dicomweb_server.log",
            {"skip_trainers": "true"},
            {"MONAI_LABEL_DICOMWEB_CACHE_PATH": str(cache)},
            python=LABEL_PYTHON,
        ) as server,
    ):
        status, sample = server.json("POST", "/activelearning/first")  # an unlabelled series of the source
        assert status == 200 and sample["id"] in {str(h.SeriesInstanceUID) for h in headers}, sample
        series = str(headers[0].SeriesInstanceUID)
        status, content, kind = server.request("POST", f"/infer/{SEGMENTATION}?image={series}&output=image")
        assert status == 200 and kind == "image/png", content[:500]
        assert png(content).shape == (headers[0].Rows, headers[0].Columns)
        status, body = server.json("POST", f"/infer/{SEGMENTATION}?image=1.2.3.4.5&output=json")
        assert status == 404
