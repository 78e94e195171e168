"""Per-image segmentation outputs: names, NIfTI/PNG encodings, overlay, lesion table, atomic files."""

from __future__ import annotations

import csv
import gzip
import io
import math
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import torch
from PIL import Image

from monai_mammo.data import MammoNiftiReader
from monai_mammo.io import encode_png
from monai_mammo.metrics import LESION_COLUMNS
from monai_mammo.outputs import (
    encode_nifti,
    output_name,
    overlay_image,
    write_lesion_csv,
    write_segmentation_outputs,
)


@pytest.mark.parametrize(
    ("filename", "root", "expected"),
    [
        ("/data/a/1-1.dcm", "/data", "a/1-1"),
        ("/data/b/1-1.DCM", "/data", "b/1-1"),
        ("/data/scan.nii.gz", None, "scan"),
        ("/elsewhere/x.png", "/data", "x"),
        ("/data/noext", "/data", "noext"),
    ],
)
def test_output_name(filename: str, root: str | None, expected: str) -> None:
    assert output_name(filename, root) == expected


def test_nifti_round_trip_keeps_values_spacing_and_axes(tmp_path: Path) -> None:
    array = np.arange(12, dtype=np.float32).reshape(3, 4)  # 3 rows, 4 columns
    image = nib.Nifti1Image.from_bytes(gzip.decompress(encode_nifti(array, [0.5, 0.25])))
    data = np.asarray(image.dataobj)
    assert data.shape == (3, 4) and data.dtype == np.float32  # (rows, columns), as MammoNiftiReader reads
    np.testing.assert_array_equal(data, array)
    np.testing.assert_allclose(image.header.get_zooms()[:2], (0.5, 0.25))
    (tmp_path / "m.nii.gz").write_bytes(encode_nifti(array, [0.5, 0.25]))
    read, meta = MammoNiftiReader(voi="raw").get_data(MammoNiftiReader(voi="raw").read(tmp_path / "m.nii.gz"))
    np.testing.assert_array_equal(read[0], array)
    np.testing.assert_allclose(meta["pixel_spacing"], (0.5, 0.25))
    unknown = nib.Nifti1Image.from_bytes(encode_nifti(array, [math.nan, math.nan], compress=False))
    np.testing.assert_allclose(unknown.header.get_zooms()[:2], (1.0, 1.0))


def test_png_encoding_refuses_non_uint8() -> None:
    mask = np.zeros((5, 6), np.uint8)
    mask[1:3, 2:4] = 255
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(encode_png(mask)))), mask)
    with pytest.raises(TypeError):
        encode_png(mask.astype(np.float32))


def test_overlay_is_reduced_and_marks_the_lesion() -> None:
    image = np.random.default_rng(0).random((300, 200)).astype(np.float32)
    prob = np.zeros_like(image)
    prob[100:160, 50:110] = 0.9
    rgb = overlay_image(image, prob, prob >= 0.5, max_size=100)
    assert rgb.shape == (100, 67, 3) and rgb.dtype == np.uint8
    inside, outside = rgb[40, 25], rgb[5, 5]
    assert inside[0] > inside[1] and inside[0] > inside[2]  # red heat inside the lesion
    assert abs(int(outside[0]) - int(outside[1])) <= 1  # grey elsewhere
    assert (rgb == (255, 255, 0)).all(axis=-1).any()  # the yellow outline


def test_overlay_heat_is_pure_red_weighted_by_alpha_times_prob() -> None:
    # a flat image is black after its 1st-99th percentile window: the pixel is then red * alpha * prob
    prob = np.zeros((8, 8), np.float32)
    prob[2, 2], prob[5, 5] = 1.0, 0.25
    rgb = overlay_image(np.full((8, 8), 7.0), prob, np.zeros((8, 8)), alpha=0.6)
    assert (
        rgb[2, 2].tolist() == [153, 0, 0]
        and rgb[5, 5].tolist() == [38, 0, 0]
        and rgb[0, 0].tolist() == [0, 0, 0]
    )


def test_write_segmentation_outputs(tmp_path: Path) -> None:
    prob = torch.zeros(1, 40, 30)
    prob[0, 5:10, 5:9] = 0.8
    prob[0, 30:33, 20:22] = 0.6
    image = torch.rand(1, 40, 30)
    written = write_segmentation_outputs(
        tmp_path, "case/img", prob, image=image, pixel_spacing=[0.1, 0.2], min_area_mm2=0.0
    )
    assert written.folder == tmp_path / "case" / "img"
    assert set(written.files) == {"mask_nifti", "mask_png", "prob_nifti", "overlay_png", "lesions_csv"}
    mask = np.asarray(Image.open(written.files["mask_png"]))
    assert mask.shape == (40, 30) and mask.sum() == 255 * (20 + 6)
    rows = list(csv.DictReader(written.files["lesions_csv"].open()))
    assert [int(r["area_px"]) for r in rows] == [20, 6]
    assert float(rows[0]["area_mm2"]) == pytest.approx(20 * 0.1 * 0.2)
    assert float(rows[0]["max_prob"]) == pytest.approx(0.8)
    assert len(written.lesions) == 2
    assert not [p for p in tmp_path.rglob(".*")]
    with pytest.raises(ValueError, match="original geometry"):
        write_segmentation_outputs(tmp_path, "bad", prob, image=torch.rand(1, 20, 30))
    with pytest.raises(ValueError, match="pixel_spacing"):  # refused before anything is written
        write_segmentation_outputs(tmp_path, "bad_spacing", prob, pixel_spacing=[0.1, 0.1, 0.1])
    assert not (tmp_path / "bad_spacing").exists()
    one_number = write_segmentation_outputs(tmp_path, "square", prob[None], pixel_spacing=0.1, min_area_mm2=0)
    assert one_number.lesions[0]["area_mm2"] == pytest.approx(20 * 0.01)  # (1, 1, H, W) and square pixels


@pytest.mark.parametrize(
    "spacing, working_size, areas",
    [
        ([0.1, 0.2], None, []),  # 0.4 and 0.12 mm²: below the default 4 mm²
        ([0.5, 0.5], None, [20]),  # 5 and 1.5 mm²
        (None, None, [20]),  # 16 pixels
        (None, 20, []),  # 16 pixels of a 20-pixel working image: 64 of these 40
        (None, 80, [20]),  # a larger working image: never fewer than 16 pixels of this one
    ],
)
def test_lesion_table_leaves_out_candidates_below_the_minimum_size(
    tmp_path: Path, spacing: list[float] | None, working_size: int | None, areas: list[int]
) -> None:
    prob = torch.zeros(1, 40, 30)
    prob[0, 5:10, 5:9] = 0.8
    prob[0, 30:33, 20:22] = 0.6
    written = write_segmentation_outputs(
        tmp_path, "img", prob, pixel_spacing=spacing, working_size=working_size
    )
    rows = list(csv.DictReader(written.files["lesions_csv"].open()))
    assert [int(r["area_px"]) for r in rows] == areas == [r["area_px"] for r in written.lesions]
    assert (np.asarray(Image.open(written.files["mask_png"])) > 0).sum() == 26  # the mask keeps them


def test_lesion_csv_has_a_header_without_rows(tmp_path: Path) -> None:
    path = write_lesion_csv(tmp_path / "l.csv", [])
    assert path.read_text().strip() == ",".join(LESION_COLUMNS)
